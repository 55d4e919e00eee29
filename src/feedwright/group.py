"""Pure: posts → the site group, one group per category and one per tag."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from .config import Config
from .layout import group_order
from .model import Group, GroupKind, Post
from .slug import slugify

#: Slugs longer than this (in UTF-8 bytes) cannot be folder names; their groups are skipped.
MAX_SLUG_BYTES = 200


def order_key(post: Post) -> tuple[float, str]:
    """Newest first; equal instants by URL ascending."""
    return (-post.published.timestamp(), post.url)


def _selected(selection: bool | tuple[str, ...]) -> set[str] | None:
    """``None`` means every name; otherwise the set of slugs to publish."""
    if selection is True:
        return None
    if selection is False:
        return set()
    return {slugify(name) for name in selection}


class _Bucket:
    __slots__ = ("posts", "spellings")

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.spellings: set[str] = set()


def group_posts(posts: Iterable[Post], config: Config) -> tuple[list[Group], list[str]]:
    """Every group with its newest ``feeds.limit`` posts, and warnings about names.

    The in-memory reference for the incremental build: the same :func:`memberships`.
    """
    limit = config.feeds.limit
    buckets: dict[tuple[str, str], _Bucket] = {("site", ""): _Bucket()}
    warnings: list[str] = []
    for post in sorted(posts, key=order_key):
        members, more = memberships(post, config)
        warnings.extend(more)
        for kind, slug, name, first in members:
            bucket = buckets.setdefault((kind, slug), _Bucket())
            bucket.spellings.add(name)
            if first and len(bucket.posts) < limit:
                bucket.posts.append(post)
    groups = []
    for kind, slug in sorted(buckets, key=group_order):
        bucket = buckets[(kind, slug)]
        spellings = tuple(sorted(bucket.spellings - {""}))
        if len(spellings) > 1:
            warnings.append(collision_warning(kind, slug, spellings))
        groups.append(
            Group(
                kind=cast(GroupKind, kind),
                slug=slug,
                name=spellings[0] if spellings else "",
                posts=tuple(bucket.posts),
                spellings=spellings,
            )
        )
    return groups, warnings


def collision_warning(kind: str, slug: str, spellings: Iterable[str]) -> str:
    """The warning for names that slugify alike and so share one feed."""
    plural = "categories" if kind == "category" else "tags"
    return (
        f"{plural} {', '.join(map(repr, spellings))} share the slug {slug!r}: "
        "they are published as one feed"
    )


#: (kind, slug, name, first): ``first`` is False for a second spelling of the same slug.
Membership = tuple[str, str, str, bool]


def memberships(post: Post, config: Config) -> tuple[list[Membership], list[str]]:
    """The groups one post belongs to (the site first), and warnings about its names.

    The same rules as :func:`group_posts`, one post at a time, for the incremental build.
    """
    out: list[Membership] = [("site", "", "", True)]
    warnings: list[str] = []
    for kind, attr, selection in (
        ("category", "categories", config.feeds.categories),
        ("tag", "tags", config.feeds.tags),
    ):
        wanted = _selected(selection)
        if wanted is not None and not wanted:
            continue
        seen: set[str] = set()
        for name in getattr(post, attr):
            slug = slugify(name)
            if wanted is not None and slug not in wanted:
                continue
            if not slug:
                warnings.append(
                    f"{post.relpath}: {kind} {name!r} has an empty slug; "
                    "no feed is published for it"
                )
                continue
            if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
                warnings.append(
                    f"{post.relpath}: {kind} {name[:40]!r}…: the slug is longer "
                    f"than {MAX_SLUG_BYTES} bytes; no feed is published for it"
                )
                continue
            out.append((kind, slug, name, slug not in seen))
            seen.add(slug)
    return out, warnings
