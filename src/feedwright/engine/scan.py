"""Scan: the source tree, the output tree and the cache → a :class:`~.plan.Snapshot`.

1. Find what changed. Post files are spread over :data:`~.codec.BUCKETS` buckets by path;
   the cache remembers each bucket's stat digest. A first pass stats every post file and
   sums the digests; only files of buckets whose digest moved are compared one by one
   (a cold build compares them all, in one pass).
2. Parse what changed (in worker processes when there is much of it) and store it.
3. Find the groups to look at: those changed posts were or are in, those with a post
   whose date was crossed by the clock since the last build, those whose duplicate-id
   contest changed, those kept as they were last time, and those with a feed file that
   is missing or was changed on disk. A cold build looks at every group.
4. Read those groups as they are now: their newest visible posts (by the rules of
   :mod:`feedwright.group`, duplicates left out) and their spellings.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..discover import (
    Listing,
    PostFolder,
    is_post_name,
    post_extensions,
    post_folders,
    source_has,
    stat_file,
)
from ..errors import PostError
from ..group import (
    excluded_groups,
    feed_limit,
    has_policy,
    newest,
    split_duplicates,
    visible_bound,
)
from ..layout import archive_dir, archive_of_path, group_of_path
from ..ledger import Ledger
from ..model import GroupKey, ManifestEntry
from ..output import Loaded, Output
from ..posts import dup_message
from .cache import Cache
from .codec import BUCKETS, Digests, folder_crc, id_hash, post_of
from .plan import GroupBefore, GroupNow, PeriodNow, Snapshot
from .rows import POST, SAME, GroupRow, KnownFile, Loser, ParsedFile
from .workers import Inline, Pool, Todo, batched, bounded_map, parse_batch

Progress = Callable[[int, int], None]
#: Parse in worker processes when at least this many files changed.
PARALLEL_PARSE = 2000
_BATCH = 250


@dataclass(frozen=True, slots=True)
class Scanned:
    """The snapshot, and what the report says about posts."""

    snapshot: Snapshot
    #: Published posts (visible, not rejected).
    posts: int
    #: ``(path, "path:line: message")`` for each rejected post, in path order.
    errors: tuple[tuple[str, str], ...]
    #: The posts' own warnings.
    warnings: tuple[str, ...]


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
    ) -> None:
        self.config = config
        self.ledger = ledger if ledger is not None else Ledger()
        #: Work out the feed policy's exclusions even when no group is looked at.
        self.explain = explain
        self.cache = cache
        self.output = output
        #: The bound of visibility at the build's clock (:func:`~feedwright.group.visible_bound`).
        self.now = visible_bound(now)
        self.pool = pool
        self.progress = progress
        self.dirty: set[int] = set()
        #: A manifest file was damaged; one was written before archive entries were apart.
        self.damaged = False
        self.mixed = False
        self.warnings: list[str] = []

    def run(self) -> Scanned:
        cache = self.cache
        cold = cache.empty
        changed = self._files()
        self._clock()
        losers = self._duplicates(changed or cold)
        owned = self._owned()
        broken = self._broken()
        if self.config.feeds.pages and self.dirty:  # the site's page lists every group
            self.dirty.add(cache.groups.gid("site", ""))
        groups = cache.groups.rows()
        self.dirty |= {
            g.gid for g in groups.values() if g.published is not None and g.signature is None
        }
        if self.config.feeds.archives:
            self.dirty |= cache.groups.unsettled_archives()
        if cold:  # every group, and the site's even without a post
            self.dirty = cache.groups.all_gids() | {cache.groups.gid("site", "")}
            groups = cache.groups.rows()
        sizes: dict[int, int] = {}  # every group's post count, when the policy needed them
        excluded = self._policy(groups, sizes)  # may look at more groups: count after it
        counts: dict[int, int] = {}
        if self.config.feeds.pages:
            counts = sizes or cache.groups.counts(self.dirty, self.now)
        now_groups = {}
        archives = {}
        gids = {}
        for gid in sorted(self.dirty):
            row = groups.get(gid)
            if row is None:
                continue
            key = GroupKey(row.kind, row.slug)
            gids[key] = gid  # an excluded group's archives go as its feeds do
            if key not in excluded:
                now_groups[key] = self._group_now(gid, key, counts.get(gid, 0))
                if self.config.feeds.archives:
                    archives[key] = self._archives_now(gid)
        # the archives' manifest entries only when an archive may be decided
        looked = cold or bool(gids) or self.damaged
        if looked and not self.damaged:
            owned.update(self._owned_archives())
        unlooked = frozenset() if looked else frozenset(cache.files.archive_paths())
        archived = cache.groups.archives(gids.values())
        if gids:  # the archive files of the groups looked at, one by one
            folders = {
                archive_dir(key, period).rstrip("/")
                for key, gid in gids.items()
                for period in {*archives.get(key, ()), *archived.get(gid, ())}
            }
            broken |= self._check(cache.files.archives(folders))
        site = cache.groups.gid("site", "")
        errors = cache.posts.errors()
        errors += [(loser.path, loser.message) for loser in losers.values()]
        errors.sort()
        snapshot = Snapshot(
            groups=now_groups,
            before=_before(groups, owned, cold),
            owned=owned,
            broken=frozenset(broken),
            rejected=frozenset(path for path, _line in errors),
            cold=cold,
            excluded=excluded,
            archives=archives,
            archived={key: archived[gid] for key, gid in gids.items() if gid in archived},
            archives_read=looked,
            unlooked=unlooked,
            damaged=self.damaged,
            mixed=self.mixed,
        )
        return Scanned(
            snapshot=snapshot,
            posts=cache.groups.counts({site}, self.now)[site],
            errors=tuple(errors),
            warnings=(*self.warnings, *cache.posts.warnings()),
        )

    # -- 1. and 2. files --------------------------------------------------------------------
    def _files(self) -> bool:
        """Parse and store what changed; True if any post file was added, changed or removed."""
        cache = self.cache
        folders = post_folders(self.config.source, exclude=(self.config.output,))
        stored = cache.posts.digests()
        buckets: set[int] | None = None
        if not cache.empty and stored:
            digests = _digests(folders)
            buckets = {b for b in range(BUCKETS) if digests.signed(b) != stored.get(b, 0)}
            if not buckets:
                return False
        known = cache.posts.known(buckets)
        digests = Digests()
        extensions = post_extensions(self.config.site.markdown_ext)
        found = _find(folders, buckets, extensions, digests)
        todo: Iterable[tuple[Todo, KnownFile | None]] = (
            ((folder, name, size, mtime, k.sha if k else None), k)
            for folder, name, size, mtime in found
            if _changed(k := known.pop(f"{folder.rel}/{name}", None), size, mtime)
        )
        if buckets is None:  # everything: parse while the folders are still being read
            total = _count(folders, extensions)
        else:
            todo = list(todo)
            total = len(todo)
        changed = self._parse(todo, total)
        if known:  # the files that were not found again
            gone = [k.id for k in known.values()]
            self.dirty |= cache.posts.groups_of(gone)
            cache.posts.forget(gone)
        cache.posts.set_digests({b: digests.signed(b) for b in buckets or range(BUCKETS)})
        return changed or bool(known)

    def _parse(self, todo: Iterable[tuple[Todo, KnownFile | None]], total: int) -> bool:
        """Parse ``todo`` and store the results; True if any file's bytes changed."""
        cache = self.cache
        new = cache.empty
        if new:
            cache.store.bulk_begin()
        next_id = cache.posts.next_id()
        changed = False
        done = 0
        for batch, results in self._results(todo, total):
            rows = []
            was_post = []  # posts whose groups before this change must be looked at
            for (_todo, known), parsed in zip(batch, results, strict=True):
                if parsed.status == SAME and known is not None:
                    cache.posts.touch(known.id, parsed.size, parsed.mtime)
                    continue
                if known is None:
                    post_id, next_id = next_id, next_id + 1
                else:
                    post_id = known.id
                    if known.status == POST:
                        was_post.append(post_id)
                rows.append((post_id, self._fix_id(parsed)))
            changed |= bool(rows)
            if was_post:
                self.dirty |= cache.posts.groups_of(was_post)
            self.dirty |= cache.posts.store_parsed(rows, new=new)
            done += len(batch)
            if self.progress is not None:
                self.progress(done, max(done, total))
        if new:
            cache.store.bulk_end()
        return changed

    def _fix_id(self, parsed: ParsedFile) -> ParsedFile:
        """A parsed post with the entry id the ledger fixes for it (recorded there)."""
        if parsed.status != POST or parsed.url is None or parsed.entry_id is None:
            return parsed
        source = self.config.source
        fixed = self.ledger.assign(
            parsed.path,
            parsed.sha,
            parsed.entry_id,
            parsed.url,
            gone=lambda old: not source_has(source, old),
        )
        if fixed == parsed.entry_id:
            return parsed
        return parsed._replace(eid=id_hash(fixed), entry_id=fixed)

    def _results(
        self, todo: Iterable[tuple[Todo, KnownFile | None]], total: int
    ) -> Iterator[tuple[list[tuple[Todo, KnownFile | None]], list[ParsedFile]]]:
        """Each batch of ``todo`` with what it parsed to, in order (the batches are made as
        the results are asked for, so files are parsed while others are still being stat'ed)."""
        executor = self.pool.get() if total >= PARALLEL_PARSE else None
        sent: deque[list[tuple[Todo, KnownFile | None]]] = deque()

        def work() -> Iterator[list[Todo]]:
            for batch in batched(todo, _BATCH):
                sent.append(batch)
                yield [item for item, _k in batch]

        for results in bounded_map(executor or Inline(), parse_batch, self.config, work()):
            yield sent.popleft(), results

    # -- 3. groups to look at ---------------------------------------------------------------
    def _clock(self) -> None:
        """Posts whose date lies between the last build's clock and this one's."""
        previous = self.cache.get_meta("now")
        if previous is not None:
            lo, hi = sorted((int(previous), self.now))
            if lo != hi:
                self.dirty |= self.cache.posts.crossing(lo, hi)
        self.cache.set_meta("now", str(self.now))

    def _duplicates(self, recount: bool) -> dict[int, Loser]:
        """Posts rejected because an earlier post in feed order has their entry id."""
        cache = self.cache
        before = cache.posts.losers()
        if not recount and not self.dirty:
            return before
        shared = cache.posts.shared_ids(self.now)
        posts = {c.id: post_of(c) for c in shared}
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
        if losers != before:
            flipped = {i for i in before.keys() ^ losers.keys()}
            flipped |= {i for i in before.keys() & losers.keys() if before[i] != losers[i]}
            self.dirty |= cache.posts.groups_of(flipped)
            cache.posts.set_losers(losers.values())
        return losers

    def _owned(self) -> dict[str, ManifestEntry]:
        """The manifest; when it is unreadable, rebuilt from the files the cache recorded
        (which posts each held is forgotten: it is learnt again as feeds are written)."""
        loaded = self._loaded(self.output.load_manifest())
        if loaded.damaged:
            return {path: ManifestEntry() for path in self.cache.files.written(archives=True)}
        return loaded.entries

    def _owned_archives(self) -> dict[str, ManifestEntry]:
        """The archives' manifest entries; when unreadable, rebuilt from the archive files
        the cache recorded."""
        loaded = self._loaded(self.output.load_archive_manifest())
        if loaded.damaged:
            return {path: ManifestEntry() for path in self.cache.files.archives()}
        return loaded.entries

    def _loaded(self, loaded: Loaded) -> Loaded:
        self.damaged |= loaded.damaged
        self.mixed |= loaded.mixed
        if loaded.warning is not None:
            self.warnings.append(loaded.warning)
        return loaded

    def _broken(self) -> set[str]:
        """Files feedwright wrote that are missing or were changed since. Archive files are
        checked by folder: only those of a folder whose mtime moved (a file in it was
        removed, renamed or replaced, or the folder itself went) are looked at one by one;
        a file whose bytes were changed in place is noticed when its group is next looked
        at (or by ``--full``)."""
        broken = self._check(self.cache.files.written())
        folders = self.cache.files.folders()
        moved = {
            folder: now
            for folder, now in self.output.folder_mtimes(folders).items()
            if now != folders[folder]
        }
        if moved:
            files = self.cache.files.archives(moved)
            bad = self._check(files)
            bad_folders = {path.rpartition("/")[0] for path in bad}
            for folder, now in moved.items():
                if now is None and folder not in bad_folders:
                    self.cache.files.drop_folder(folder)  # gone with its files
                elif now is not None and folder not in bad_folders:
                    self.cache.files.put_folder(folder, now)  # its files are as they were written
            broken |= bad
        return broken

    def _check(self, files: dict[str, tuple[int, int]]) -> set[str]:
        broken = self.output.changed(files)
        for path in broken:
            key = group_of_path(path)
            archive = archive_of_path(path) if key is None else None
            if key is None and archive is not None:
                key = archive[0]
            if key is not None:
                self.dirty.add(self.cache.groups.gid(*key))
        return broken

    def _policy(self, groups: dict[int, GroupRow], counted: dict[int, int]) -> dict[GroupKey, str]:
        """The groups the feed policy excludes now, worked out whenever a group is looked
        at; a group that crossed the policy's line since the last build is looked at. The
        post count of every group goes into ``counted`` (the pages use it too)."""
        if not has_policy(self.config) or not (self.dirty or self.explain):
            return {}
        counted.update(self.cache.groups.counts(set(groups), self.now))
        sizes: dict[tuple[str, str], int] = {
            GroupKey(groups[gid].kind, groups[gid].slug): size for gid, size in counted.items()
        }
        excluded = {GroupKey(*key): why for key, why in excluded_groups(self.config, sizes).items()}
        for gid, row in groups.items():
            key = GroupKey(row.kind, row.slug)
            published = row.published is not None
            if (key in excluded and published) or (
                key not in excluded and not published and sizes.get(key, 0) > 0
            ):
                self.dirty.add(gid)
        return excluded

    # -- 4. groups as they are now ----------------------------------------------------------
    def _group_now(self, gid: int, key: GroupKey, count: int) -> GroupNow:
        limit = feed_limit(self.config, key.kind)
        found = self.cache.posts.by_id(self.cache.groups.newest(gid, self.now, limit))
        shas = {c.path: c.sha for c in found}
        posts = newest(map(post_of, found), limit)
        spellings = self.cache.groups.spellings(gid, self.now) if key.kind != "site" else set()
        return GroupNow(
            key=key,
            posts=posts,
            shas=tuple(shas[p.relpath] for p in posts),
            spellings=tuple(sorted(spellings)),
            count=count,
        )

    def _archives_now(self, gid: int) -> dict[str, PeriodNow]:
        """Every archive period of a group with visible posts, and their posts' hashes."""
        by_period: dict[str, list[tuple[str, bytes]]] = {}
        for period, path, sha in self.cache.groups.periods(gid, self.now):
            by_period.setdefault(period, []).append((path, sha))
        out = {}
        for period, found in by_period.items():
            found.sort()
            out[period] = PeriodNow(tuple(p for p, _s in found), tuple(s for _p, s in found))
        return out


def _changed(known: KnownFile | None, size: int, mtime: int) -> bool:
    """Whether a file must be read: new, another size or mtime, or not stat-able."""
    return known is None or (size, mtime) != (known.size, known.mtime) or size < 0


def _count(folders: Listing, extensions: tuple[str, ...]) -> int:
    """How many post files the folders hold (names only: no stat)."""
    return sum(is_post_name(name, extensions) for _folder, files in folders for name in files)


def _digests(folders: Listing) -> Digests:
    """Each bucket's stat digest, from a stat of every file in the post folders (the
    no-op build's whole cost: one tight loop)."""
    digests = Digests()
    add = digests.add
    for folder, files in folders:
        rel, path = folder_crc(folder.rel), folder.path
        for name in files:
            add(rel, name.encode("utf-8", "surrogateescape"), *stat_file(f"{path}/{name}"))
    return digests


def _find(
    folders: Listing,
    buckets: set[int] | None,
    extensions: tuple[str, ...],
    digests: Digests,
) -> Iterator[tuple[PostFolder, str, int, int]]:
    """``(folder, name, size, mtime)`` of the post files of ``buckets`` (``None``: all);
    ``digests`` adds up those buckets on the way."""
    for folder, files in folders:
        rel = folder_crc(folder.rel)
        for name in files:
            encoded = name.encode("utf-8", "surrogateescape")
            if buckets is not None and zlib.crc32(encoded) % BUCKETS not in buckets:
                continue
            size, mtime = stat_file(f"{folder.path}/{name}")
            digests.add(rel, encoded, size, mtime)
            if is_post_name(name, extensions):
                yield folder, name, size, mtime


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
