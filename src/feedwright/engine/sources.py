"""The scan's first step: find the post files that changed and parse them into the cache.

Post files are spread over :data:`~.codec.BUCKETS` buckets by name; the cache remembers
each bucket's stat digest. A first pass stats every post file and sums the digests; only
files of buckets whose digest moved are compared one by one with what the cache knows (a
cold build compares them all, in one pass, and parses while it still reads folders).
What changed is parsed (in worker processes when there is much of it), given the entry
id the id ledger fixes, and stored.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

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
from ..ledger import Ledger
from .cache import GOOD, Cache
from .chunking import batched
from .codec import BUCKETS, Digests, folder_crc, id_hash
from .rows import Good, KnownFile, ParsedFile, Same
from .workers import Inline, Pool, Todo, bounded_map, parse_batch

#: ``progress(done, total)``: called between batches of files (it may raise to stop).
Progress = Callable[[int, int], None]
#: Parse in worker processes when at least this many files changed.
PARALLEL_PARSE = 2000
_BATCH = 250


@dataclass(slots=True)
class Changes:
    """What the source tree's changes did to the cache."""

    #: A post file was added, changed (in its bytes) or removed.
    edited: bool = False
    #: The groups the changed posts were in before, or are in now.
    groups: set[int] = field(default_factory=set)


class Sources:
    """One pass over the source tree (the cache is written in the build's transaction)."""

    def __init__(
        self,
        config: Config,
        cache: Cache,
        pool: Pool,
        progress: Progress | None,
        ledger: Ledger,
    ) -> None:
        self.config = config
        self.cache = cache
        self.pool = pool
        self.progress = progress
        self.ledger = ledger

    def update(self) -> Changes:
        """Parse and store what changed."""
        cache = self.cache
        changes = Changes()
        folders = post_folders(self.config.source, exclude=(self.config.output,))
        stored = cache.posts.digests()
        buckets: set[int] | None = None
        if not cache.empty and stored:
            digests = _digests(folders)
            buckets = {b for b in range(BUCKETS) if digests.signed(b) != stored.get(b, 0)}
            if not buckets:
                return changes
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
        self._parse(todo, total, changes)
        if known:  # the files that were not found again
            gone = [k.id for k in known.values()]
            changes.groups |= cache.posts.groups_of(gone)
            cache.posts.forget(gone)
            changes.edited = True
        cache.posts.set_digests({b: digests.signed(b) for b in buckets or range(BUCKETS)})
        return changes

    def _parse(
        self, todo: Iterable[tuple[Todo, KnownFile | None]], total: int, changes: Changes
    ) -> None:
        """Parse ``todo`` and store the results."""
        cache = self.cache
        new = cache.empty
        if new:
            cache.store.bulk_begin()
        next_id = cache.posts.next_id()
        done = 0
        for batch, results in self._results(todo, total):
            rows = []
            was_good = []  # posts whose groups before this change must be looked at
            for (_todo, known), parsed in zip(batch, results, strict=True):
                if isinstance(parsed.outcome, Same):
                    if known is not None:
                        cache.posts.touch(known.id, parsed.stat.size, parsed.stat.mtime)
                    continue
                if known is None:
                    post_id, next_id = next_id, next_id + 1
                else:
                    post_id = known.id
                    if known.status == GOOD:
                        was_good.append(post_id)
                rows.append((post_id, self._fix_id(parsed)))
            changes.edited |= bool(rows)
            changes.groups |= cache.posts.groups_of(was_good)
            changes.groups |= cache.posts.store_parsed(rows, new=new)
            done += len(batch)
            if self.progress is not None:
                self.progress(done, max(done, total))
        if new:
            cache.store.bulk_end()

    def _fix_id(self, parsed: ParsedFile) -> ParsedFile:
        """A good post with the entry id the ledger fixes for it (recorded there): a
        column of its row, never inside its record."""
        good = parsed.outcome
        if not isinstance(good, Good):
            return parsed
        source = self.config.source
        fixed = self.ledger.assign(
            parsed.stat.path,
            good.sha,
            good.entry_id,
            good.url,
            gone=lambda old: not source_has(source, old),
            line=good.line,
        )
        if fixed == good.entry_id:
            return parsed
        return parsed._replace(outcome=good._replace(eid=id_hash(fixed), entry_id=fixed))

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
