"""The ``feeds`` section: formats, limits, which categories and tags get feeds (a list,
or a policy), pages, pictures, the OPML's format and the RFC 5005 archives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import cast

from ..model import Format, GroupKind
from .reader import Reader, show
from .types import FORMATS, IMAGES, FeedPolicy, FeedsConfig


def _selection(r: Reader, key: str) -> bool | tuple[str, ...]:
    value = r.data.get(key, True)
    if isinstance(value, bool) or isinstance(value, Mapping):
        r.used.add(key)
        return True if isinstance(value, Mapping) else value
    return r.strings(key, [])


def _policy(r: Reader, key: str) -> FeedPolicy | None:
    """``feeds.categories`` / ``feeds.tags`` as a mapping: a :class:`FeedPolicy`."""
    if not isinstance(r.data.get(key), Mapping):
        return None
    p = r.section(key)

    def optional(name: str) -> int | None:
        p.used.add(name)
        return None if p.data.get(name) is None else p.integer(name, 1, 1)

    only = None if p.data.get("only") is None else p.strings("only", [])
    p.used.add("only")
    return FeedPolicy(
        min_posts=p.integer("min_posts", 1, 1),
        only=only,
        except_=p.strings("except", []),
        max_feeds=optional("max_feeds"),
        limit=optional("limit"),
    )


def feeds_config(r: Reader) -> FeedsConfig:
    formats = r.strings("formats", list(FORMATS))
    for f in formats:
        if f not in FORMATS:
            raise r.fail("formats", f"expected some of {', '.join(FORMATS)}, got {f!r}")
    content = r.text("content", "full")
    if content not in ("full", "summary"):
        raise r.fail("content", f"expected 'full' or 'summary', got {content!r}")
    images = r.text("images", "front_matter")
    if images not in IMAGES:
        raise r.fail("images", f"expected one of {', '.join(IMAGES)}, got {images!r}")
    feeds = FeedsConfig(
        formats=tuple(cast(Format, f) for f in dict.fromkeys(formats)),
        limit=r.integer("limit", 20, 1),
        categories=_selection(r, "categories"),
        tags=_selection(r, "tags"),
        content=content,
        category_page=r.text("category_page", "") or None,
        tag_page=r.text("tag_page", "") or None,
        images=images,
        pages=r.boolean("pages", True),
        category_policy=_policy(r, "categories"),
        tag_policy=_policy(r, "tags"),
        archives=_archives(r),
        opml_format=_opml_format(r, formats),
    )
    formats_, groups = _archive_set(r, feeds)
    return replace(feeds, archives_formats=formats_, archives_groups=groups)


def _opml_format(r: Reader, formats: tuple[str, ...]) -> Format | None:
    """``feeds.opml_format``: one of ``feeds.formats`` (a reader imports each group once);
    by default the first of atom, rss, json that is configured."""
    value = r.get("opml_format")
    if value is None:
        return next((cast(Format, f) for f in FORMATS if f in formats), None)
    if not formats:
        raise r.fail("opml_format", "feeds.formats is empty: no format to list")
    if value not in formats:
        listed = ", ".join(f for f in FORMATS if f in formats)
        raise r.fail("opml_format", f"expected one of feeds.formats ({listed}), got {show(value)}")
    return cast(Format, value)


#: The values of ``feeds.archives`` that turn archives on.
ARCHIVE_PERIODS = ("monthly", "yearly")


def _archives(r: Reader) -> str | None:
    """``feeds.archives``: ``monthly``, ``yearly`` or ``false`` (the default: no archives)."""
    value = r.get("archives", False)
    if value is False:
        return None
    if isinstance(value, str) and value in ARCHIVE_PERIODS:
        return value
    raise r.fail("archives", f"expected monthly, yearly or false, got {show(value)}")


#: The values of ``feeds.archives_groups``: each kind of group by its plural, as the
#: ``feeds.categories`` / ``feeds.tags`` keys name them.
ARCHIVE_GROUPS: dict[str, GroupKind] = {"site": "site", "categories": "category", "tags": "tag"}


def _archive_set(r: Reader, feeds: FeedsConfig) -> tuple[tuple[Format, ...], tuple[GroupKind, ...]]:
    """``feeds.archives_formats`` (default ``[atom]``: RFC 5005 is an Atom mechanism) and
    ``feeds.archives_groups`` (default ``[site, categories]``). An archive links
    ``current`` to its group's feed in its format, so its formats must be published."""
    formats = r.strings("archives_formats", ["atom"])
    for f in formats:
        if f not in FORMATS:
            raise r.fail("archives_formats", f"expected some of {', '.join(FORMATS)}, got {f!r}")
    if not formats:
        raise r.fail("archives_formats", "expected at least one format (or feeds.archives: false)")
    missing = [f for f in formats if f not in feeds.formats]
    if missing and feeds.archives:
        raise r.fail(
            "archives_formats",
            f"{missing[0]} is not among feeds.formats ({', '.join(feeds.formats)}): "
            "archives are written only in published formats",
        )
    groups = r.strings("archives_groups", ["site", "categories"])
    for g in groups:
        if g not in ARCHIVE_GROUPS:
            raise r.fail(
                "archives_groups", f"expected some of {', '.join(ARCHIVE_GROUPS)}, got {g!r}"
            )
    if not groups:
        raise r.fail("archives_groups", "expected at least one kind (or feeds.archives: false)")
    # in the order of feeds.formats (the archive's files are listed in it)
    return (
        tuple(f for f in feeds.formats if f in formats),
        tuple(ARCHIVE_GROUPS[g] for g in ARCHIVE_GROUPS if g in groups),
    )
