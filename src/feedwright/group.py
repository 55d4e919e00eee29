"""Pure: the rules that put posts into groups and groups into feeds, each defined once.

The engine's SQL only stores and looks up what these functions compute (a post's
:func:`rank` and :func:`visible_from`, its :func:`memberships`); which posts a feed
holds, in which order, which of two posts with one id wins and what a group is called
are decided here, by the same code for the incremental engine and the tests' reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, cast

from .config import Config, FeedPolicy
from .dates import in_zone
from .layout import group_order
from .model import Group, GroupKind, Listing, Post
from .slug import slugify

#: Slugs longer than this (in UTF-8 bytes) cannot be folder names; their groups are skipped.
MAX_SLUG_BYTES = 200
#: :func:`visible_from` of a post that is shown whatever its date (``future: true``).
ALWAYS = -(2**62)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def instant_us(moment: datetime) -> int:
    """An aware datetime as exact microseconds since the Unix epoch."""
    return (moment - _EPOCH) // _MICROSECOND


# -- order -------------------------------------------------------------------------------------
def rank(post: Post) -> int:
    """The first part of :func:`order_key`, as one integer: newer posts rank lower.

    The cache keeps it so that SQL can walk a group newest first; ties are then put in
    order by :func:`order_key` itself.
    """
    return -instant_us(post.published)


def order_key(post: Post) -> tuple[int, str, str]:
    """Feed order: newest first; equal instants by URL ascending, then by source path."""
    return (rank(post), post.url, post.relpath)


# -- time --------------------------------------------------------------------------------------
def visible_from(post: Post, config: Config) -> int:
    """The instant (µs) from which a post is published: its date, or :data:`ALWAYS` when
    the config or the post says ``future: true``."""
    if config.future or post.future:
        return ALWAYS
    return instant_us(post.published)


def visible_bound(now: datetime) -> int:
    """The largest :func:`visible_from` of a post visible at ``now``: the cache keeps each
    post's ``visible_from`` and its SQL compares it with this bound (one comparison,
    ``feedwright.engine.cache.schema.visible``), computed here once per build."""
    return instant_us(now)


def is_visible(post: Post, config: Config, now: datetime) -> bool:
    """Posts dated after ``now`` are left out unless the config or the post says ``future``."""
    return visible_from(post, config) <= visible_bound(now)


# -- duplicate entry ids -----------------------------------------------------------------------
def claim_order(post: Post) -> tuple[bool, tuple[int, str, str]]:
    """Which of posts that share an entry id comes first: one whose id is not its
    permalink (its own ``id:``, or the id the ledger fixed before its permalink moved)
    before one whose permalink merely is that id; then feed order."""
    return (post.id_is_permalink, order_key(post))


def first_in_order(posts: Iterable[Post]) -> Post:
    """Of posts that share an entry id, the one that is published (:func:`claim_order`):
    a post that holds an id keeps it when a new post's permalink lands on it."""
    return min(posts, key=claim_order)


def split_duplicates(posts: Iterable[Post]) -> tuple[list[Post], list[tuple[Post, Post]]]:
    """Posts with distinct entry ids, and each rejected post with the post that won its id."""
    by_id: dict[str, list[Post]] = {}
    for post in posts:
        by_id.setdefault(post.id, []).append(post)
    kept: list[Post] = []
    losers: list[tuple[Post, Post]] = []
    for same in by_id.values():
        winner = first_in_order(same)
        kept.append(winner)
        losers.extend((p, winner) for p in same if p is not winner)
    return kept, losers


# -- names -------------------------------------------------------------------------------------
def display_name(spellings: Iterable[str]) -> str:
    """A group's name: the first of its spellings in code-point order (``""`` for none)."""
    return min(spellings, default="")


def collision_warning(kind: str, slug: str, spellings: Iterable[str]) -> str:
    """The warning for names that slugify alike and so share one feed."""
    plural = "categories" if kind == "category" else "tags"
    return (
        f"{plural} {', '.join(map(repr, spellings))} share the slug {slug!r}: "
        "they are published as one feed"
    )


# -- membership --------------------------------------------------------------------------------
class Membership(NamedTuple):
    """One group a post is in, and the names the post gives it (``()`` for the site)."""

    kind: str
    slug: str
    names: tuple[str, ...]


def _selected(selection: bool | tuple[str, ...]) -> set[str] | None:
    """``None`` means every name; otherwise the set of slugs to publish."""
    if selection is True:
        return None
    if selection is False:
        return set()
    return {slugify(name) for name in selection}


#: Memberships without warnings, by the names they were made from, with the selections
#: (``feeds.categories``, ``feeds.tags``) they were made with: a site's posts repeat a few
#: sets of categories and tags (a few dozen names at most kept; emptied when full).
_KNOWN: dict[
    tuple[tuple[str, ...], tuple[str, ...]], tuple[object, object, tuple[Membership, ...]]
] = {}


def memberships(post: Post, config: Config) -> tuple[list[Membership], list[str]]:
    """The groups one post belongs to (the site first), and warnings about its names."""
    feeds = config.feeds
    key = (post.categories, post.tags)
    known = _KNOWN.get(key)
    if known is not None and known[0] == feeds.categories and known[1] == feeds.tags:
        return list(known[2]), []
    out, warnings = _memberships(post, config)
    if not warnings and len(post.categories) + len(post.tags) <= 64:
        if len(_KNOWN) >= 4096:
            _KNOWN.clear()
        _KNOWN[key] = (feeds.categories, feeds.tags, tuple(out))
    return out, warnings


def _memberships(post: Post, config: Config) -> tuple[list[Membership], list[str]]:
    out = [Membership("site", "", ())]
    warnings: list[str] = []
    for kind, names, selection in (
        ("category", post.categories, config.feeds.categories),
        ("tag", post.tags, config.feeds.tags),
    ):
        wanted = _selected(selection)
        if wanted is not None and not wanted:
            continue
        by_slug: dict[str, list[str]] = {}
        for name in names:
            slug = slugify(name)
            if wanted is not None and slug not in wanted:
                continue
            if not slug:
                warnings.append(
                    f"{post.relpath}: {kind} {name!r} has an empty slug; "
                    "no feed is published for it"
                )
            elif len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
                warnings.append(
                    f"{post.relpath}: {kind} {name[:40]!r}…: the slug is longer "
                    f"than {MAX_SLUG_BYTES} bytes; no feed is published for it"
                )
            else:
                by_slug.setdefault(slug, []).append(name)
        out.extend(Membership(kind, slug, tuple(n)) for slug, n in by_slug.items())
    return out, warnings


# -- feed policy -------------------------------------------------------------------------------
_PLURAL = {"category": "categories", "tag": "tags"}


def policy_of(config: Config, kind: str) -> FeedPolicy | None:
    """The policy of a kind of group (``feeds.categories``/``feeds.tags`` as a mapping)."""
    if kind == "category":
        return config.feeds.category_policy
    if kind == "tag":
        return config.feeds.tag_policy
    return None


def has_policy(config: Config) -> bool:
    return config.feeds.category_policy is not None or config.feeds.tag_policy is not None


def feed_limit(config: Config, kind: str) -> int:
    """Posts per feed of a kind of group: the policy's ``limit``, else ``feeds.limit``."""
    policy = policy_of(config, kind)
    if policy is not None and policy.limit is not None:
        return policy.limit
    return config.feeds.limit


def excluded_groups(
    config: Config, sizes: Mapping[tuple[str, str], int]
) -> dict[tuple[str, str], str]:
    """The groups a feed policy leaves without feeds, each with why: the one definition of
    the policy. ``sizes`` holds every group with visible posts (its count of visible posts
    without duplicates). In order: ``only``, ``except``, ``min_posts``, then ``max_feeds``
    keeps the largest of the rest (equal sizes by slug)."""
    out: dict[tuple[str, str], str] = {}
    for kind, plural in _PLURAL.items():
        policy = policy_of(config, kind)
        if policy is None:
            continue
        where = f"feeds.{plural}"
        only = None if policy.only is None else {slugify(n) for n in policy.only}
        never = {slugify(n) for n in policy.except_}
        eligible: list[tuple[int, str]] = []
        for (k, slug), size in sizes.items():
            if k != kind or size <= 0:
                continue
            if only is not None and slug not in only:
                out[(k, slug)] = f"not in {where}.only"
            elif slug in never:
                out[(k, slug)] = f"in {where}.except"
            elif size < policy.min_posts:
                posts = "1 post" if size == 1 else f"{size} posts"
                out[(k, slug)] = f"{posts}, fewer than {where}.min_posts ({policy.min_posts})"
            else:
                eligible.append((-size, slug))
        if policy.max_feeds is not None:
            for _size, slug in sorted(eligible)[policy.max_feeds :]:
                out[(kind, slug)] = (
                    f"not among the {policy.max_feeds} largest {plural} ({where}.max_feeds)"
                )
    return out


# -- archives ----------------------------------------------------------------------------------
def archive_period(post: Post, every: str, tz: str) -> str:
    """The RFC 5005 archive a post is in: ``YYYY/MM`` (``monthly``) or ``YYYY`` (``yearly``)
    of its date in the site's zone ``tz``, as the permalink's date parts. Periods sort in
    time order as strings."""
    d = in_zone(post.published, tz)
    return f"{d.year:04d}/{d.month:02d}" if every == "monthly" else f"{d.year:04d}"


def archive_neighbours(periods: Sequence[str], i: int) -> tuple[str | None, str | None]:
    """The older and newer neighbours of ``periods[i]`` (``periods`` in time order)."""
    older = periods[i - 1] if i > 0 else None
    newer = periods[i + 1] if i + 1 < len(periods) else None
    return older, newer


def archive_posts(posts: Iterable[Post], every: str, tz: str) -> dict[str, list[Post]]:
    """Posts by archive period, each period's in feed order (the in-memory way)."""
    out: dict[str, list[Post]] = {}
    for post in sorted(posts, key=order_key):
        out.setdefault(archive_period(post, every, tz), []).append(post)
    return out


# -- feeds -------------------------------------------------------------------------------------
def newest(candidates: Iterable[Post], limit: int) -> tuple[Post, ...]:
    """The ``limit`` first posts in feed order."""
    return tuple(sorted(candidates, key=order_key)[:limit])


def group_posts(posts: Iterable[Post], config: Config) -> tuple[list[Group], list[str]]:
    """Every group of ``posts`` (visible, without duplicates) that the feed policy keeps,
    with its newest :func:`feed_limit` posts, and warnings about names: the in-memory way,
    for the tests' reference."""
    members: dict[tuple[str, str], list[Post]] = {("site", ""): []}
    spellings: dict[tuple[str, str], set[str]] = {("site", ""): set()}
    warnings: list[str] = []
    for post in posts:
        found, more = memberships(post, config)
        warnings.extend(more)
        for kind, slug, names in found:
            members.setdefault((kind, slug), []).append(post)
            spellings.setdefault((kind, slug), set()).update(names)
    excluded = excluded_groups(config, {key: len(posts) for key, posts in members.items()})
    groups = []
    for key in sorted(members, key=group_order):
        if key in excluded:
            continue
        names = tuple(sorted(spellings[key]))
        if len(names) > 1:
            warnings.append(collision_warning(key[0], key[1], names))
        chosen = newest(members[key], feed_limit(config, key[0]))
        groups.append(make_group(key, names, chosen, count=len(members[key])))
    return groups, warnings


def make_group(
    key: tuple[str, str], spellings: Sequence[str], posts: tuple[Post, ...], *, count: int
) -> Group:
    """A group named by :func:`display_name`; ``count`` visible posts in all."""
    return Group(
        kind=cast(GroupKind, key[0]),
        slug=key[1],
        name=display_name(spellings),
        posts=posts,
        spellings=tuple(sorted(spellings)),
        count=count,
    )


def listing(group: Group) -> Listing:
    """What the output folder's page says of a group: name, post count, newest date."""
    newest_post = group.posts[0].published.isoformat() if group.posts else ""
    return Listing(group.name, group.count, newest_post)
