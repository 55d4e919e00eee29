"""Scan: the source tree, the output tree and the cache → a :class:`~.plan.Snapshot`.

1. Parse the post files that changed into the cache (:mod:`.sources`).
2. Find the groups to look at, each finder a set of its own: those changed posts were or
   are in; those with a post whose date the clock crossed since the last build; those
   whose duplicate-id contest changed; those with a file feedwright wrote that is missing
   or was changed on disk; those kept as they were last time (or not rendered); those the
   feed policy's line was crossed by; the site, whose page lists every group, whenever
   any of these is looked at. A cold build looks at every group.
3. Read those groups as they are now: their newest visible posts (by the rules of
   :mod:`feedwright.group`, duplicates left out in the cache's one query) and spellings.

The scan observes the output folder through the output package: the manifest, the files
changed behind feedwright's back, and files of someone else's where feedwright would
write one (a feed, a page, an archive file, the OPML). The planner decides what to do
about them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..errors import PostError
from ..group import (
    excluded_groups,
    feed_limit,
    has_policy,
    newest,
    split_duplicates,
    visible_bound,
)
from ..layout import (
    OPML,
    SITE,
    archive_dir,
    archive_of_path,
    archive_paths,
    group_of_path,
    group_paths,
    is_archive_path,
)
from ..ledger import Ledger
from ..model import GroupKey, ManifestEntry
from ..output import Loaded, Output
from ..posts import dup_message
from .cache import Cache
from .codec import post_of
from .plan import GroupBefore, GroupNow, PeriodNow, Snapshot
from .rows import Entry, GroupRow, Loser, Source
from .sources import Changes, Progress, Sources
from .workers import Pool


@dataclass(frozen=True, slots=True)
class Scanned:
    """The snapshot, and what the report says about posts."""

    snapshot: Snapshot
    #: Published posts (visible, not rejected).
    posts: int
    #: ``(path, "path:line: message")`` for each rejected post, in path order.
    errors: tuple[tuple[str, str], ...]
    #: The posts' own warnings, and what the manifest's reading said.
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Looked:
    """What the finders found (:meth:`Scanner._look`)."""

    #: The groups to look at.
    dirty: set[int]
    #: Every group the cache knows.
    groups: dict[int, GroupRow]
    #: The groups the feed policy leaves without feeds, and why.
    excluded: dict[GroupKey, str]
    #: Post counts (with ``feeds.pages``).
    counts: dict[int, int]
    #: The losers of duplicate entry ids.
    losers: dict[int, Loser]
    #: Files feedwright wrote that are missing or changed.
    broken: set[str]


class Manifests:
    """The manifest as the scan reads it: rebuilt from the files the cache recorded when
    it cannot be read (which posts each held is forgotten: it is learnt again as feeds
    are written)."""

    def __init__(self, output: Output, cache: Cache) -> None:
        self.output = output
        self.cache = cache
        #: A manifest file was damaged; one was written before archive entries were apart.
        self.damaged = False
        self.mixed = False
        self.warnings: list[str] = []

    def main(self) -> dict[str, ManifestEntry]:
        loaded = self._loaded(self.output.load_manifest())
        if loaded.damaged:
            return {path: ManifestEntry() for path in self.cache.files.written(archives=True)}
        return loaded.entries

    def archives(self, groups: Iterable[GroupKey] | None) -> dict[str, ManifestEntry]:
        """The manifest entries of these groups' archives (``None``: every group's); if one
        of their files is damaged, those of every archive file the cache knows."""
        entries: dict[str, ManifestEntry] = {}
        for loaded in self.output.load_archive_manifests(groups):
            entries.update(self._loaded(loaded).entries)
        if self.damaged:
            return {path: ManifestEntry() for path in self.cache.files.archives()}
        return entries

    def _loaded(self, loaded: Loaded) -> Loaded:
        self.damaged |= loaded.damaged
        self.mixed |= loaded.mixed
        if loaded.warning is not None:
            self.warnings.append(loaded.warning)
        return loaded


class Scanner:
    """One scan: the cache is written (in the build's transaction) as files are parsed."""

    def __init__(
        self,
        config: Config,
        cache: Cache,
        output: Output,
        now: datetime,
        pool: Pool,
        progress: Progress | None = None,
        ledger: Ledger | None = None,
        explain: bool = False,
        checkpoint: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        #: Called between groups read (a safe point: it may raise to stop the build).
        self.checkpoint = checkpoint
        self.ledger = ledger if ledger is not None else Ledger()
        #: Work out the feed policy's exclusions even when no group is looked at.
        self.explain = explain
        self.cache = cache
        self.output = output
        #: The bound of visibility at the build's clock (:func:`~feedwright.group.visible_bound`).
        self.now = visible_bound(now)
        self.pool = pool
        self.progress = progress
        self.manifests = Manifests(output, cache)

    def run(self) -> Scanned:
        cache = self.cache
        cold = cache.empty
        files = Sources(self.config, cache, self.pool, self.progress, self.ledger).update()
        owned = self.manifests.main()
        looked = self._look(cold, files)
        now_groups, archives, gids = self._read(looked)
        # the archives' manifest entries only when an archive may be decided, and only
        # those of the groups looked at (all in a cold build, or to split an old manifest)
        every = cold or self.manifests.mixed or self.manifests.damaged
        read = every or bool(gids)
        if read and not self.manifests.damaged:
            owned.update(self.manifests.archives(None if every else gids))
        archived = cache.groups.archives(gids.values())
        # the archive files of the groups looked at, one by one
        folders = {
            archive_dir(key, period).rstrip("/")
            for key, gid in gids.items()
            for period in {*archives.get(key, ()), *archived.get(gid, ())}
        }
        broken = looked.broken | self.output.changed(cache.files.archives(folders))
        errors = cache.posts.errors()
        errors += [(loser.path, loser.message) for loser in looked.losers.values()]
        errors.sort()
        snapshot = Snapshot(
            groups=now_groups,
            before=_before(looked.groups, owned, cold),
            owned=owned,
            broken=frozenset(broken),
            rejected=frozenset(path for path, _line in errors),
            cold=cold,
            excluded=looked.excluded,
            archives=archives,
            archived={key: archived[gid] for key, gid in gids.items() if gid in archived},
            archives_read=read,
            unlooked=0 if every else self._unlooked(owned),
            damaged=self.manifests.damaged,
            mixed=self.manifests.mixed,
            occupied=frozenset(self._occupied(now_groups, archives, owned)),
        )
        site = cache.groups.gid(*SITE)
        return Scanned(
            snapshot=snapshot,
            posts=cache.groups.counts({site}, self.now)[site],
            errors=tuple(errors),
            warnings=(*self.manifests.warnings, *cache.posts.warnings()),
        )

    def _unlooked(self, owned: Mapping[str, ManifestEntry]) -> int:
        """How many archive files the groups whose archive entries were not read have
        (counted in the cache, not listed: a no-op of a big site would list 100,000)."""
        read = sum(1 for path in owned if is_archive_path(path))
        return max(0, self.cache.files.archive_count() - read)

    def _read(
        self, looked: _Looked
    ) -> tuple[dict[GroupKey, GroupNow], dict[GroupKey, dict[str, PeriodNow]], dict[GroupKey, int]]:
        """The groups looked at as they are now (those the policy excludes have no posts),
        their archive periods, and the id of each."""
        now_groups: dict[GroupKey, GroupNow] = {}
        archives: dict[GroupKey, dict[str, PeriodNow]] = {}
        gids = {}
        for gid in sorted(looked.dirty):
            if self.checkpoint is not None:
                self.checkpoint()
            row = looked.groups.get(gid)
            if row is None:
                continue
            key = GroupKey(row.kind, row.slug)
            gids[key] = gid  # an excluded group's archives go as its feeds do
            if key not in looked.excluded:
                now_groups[key] = self._group_now(gid, key, looked.counts.get(gid, 0))
                if self.config.feeds.archives:
                    archives[key] = self._archives_now(gid)
        return now_groups, archives, gids

    def _look(self, cold: bool, files: Changes) -> _Looked:
        """The groups to look at: one set from each finder (see the module's list)."""
        cache = self.cache
        clock = self._clock()
        recount = cold or files.edited or bool(files.groups | clock)
        losers, contested = duplicates(cache, self.now, recount)
        broken = self._broken()
        changed = files.groups | clock | contested | self._groups_of(broken)
        groups = cache.groups.rows()
        unsettled = {
            g.gid for g in groups.values() if g.published is not None and g.signature is None
        }
        if self.config.feeds.archives:
            unsettled |= cache.groups.unsettled_archives()
        site = cache.groups.gid(*SITE)
        if cold:
            groups = cache.groups.rows()
        sizes: dict[int, int] = {}  # every group's post count, when the policy needed them
        crossed, excluded = self._policy(groups, sizes, cold or bool(changed | unsettled))
        looking = changed | unsettled | crossed
        # the site's page lists every group: looked at whenever a group may change (a group
        # kept or crossing the policy's line changes the list as much as an edited post)
        pages = {site} if self.config.feeds.pages and looking else set()
        # every group in a cold build (the site's even without a post)
        dirty = cache.groups.all_gids() if cold else looking | pages
        counts: dict[int, int] = {}
        if self.config.feeds.pages:
            counts = sizes or cache.groups.counts(dirty, self.now)
        return _Looked(dirty, groups, excluded, counts, losers, broken)

    # -- groups to look at ------------------------------------------------------------------
    def _clock(self) -> set[int]:
        """Groups with a post whose date lies between the last build's clock and this one's."""
        previous = self.cache.get_meta("now")
        self.cache.set_meta("now", str(self.now))
        if previous is None or int(previous) == self.now:
            return set()
        lo, hi = sorted((int(previous), self.now))
        return self.cache.posts.crossing(lo, hi)

    def _broken(self) -> set[str]:
        """Files feedwright wrote that are missing or were changed since. Archive files are
        checked by folder: only those of a folder whose mtime moved (a file in it was
        removed, renamed or replaced, or the folder itself went) are looked at one by one;
        a file whose bytes were changed in place is noticed when its group is next looked
        at (or by ``--full``)."""
        cache = self.cache
        broken = self.output.changed(cache.files.written())
        folders = cache.files.folders()
        mtimes = self.output.folder_mtimes(folders)
        moved = {folder: now for folder, now in mtimes.items() if now != folders[folder]}
        if moved:
            bad = self.output.changed(cache.files.archives(moved))
            bad_folders = {path.rpartition("/")[0] for path in bad}
            for folder, now in moved.items():
                if folder in bad_folders:
                    continue
                if now is None:
                    cache.files.drop_folder(folder)  # gone with its files
                else:
                    cache.files.put_folder(folder, now)  # its files are as they were written
            broken |= bad
        return broken

    def _groups_of(self, paths: set[str]) -> set[int]:
        """The groups of these feed, page and archive files."""
        gids = set()
        for path in paths:
            key = group_of_path(path)
            archive = archive_of_path(path) if key is None else None
            if key is None and archive is not None:
                key = archive[0]
            if key is not None:
                gids.add(self.cache.groups.gid(*key))
        return gids

    def _policy(
        self, groups: dict[int, GroupRow], counted: dict[int, int], looking: bool
    ) -> tuple[set[int], dict[GroupKey, str]]:
        """The groups the feed policy excludes now, worked out whenever a group is looked
        at (or to explain), and the groups that crossed the policy's line since the last
        build. The post count of every group goes into ``counted`` (the pages use it too)."""
        if not has_policy(self.config) or not (looking or self.explain):
            return set(), {}
        counted.update(self.cache.groups.counts(set(groups), self.now))
        sizes: dict[tuple[str, str], int] = {
            GroupKey(groups[gid].kind, groups[gid].slug): size for gid, size in counted.items()
        }
        excluded = {GroupKey(*key): why for key, why in excluded_groups(self.config, sizes).items()}
        crossed = set()
        for gid, row in groups.items():
            key = GroupKey(row.kind, row.slug)
            published = row.published is not None
            if (key in excluded and published) or (
                key not in excluded and not published and sizes.get(key, 0) > 0
            ):
                crossed.add(gid)
        return crossed, excluded

    # -- the output folder --------------------------------------------------------------------
    def _occupied(
        self,
        groups: dict[GroupKey, GroupNow],
        archives: dict[GroupKey, dict[str, PeriodNow]],
        owned: dict[str, ManifestEntry],
    ) -> set[str]:
        """The files a build may write for the groups looked at (feeds, pages, archives of
        every period with posts) and the OPML, that feedwright does not own but something
        is in the place of: someone else's."""
        config = self.config
        paths = [p for key in groups for p in group_paths(config, key)]
        paths += [
            p
            for key, periods in archives.items()
            for period in periods
            for p in archive_paths(config, key, period)
        ]
        paths.append(OPML)
        return self.output.occupied(p for p in paths if p not in owned)

    # -- groups as they are now -------------------------------------------------------------
    def _group_now(self, gid: int, key: GroupKey, count: int) -> GroupNow:
        limit = feed_limit(self.config, key.kind)
        found = self.cache.posts.by_id(self.cache.groups.newest(gid, self.now, limit))
        entries = {c.path: Entry(post_of(c), c.sha) for c in found}
        posts = newest((e.post for e in entries.values()), limit)
        spellings = self.cache.groups.spellings(gid, self.now) if key.kind != "site" else set()
        return GroupNow(
            key=key,
            entries=tuple(entries[p.relpath] for p in posts),
            spellings=tuple(sorted(spellings)),
            count=count,
        )

    def _archives_now(self, gid: int) -> dict[str, PeriodNow]:
        """Every archive period of a group with visible posts, and their posts' hashes."""
        by_period: dict[str, list[Source]] = {}
        for period, path, sha in self.cache.groups.periods(gid, self.now):
            by_period.setdefault(period, []).append(Source(path, sha))
        return {period: PeriodNow(tuple(sorted(found))) for period, found in by_period.items()}


def duplicates(cache: Cache, now: int, recount: bool) -> tuple[dict[int, Loser], set[int]]:
    """Posts rejected because an earlier post in feed order has their entry id (recounted
    when a post or the clock changed), and the groups of those whose contest changed."""
    before = cache.posts.losers()
    if not recount:
        return before, set()
    posts = {c.id: post_of(c) for c in cache.posts.shared_ids(now)}
    ids = {post.relpath: post_id for post_id, post in posts.items()}
    _kept, lost = split_duplicates(posts.values())
    losers = {
        ids[post.relpath]: Loser(
            ids[post.relpath],
            post.relpath,
            str(PostError(post.relpath, 1, dup_message(winner.relpath, post.id))),
        )
        for post, winner in lost
    }
    if losers == before:
        return losers, set()
    flipped = {i for i in before.keys() ^ losers.keys()}
    flipped |= {i for i in before.keys() & losers.keys() if before[i] != losers[i]}
    cache.posts.set_losers(losers.values())
    return losers, cache.posts.groups_of(flipped)


def _before(
    groups: dict[int, GroupRow], owned: dict[str, ManifestEntry], cold: bool
) -> dict[GroupKey, GroupBefore]:
    """Every group with feeds before this build: from the cache, or (when it knows
    nothing) from the manifest, which names each file's group."""
    before: dict[GroupKey, GroupBefore] = {}
    for row in groups.values():
        if row.published is not None:
            before[GroupKey(row.kind, row.slug)] = GroupBefore(row.published, row.signature)
    if cold:
        for path, entry in owned.items():
            key = group_of_path(path)
            if key is not None and key not in before:
                before[key] = GroupBefore(entry.name, None)
    return before


__all__ = ["Progress", "Scanned", "Scanner"]
