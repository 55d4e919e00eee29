"""Decide, without I/O, what a build does to each group's feeds and to the OPML.

:func:`plan` takes a :class:`Snapshot` (what the scan found: the groups to look at as
they are now, what was published before, which files feedwright owns and which of them
were changed behind its back, which posts are rejected) and returns a :class:`Plan`:
for each group, render its feeds, keep them as they were, remove them, or nothing.

The rules, each in one place:
- a group whose feeds held a post that is now rejected keeps those files as they were
  (a typo never empties a feed), and so does a group left with no posts because of it;
- a category or tag with no visible post loses its feeds; the site always has them; one
  the feed policy excludes (:func:`feedwright.group.excluded_groups`) loses them the
  same way;
- feeds are rendered again only when what they are rendered from (name and posts, with
  their content hashes) changed, or a file is missing or was changed on disk;
- the OPML is rendered again when the set of published groups or their names changed;
- with ``feeds.pages``, a group's page is one of its files, and a group is rendered again
  when its post count or newest date changed too; the site's page lists every group, so
  the site is rendered again whenever that list changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..config import Config
from ..group import display_name, listing, make_group
from ..layout import OPML, SITE, group_of_path, group_order, group_paths
from ..model import Group, GroupKey, Listing, ManifestEntry, Post


@dataclass(frozen=True, slots=True)
class GroupNow:
    """A group as the posts say it is now."""

    key: GroupKey
    #: Its newest visible posts without duplicates, in feed order, at most ``feeds.limit``.
    posts: tuple[Post, ...]
    #: Each post's content hash (what its entry is rendered from).
    shas: tuple[bytes, ...]
    #: Every spelling of its name among its visible posts.
    spellings: tuple[str, ...]
    #: How many visible posts it holds in all (counted only with ``feeds.pages``).
    count: int = 0


@dataclass(frozen=True, slots=True)
class GroupBefore:
    """A group as the last build published it."""

    #: The name its feeds carry.
    name: str
    #: What they were rendered from; ``None`` when they were kept as they were.
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the scan found."""

    #: The groups to decide on (every group, in a cold build), as they are now.
    groups: Mapping[GroupKey, GroupNow]
    #: Every group with feeds before this build.
    before: Mapping[GroupKey, GroupBefore]
    #: Files feedwright wrote (its manifest): the posts in each, and its group's name.
    owned: Mapping[str, ManifestEntry]
    #: Owned files that are missing or were changed since feedwright wrote them.
    broken: frozenset[str]
    #: Source paths of the posts that are rejected now.
    rejected: frozenset[str]
    #: The cache knew nothing: every group is in ``groups``, and the OPML is rendered.
    cold: bool = False
    #: Groups the feed policy leaves without feeds, and why (every such group whenever
    #: ``groups`` is not empty): they are decided as if they had no posts.
    excluded: Mapping[GroupKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Render:
    """Render the group's feeds and write those whose bytes change."""

    group: Group
    #: Each post's content hash (its body must still have it when it is rendered).
    shas: tuple[bytes, ...]
    #: What they are rendered from (recorded once every file is written).
    signature: bytes
    #: Files left as they are: they held a post that is now rejected.
    keep: frozenset[str] = frozenset()
    #: Owned files of the group that are no longer configured (a format was dropped).
    drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Keep:
    """Leave the group's feeds as they were (they held posts that are now rejected)."""

    key: GroupKey
    name: str
    files: frozenset[str]


@dataclass(frozen=True, slots=True)
class Remove:
    """The group has no feed any more: remove the files feedwright wrote for it."""

    key: GroupKey
    files: tuple[str, ...]


Decision = Render | Keep | Remove


@dataclass(frozen=True, slots=True)
class Plan:
    """What a build does, group by group, in group order."""

    decisions: tuple[Decision, ...]
    #: Every group with feeds after the build, and the name they carry.
    published: Mapping[GroupKey, str]
    #: Whether ``feeds.opml`` is rendered.
    opml: bool
    #: Owned files that belong to no group and are not the OPML (removed).
    stale: tuple[str, ...] = ()
    #: With ``feeds.pages``: every group with feeds after the build, as the site's page
    #: lists it.
    listed: Mapping[GroupKey, Listing] = field(default_factory=dict)

    @property
    def render(self) -> list[Render]:
        return [d for d in self.decisions if isinstance(d, Render)]


def signature(name: str, now: GroupNow) -> bytes:
    """What a group's feeds are rendered from: its name and each post's path and content."""
    data = json.dumps(
        [name, [[p.relpath, sha.hex()] for p, sha in zip(now.posts, now.shas, strict=True)]],
        ensure_ascii=False,
    )
    return hashlib.sha256(data.encode("utf-8")).digest()


def plan(snapshot: Snapshot, config: Config) -> Plan:
    """Decide every group of the snapshot (see the module's rules)."""
    owned_by: dict[GroupKey, list[str]] = {}
    stale: list[str] = []
    for path in sorted(snapshot.owned):
        key = group_of_path(path)
        if key is not None:
            owned_by.setdefault(key, []).append(path)
        elif path != OPML:
            stale.append(path)
    keys = set(snapshot.groups)
    keys |= {k for k in snapshot.excluded if k in snapshot.before or k in owned_by}
    if snapshot.cold:
        keys |= set(snapshot.before) | set(owned_by)
    published = {key: b.name for key, b in snapshot.before.items()}
    listed_before = _listed_before(snapshot, owned_by) if config.feeds.pages else {}
    listed = {key: listed_before.get(key, Listing(name, 0, "")) for key, name in published.items()}
    decisions: list[Decision] = []
    for key in sorted(keys, key=group_order):
        decision = _decide(snapshot, config, key, owned_by.get(key, []), listed_before.get(key))
        if decision is None:
            continue
        decisions.append(decision)
        if isinstance(decision, Render):
            published[key] = decision.group.name
            listed[key] = listing(decision.group)
        elif isinstance(decision, Keep):
            published[key] = decision.name
            listed[key] = listed_before.get(key, Listing(decision.name, 0, ""))
        else:
            published.pop(key, None)
            listed.pop(key, None)
    before = {key: b.name for key, b in snapshot.before.items()}
    opml = snapshot.cold or published != before or _damaged(snapshot, OPML)
    if config.feeds.pages:
        decisions = _site_lists(snapshot, decisions, listed, listed_before)
    return Plan(
        decisions=tuple(decisions),
        published=published,
        opml=opml,
        stale=tuple(stale) if snapshot.cold else (),
        listed=listed if config.feeds.pages else {},
    )


def _listed_before(
    snapshot: Snapshot, owned_by: Mapping[GroupKey, list[str]]
) -> dict[GroupKey, Listing]:
    """Each group as the last build listed it (its files' manifest entries say)."""
    out = {}
    for key, paths in owned_by.items():
        entry = snapshot.owned[paths[0]]
        out[key] = Listing(entry.name, entry.count, entry.newest)
    return out


def _site_lists(
    snapshot: Snapshot,
    decisions: list[Decision],
    listed: Mapping[GroupKey, Listing],
    listed_before: Mapping[GroupKey, Listing],
) -> list[Decision]:
    """The site's page lists every group: render the site again when that list changed."""
    if any(isinstance(d, Render) and d.group.key == SITE for d in decisions):
        return decisions
    now = snapshot.groups.get(SITE)
    if now is None or dict(listed) == dict(listed_before):
        return decisions
    if any(d.key == SITE for d in decisions if isinstance(d, Keep | Remove)):
        return decisions
    name = display_name(now.spellings)
    site = Render(
        make_group(SITE, now.spellings, now.posts, count=now.count),
        now.shas,
        signature(name, now),
        keep=_held(snapshot, [p for p in snapshot.owned if group_of_path(p) == SITE]),
    )
    return [site, *decisions]


def _held(snapshot: Snapshot, owned: list[str]) -> frozenset[str]:
    """Owned files that hold a post which is rejected now (they are kept as they were)."""
    return frozenset(
        p for p in owned if not snapshot.rejected.isdisjoint(snapshot.owned[p].sources)
    )


def _damaged(snapshot: Snapshot, path: str) -> bool:
    return path not in snapshot.owned or path in snapshot.broken


def _decide(
    snapshot: Snapshot,
    config: Config,
    key: GroupKey,
    owned: list[str],
    listed_before: Listing | None,
) -> Decision | None:
    """One group's decision; ``None`` when its feeds stay as they are."""
    held = _held(snapshot, owned)
    now = None if key in snapshot.excluded else snapshot.groups.get(key)
    before = snapshot.before.get(key)
    if now is None or (not now.posts and key.kind != "site"):
        if held:
            # The name the kept files carry (their manifest says it), so that a cold
            # build, which knows only the manifest, lists them under the same name.
            name = snapshot.owned[min(held)].name or (before.name if before is not None else "")
            return Keep(key, name, held)
        if owned or before is not None:
            return Remove(key, tuple(owned))
        return None
    name = display_name(now.spellings)
    sig = signature(name, now)
    paths = group_paths(config, key)
    drop = tuple(p for p in owned if p not in paths)
    intact = not drop and not any(_damaged(snapshot, p) for p in paths)
    group = make_group(key, now.spellings, now.posts, count=now.count)
    same_listing = not config.feeds.pages or listed_before == listing(group)
    if before is not None and before.signature == sig and intact and same_listing:
        return None
    return Render(group, now.shas, sig, keep=held, drop=drop)
