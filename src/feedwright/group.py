"""Pure: posts → the site group, one group per category and one per tag."""

from __future__ import annotations

from collections.abc import Iterable

from .config import Config
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
    """Every group with its newest ``feeds.limit`` posts, and warnings about slugs."""
    limit = config.feeds.limit
    ordered = sorted(posts, key=order_key)
    groups = [Group(kind="site", slug="", name="", posts=tuple(ordered[:limit]))]
    warnings: list[str] = []
    for kind, attr, selection in (
        ("category", "categories", config.feeds.categories),
        ("tag", "tags", config.feeds.tags),
    ):
        wanted = _selected(selection)
        if wanted is not None and not wanted:
            continue
        buckets: dict[str, _Bucket] = {}
        for post in ordered:
            seen: set[str] = set()
            for name in getattr(post, attr):
                slug = slugify(name)
                if wanted is not None and slug not in wanted:
                    continue
                bucket = buckets.get(slug)
                if bucket is None:
                    bucket = buckets[slug] = _Bucket()
                bucket.spellings.add(name)
                if slug not in seen and len(bucket.posts) < limit:
                    bucket.posts.append(post)
                seen.add(slug)
        for slug in sorted(buckets):
            bucket = buckets[slug]
            spellings = tuple(sorted(bucket.spellings))
            group = _make_group(kind, slug, spellings, bucket.posts, warnings)
            if group is not None:
                groups.append(group)
    return groups, warnings


def _make_group(
    kind: GroupKind, slug: str, spellings: tuple[str, ...], posts: list[Post], warnings: list[str]
) -> Group | None:
    plural = "categories" if kind == "category" else "tags"
    if not slug:
        warnings.append(
            f"{kind} {', '.join(map(repr, spellings))}: the slug is empty; "
            "no feed is published for it"
        )
        return None
    if len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        warnings.append(
            f"{kind} {spellings[0][:40]!r}…: the slug is longer than "
            f"{MAX_SLUG_BYTES} bytes; no feed is published for it"
        )
        return None
    if len(spellings) > 1:
        warnings.append(
            f"{plural} {', '.join(map(repr, spellings))} share the slug {slug!r}: "
            "they are published as one feed"
        )
    return Group(kind=kind, slug=slug, name=spellings[0], posts=tuple(posts), spellings=spellings)


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
