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
  the site is rendered again whenever that list changed;
- with ``feeds.archives``, each group of a kind ``feeds.archives_groups`` names has one
  RFC 5005 archive per period with posts, in ``feeds.archives_formats``. An
  archive is rendered again only when what it is rendered from changed: the group's name,
  its posts (with their content hashes), or its neighbours in the chain (a period that
  appears or empties next to it); or a file of it is missing or was changed on disk. An
  archive that held a post that is now rejected is kept as it was; one whose period has no
  post any more is removed. The subscription feed links ``prev-archive`` to the newest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..config import Config
from ..group import archive_neighbours, display_name, listing, make_group
from ..layout import (
    FILENAMES,
    OPML,
    SITE,
    archive_formats,
    archive_of_path,
    archive_paths,
    archive_relpath,
    group_of_path,
    group_order,
    group_paths,
    is_archive_path,
)
from ..model import ArchiveLinks, Group, GroupKey, Listing, ManifestEntry, Post
from .rows import Entry, Source


@dataclass(frozen=True, slots=True)
class GroupNow:
    """A group as the posts say it is now."""

    key: GroupKey
    #: Its newest visible posts without duplicates, in feed order, at most ``feeds.limit``,
    #: each with its content hash (what its entry is rendered from).
    entries: tuple[Entry, ...]
    #: Every spelling of its name among its visible posts.
    spellings: tuple[str, ...]
    #: How many visible posts it holds in all (counted only with ``feeds.pages``).
    count: int = 0

    @property
    def posts(self) -> tuple[Post, ...]:
        return tuple(e.post for e in self.entries)


@dataclass(frozen=True, slots=True)
class GroupBefore:
    """A group as the last build published it."""

    #: The name its feeds carry.
    name: str
    #: What they were rendered from; ``None`` when they were kept as they were.
    signature: bytes | None


@dataclass(frozen=True, slots=True)
class PeriodNow:
    """One archive period of a group, as the posts say it is now."""

    #: Its visible posts (duplicates left out) by path and content hash, in path order.
    sources: tuple[Source, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(s.path for s in self.sources)


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
    #: Pages of groups in ``groups`` that feedwright did not write but something is in the
    #: place of (someone's own ``index.html``: never written over).
    occupied: frozenset[str] = frozenset()
    #: Groups the feed policy leaves without feeds, and why (every such group whenever
    #: ``groups`` is not empty): they are decided as if they had no posts.
    excluded: Mapping[GroupKey, str] = field(default_factory=dict)
    #: With ``feeds.archives``: every period with posts of each group in ``groups``.
    archives: Mapping[GroupKey, Mapping[str, PeriodNow]] = field(default_factory=dict)
    #: The archives the last build published for those groups, each period's signature
    #: (``None``: kept as it was, or not rendered: look again).
    archived: Mapping[GroupKey, Mapping[str, bytes | None]] = field(default_factory=dict)
    #: Whether ``owned`` holds the archive files' entries: only a build that may decide an
    #: archive (a cold one, or one that looks at a group) reads them.
    archives_read: bool = True
    #: Without them: the archive files the last builds wrote (the report's unchanged).
    unlooked: frozenset[str] = frozenset()
    #: A manifest file could not be read (``owned`` was rebuilt from the cache): it is
    #: saved again.
    damaged: bool = False
    #: The manifest read holds archive files' entries (written before they were kept
    #: apart): it is split when saved.
    mixed: bool = False


@dataclass(frozen=True, slots=True)
class Render:
    """Render the group's feeds and write those whose bytes change."""

    key: GroupKey
    #: The posts of its feeds, in feed order, each with the content hash its body must
    #: still have when it is rendered.
    entries: tuple[Entry, ...]
    #: Every spelling of its name (the first is its name), and its count of posts.
    spellings: tuple[str, ...]
    count: int
    #: What they are rendered from (recorded once every file is written).
    signature: bytes
    #: Files left as they are: they held a post that is now rejected.
    keep: frozenset[str] = frozenset()
    #: Owned files of the group that are no longer configured (a format was dropped).
    drop: tuple[str, ...] = ()
    #: The newest archive's period (the feed's ``prev-archive``), with archives on.
    archive: str | None = None

    @property
    def group(self) -> Group:
        """The group as its feeds show it."""
        posts = tuple(e.post for e in self.entries)
        return make_group(self.key, self.spellings, posts, count=self.count)


@dataclass(frozen=True, slots=True)
class ArchiveRender:
    """Render one archive of a group and write those of its files whose bytes change."""

    key: GroupKey
    #: The group's name (its feeds' title).
    name: str
    #: Its period and neighbours.
    links: ArchiveLinks
    #: Its posts (the apply step reads them from the cache).
    period: PeriodNow
    #: What it is rendered from (recorded once every file is written).
    signature: bytes
    #: Files left as they are: they held a post that is now rejected.
    keep: frozenset[str] = frozenset()
    #: Owned files of the archive that are no longer configured (a format was dropped).
    drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArchiveKeep:
    """An archive whose period has no post now, but held one that is rejected: kept."""

    key: GroupKey
    period: str
    files: frozenset[str]


@dataclass(frozen=True, slots=True)
class ArchiveRemove:
    """An archive whose period has no post any more (or archives are off): removed."""

    key: GroupKey
    period: str
    files: tuple[str, ...]


ArchiveDecision = ArchiveRender | ArchiveKeep | ArchiveRemove


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
    #: What happens to archives, group by group, in time order within a group.
    archives: tuple[ArchiveDecision, ...] = ()

    @property
    def render(self) -> list[Render]:
        return [d for d in self.decisions if isinstance(d, Render)]


def signature(name: str, now: GroupNow, archive: str | None = None) -> bytes:
    """What a group's feeds are rendered from: its name and each post's path and content
    (and, with archives on, the newest archive's period: its ``prev-archive`` link)."""
    parts: list[object] = [
        name,
        [[e.post.relpath, e.sha.hex()] for e in now.entries],
    ]
    if archive is not None:
        parts.append(archive)
    data = json.dumps(parts, ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).digest()


def archive_signature(name: str, links: ArchiveLinks, period: PeriodNow) -> bytes:
    """What an archive is rendered from: the group's name, its period and neighbours, and
    each post's path and content."""
    posts = [[path, sha.hex()] for path, sha in period.sources]
    data = json.dumps([name, links.period, links.older, links.newer, posts], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).digest()


def plan(snapshot: Snapshot, config: Config) -> Plan:
    """Decide every group of the snapshot (see the module's rules)."""
    owned_by: dict[GroupKey, list[str]] = {}
    archives_by: dict[GroupKey, dict[str, list[str]]] = {}
    stale: list[str] = []
    for path in sorted(snapshot.owned):
        if is_archive_path(path):  # a site's archives may be hundreds of thousands of files
            if snapshot.cold:
                _add_archive(archives_by, path, stale)
            continue
        key = group_of_path(path)
        if key is not None:
            owned_by.setdefault(key, []).append(path)
        elif path != OPML:
            stale.append(path)
    if not snapshot.cold:  # only the archives of the groups looked at
        for path in _archives_near(snapshot):
            _add_archive(archives_by, path, stale)
    keys = set(snapshot.groups)
    keys |= {k for k in snapshot.excluded if k in snapshot.before or k in owned_by}
    if snapshot.cold:
        keys |= set(snapshot.before) | set(owned_by) | set(archives_by)
    published = {key: b.name for key, b in snapshot.before.items()}
    listed_before = _listed_before(snapshot, owned_by) if config.feeds.pages else {}
    listed = {key: listed_before.get(key, Listing(name, 0, "")) for key, name in published.items()}
    decisions: list[Decision] = []
    archives: list[ArchiveDecision] = []
    for key in sorted(keys, key=group_order):
        archives += _decide_archives(snapshot, config, key, archives_by.get(key, {}))
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
        decisions = _site_lists(snapshot, config, decisions, listed, listed_before)
    return Plan(
        decisions=tuple(decisions),
        published=published,
        opml=opml,
        stale=tuple(stale) if snapshot.cold else (),
        listed=listed if config.feeds.pages else {},
        archives=tuple(archives),
    )


def _add_archive(
    archives_by: dict[GroupKey, dict[str, list[str]]], path: str, stale: list[str]
) -> None:
    archive = archive_of_path(path)
    if archive is None:
        stale.append(path)
    else:
        archives_by.setdefault(archive[0], {}).setdefault(archive[1], []).append(path)


def _archives_near(snapshot: Snapshot) -> list[str]:
    """The owned archive files of the groups looked at: those of every period they have
    now or had at the last build, in any format."""
    found: set[str] = set()
    for key in {*snapshot.groups, *snapshot.excluded}:
        periods = set(snapshot.archives.get(key, ())) | set(snapshot.archived.get(key, ()))
        for fmt in FILENAMES:
            found.update(archive_relpath(key, period, fmt) for period in periods)
    return sorted(found.intersection(snapshot.owned))


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
    config: Config,
    decisions: list[Decision],
    listed: Mapping[GroupKey, Listing],
    listed_before: Mapping[GroupKey, Listing],
) -> list[Decision]:
    """The site's page lists every group: render the site again when that list changed."""
    if any(isinstance(d, Render) and d.key == SITE for d in decisions):
        return decisions
    now = snapshot.groups.get(SITE)
    if now is None or dict(listed) == dict(listed_before):
        return decisions
    if any(d.key == SITE for d in decisions if isinstance(d, Keep | Remove)):
        return decisions
    name = display_name(now.spellings)
    newest = _newest_archive(snapshot, config, SITE)
    site = Render(
        SITE,
        now.entries,
        now.spellings,
        now.count,
        signature(name, now, newest),
        keep=_held(snapshot, [p for p in snapshot.owned if group_of_path(p) == SITE]),
        archive=newest,
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
    newest = _newest_archive(snapshot, config, key)
    sig = signature(name, now, newest)
    paths = group_paths(config, key)
    drop = tuple(p for p in owned if p not in paths)
    intact = not drop and not any(_damaged(snapshot, p) for p in paths)
    group = make_group(key, now.spellings, now.posts, count=now.count)
    same_listing = not config.feeds.pages or listed_before == listing(group)
    if before is not None and before.signature == sig and intact and same_listing:
        return None
    return Render(
        key, now.entries, now.spellings, now.count, sig, keep=held, drop=drop, archive=newest
    )


def _newest_archive(snapshot: Snapshot, config: Config, key: GroupKey) -> str | None:
    """The period of a group's newest archive (its feed's ``prev-archive``), if any."""
    if not archive_formats(config, key):
        return None
    return max(snapshot.archives.get(key, {}), default=None)


def _decide_archives(
    snapshot: Snapshot, config: Config, key: GroupKey, owned: dict[str, list[str]]
) -> list[ArchiveDecision]:
    """One group's archives: render those whose signature or files changed, keep those
    that held a rejected post, remove those whose period emptied (see the module's rules).
    Only groups the scan looked at (every group, in a cold build) are decided."""
    if key not in snapshot.groups and key not in snapshot.excluded and not snapshot.cold:
        return []
    # a group the feed policy excludes loses its archives as it loses its feeds, and so
    # does one of a kind feeds.archives_groups leaves out
    on = bool(archive_formats(config, key)) and key not in snapshot.excluded
    now = snapshot.archives.get(key, {}) if on else {}
    group = snapshot.groups.get(key)
    name = display_name(group.spellings) if group is not None else ""
    before = snapshot.archived.get(key, {})
    periods = sorted(now)
    out: list[ArchiveDecision] = []
    for i, period in enumerate(periods):
        links = ArchiveLinks(period, *archive_neighbours(periods, i))
        sig = archive_signature(name, links, now[period])
        paths = archive_paths(config, key, period)
        mine = owned.get(period, [])
        drop = tuple(p for p in mine if p not in paths)
        intact = not drop and not any(_damaged(snapshot, p) for p in paths)
        if before.get(period) == sig and intact:
            continue
        keep = _held(snapshot, mine)
        out.append(ArchiveRender(key, name, links, now[period], sig, keep=keep, drop=drop))
    for period in sorted((set(owned) | set(before)) - set(now)):
        mine = owned.get(period, [])
        held = _held(snapshot, mine)
        if held:
            out.append(ArchiveKeep(key, period, held))
        else:
            out.append(ArchiveRemove(key, period, tuple(mine)))
    return out
