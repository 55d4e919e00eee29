"""The planner's inputs and outputs: what the scan found (:class:`Snapshot`) and what a
build does about it (:class:`Plan`, made of decisions). Frozen, typed, no logic: the rules
are in :mod:`.plan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..group import make_group
from ..model import ArchiveLinks, Group, GroupChange, GroupKey, Listing, ManifestEntry, Post
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
    #: Files the groups in ``groups`` (their feeds, pages and archives) and the OPML would
    #: be written to that feedwright does not own but something is in the place of:
    #: someone else's, never written over nor removed unless the build adopts them.
    occupied: frozenset[str] = frozenset()
    #: Groups the feed policy leaves without feeds, and why (every such group whenever
    #: ``groups`` is not empty): they are decided as if they had no posts.
    excluded: Mapping[GroupKey, str] = field(default_factory=dict)
    #: With ``feeds.archives``: every period with posts of each group in ``groups``.
    archives: Mapping[GroupKey, Mapping[str, PeriodNow]] = field(default_factory=dict)
    #: The archives the last build published for those groups, each period's signature
    #: (``None``: kept as it was, or not rendered: look again).
    archived: Mapping[GroupKey, Mapping[str, bytes | None]] = field(default_factory=dict)
    #: Whether ``owned`` holds archive files' entries: only a build that may decide an
    #: archive reads them, those of the groups in ``groups`` (every group's in a cold
    #: build, or after a manifest file was damaged or is from before they were apart).
    archives_read: bool = True
    #: How many archive files of the other groups the last builds wrote (the report's
    #: unchanged, counted: not listed).
    unlooked: int = 0
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
    #: What the cache records once every file is written: what they are rendered from,
    #: or ``None`` when some are kept as they were (look again next build).
    signature: bytes | None
    #: What the build does instead when one of its posts cannot be rendered now: keep
    #: the files it has, or (with none) leave it without feeds (:func:`.plan.settle`).
    otherwise: Keep | Abandon
    #: Files left as they are: they held a post that is now rejected.
    keep: frozenset[str] = frozenset()
    #: Owned files of the group that are no longer configured (a format was dropped).
    drop: tuple[str, ...] = ()
    #: The newest archive's period (the feed's ``prev-archive``), with archives on.
    archive: str | None = None
    #: Its files that are not written: someone else's file is in their place.
    foreign: frozenset[str] = frozenset()

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
    #: What the cache records once every file is written: what it is rendered from, or
    #: ``None`` when some are kept as they were (look again next build).
    signature: bytes | None
    #: What the build does instead when one of its posts cannot be rendered now: keep
    #: the files it has (:func:`.plan.settle`).
    otherwise: ArchiveKeep
    #: Files left as they are: they held a post that is now rejected.
    keep: frozenset[str] = frozenset()
    #: Owned files of the archive that are no longer configured (a format was dropped).
    drop: tuple[str, ...] = ()
    #: Its files that are not written: someone else's file is in their place.
    foreign: frozenset[str] = frozenset()


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
    """Leave the group's feeds as they were (they held posts that are now rejected, or
    one of its posts cannot be rendered now)."""

    key: GroupKey
    #: The name they carry.
    name: str
    files: frozenset[str]
    #: What the site's page lists for the group, when it is not what the plan says.
    listing: Listing | None = None


@dataclass(frozen=True, slots=True)
class Remove:
    """The group has no feed any more: remove the files feedwright wrote for it."""

    key: GroupKey
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Abandon:
    """The group's feeds could not be rendered and it has none to keep: it has no feeds
    now (nothing is written or removed)."""

    key: GroupKey


Decision = Render | Keep | Remove | Abandon


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
    #: Files the build may write that the manifest does not list yet: claimed (saved in
    #: the manifest) before anything is written, so that a build killed at any moment
    #: still owns what it wrote.
    claims: tuple[str, ...] = ()
    #: Groups whose feeds gain or lose posts (from the manifest's sources, before and now).
    changes: tuple[GroupChange, ...] = ()
    #: Whose archive entries the manifest saves (read, and maybe changed, by this build):
    #: these groups', or ``"all"`` (every group's, read by this build).
    save_archives: frozenset[GroupKey] | Literal["all"] = frozenset()
    #: Files this build would write (feeds, pages, archives, the OPML) that are not
    #: written, because a file feedwright did not write is in their place: not published,
    #: so neither ``feedwright feeds`` nor the OPML lists them.
    foreign: frozenset[str] = frozenset()
    #: Files feedwright did not write that this build takes over (``build --adopt``): they
    #: are written, and owned from then on.
    adopted: tuple[str, ...] = ()

    @property
    def render(self) -> list[Render]:
        return [d for d in self.decisions if isinstance(d, Render)]

    @property
    def archive_render(self) -> list[ArchiveRender]:
        return [d for d in self.archives if isinstance(d, ArchiveRender)]
