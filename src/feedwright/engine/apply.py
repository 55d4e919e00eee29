"""Apply a :class:`~.plan.Plan`: render, write, remove, and tell the recorder what was done.

Apply only executes. What to write, keep, remove or claim was decided by the planner;
when a post cannot be rendered now, :func:`~.plan.settle` says what the build does
instead. The :class:`~.record.Recorder` keeps the manifest, the cache's rows and the
report.

Files are written in batches (:class:`Batch`): staged under temporary names as they are
rendered (by the worker processes, when the build has them), then synced at once and
renamed, then recorded. Between batches the build
may be stopped (``checkpoint`` raises): the batch being staged is discarded, nothing is
renamed half-way, and the previous feeds stay.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from typing import cast

from ..config import Config
from ..group import listing
from ..layout import OPML, PAGE, SITE, feed_url, group_order
from ..model import FeedFile, Group, GroupKind, Listing, ManifestEntry
from ..output import Output, Staged
from .cache import Cache
from .decisions import (
    Abandon,
    ArchiveKeep,
    ArchiveRemove,
    ArchiveRender,
    Keep,
    Plan,
    Remove,
    Render,
    Snapshot,
)
from .plan import settle
from .published import subscribed
from .record import Applied, Recorder
from .rendering import (
    Errors,
    Failed,
    Rendering,
    executor_for,
    render_archive_tasks,
)
from .workers import Inline, Pool, stage_files

#: A batch is published once it holds this many files…
BATCH_FILES = 1000
#: …or this many bytes.
BATCH_BYTES = 64 << 20
#: Files are staged (by a worker) a few at a time: this many files…
STAGE_FILES = 100
#: …or this many bytes.
STAGE_BYTES = 4 << 20


def _nothing() -> None:
    pass


#: A staging task in flight (:func:`.workers.stage_files`) and each of its files' URL and
#: manifest entry.
Task = tuple[Future[list[Staged]], list[tuple[str, ManifestEntry]]]


class Batch:
    """Files published together: staged a few at a time (written under temporary names,
    in a worker process when the build has them: :func:`.workers.stage_files`), then
    all synced at once and renamed (:meth:`~feedwright.output.Writer.publish`, here), then
    recorded, with what waited for them (``after``). While the workers stage, this
    process renders on; only a few small tasks are in flight, so neither process holds
    much more than a task's bytes."""

    def __init__(
        self,
        config: Config,
        output: Output,
        recorder: Recorder,
        executor: Executor | Inline,
        checkpoint: Callable[[], None],
    ) -> None:
        self.config = config
        self.checkpoint = checkpoint
        self.output = output
        self.recorder = recorder
        self.executor = executor
        #: Added and not yet handed to a task.
        self.files: list[tuple[str, bytes, str, ManifestEntry]] = []
        self.pending = 0
        #: Tasks in flight, and what finished tasks staged (not yet published).
        self.flight: deque[Task] = deque()
        self.staged: list[tuple[Staged, str, ManifestEntry]] = []
        self.then: list[Callable[[], None]] = []
        #: Files and bytes added since the last publish.
        self.count = 0
        self.size = 0
        self.limit = max(1, getattr(executor, "_max_workers", 1))

    def add(self, relpath: str, data: bytes, url: str, entry: ManifestEntry) -> None:
        self.files.append((relpath, data, url, entry))
        self.pending += len(data)
        self.count += 1
        self.size += len(data)
        if len(self.files) >= STAGE_FILES or self.pending >= STAGE_BYTES:
            self._stage()

    def after(self, done: Callable[[], None]) -> None:
        """Call ``done`` once the files added so far are published."""
        self.then.append(done)

    @property
    def full(self) -> bool:
        return self.count >= BATCH_FILES or self.size >= BATCH_BYTES

    def _stage(self) -> None:
        """Hand the files added so far to a task (taking in the oldest task's files when
        enough are in flight)."""
        if not self.files:
            return
        self.output.begin_writing()
        files, self.files, self.pending = self.files, [], 0
        todo = [(relpath, data) for relpath, data, _url, _entry in files]
        future = self.executor.submit(stage_files, self.config, todo)
        self.flight.append((future, [(url, entry) for _r, _d, url, entry in files]))
        while len(self.flight) > self.limit:
            self._take(self.flight.popleft())

    def _take(self, task: Task) -> None:
        future, files = task
        staged = future.result()
        self.staged += [(s, url, entry) for s, (url, entry) in zip(staged, files, strict=True)]

    def publish(self) -> None:
        """Stage what was added, then publish and record everything staged."""
        self._stage()
        while self.flight:
            self._take(self.flight.popleft())
        staged, then = self.staged, self.then
        self.staged, self.then, self.count, self.size = [], [], 0, 0
        try:
            self.checkpoint()  # a stop here discards the staged files: none is renamed
            self.output.writer.publish([s for s, _url, _entry in staged])
        except BaseException:
            self.output.writer.discard(s for s, _url, _entry in staged)
            raise
        for s, url, entry in staged:
            self.recorder.wrote(s.relpath, url, s.stat, s.changed, entry)
        for done in then:
            done()

    def discard(self) -> None:
        """Remove the temporary files of everything not published (none is renamed)."""
        self.files, self.then, self.pending, self.count, self.size = [], [], 0, 0, 0
        while self.flight:
            future, _files = self.flight.popleft()
            with contextlib.suppress(Exception):
                self.output.writer.discard(future.result())
        self.output.writer.discard(s for s, _url, _entry in self.staged)
        self.staged = []


class Applier:
    """One plan's application. With ``dry_run`` nothing is written or recorded.
    ``checkpoint`` is called at each safe point (between rendered groups and archive
    tasks, after each batch): it may raise to stop the build there."""

    def __init__(
        self,
        config: Config,
        cache: Cache,
        output: Output,
        pool: Pool,
        *,
        dry_run: bool,
        checkpoint: Callable[[], None] = _nothing,
    ) -> None:
        self.config = config
        self.cache = cache
        self.output = output
        self.pool = pool
        self.dry_run = dry_run
        self.checkpoint = checkpoint

    def run(self, plan: Plan, snapshot: Snapshot) -> Applied:
        rec = Recorder(self.config, self.cache, self.output, snapshot, plan, dry_run=self.dry_run)
        rec.claim(plan.claims)
        errors = Errors()
        executor = executor_for(
            self.pool,
            len({e.post.relpath for d in plan.render for e in d.entries}),
            len(plan.render),
        )
        batch = Batch(self.config, self.output, rec, executor, self.checkpoint)
        try:
            failed: list[Render | ArchiveRender] = []
            if not self.dry_run:  # archives are not subscriptions: a dry run has no use for them
                failed += self._archives(plan.archive_render, rec, errors)
            rendering = Rendering(self.config, executor, errors)
            site = None
            for result in rendering.run(plan.render):
                self.checkpoint()
                if isinstance(result, Failed):
                    failed.append(result.decision)
                    continue
                self._write_group(result.decision, result.files, batch, rec)
                site = result.decision if result.decision.key == SITE else site
                if batch.full:
                    self._publish(batch)
            settled = settle(plan, failed)
            if site is not None and self.config.feeds.pages:
                self._site_page(site, rendering, settled, batch, rec)
            if settled.opml:
                self._opml(settled, batch, rec)
            self._publish(batch)
            self._rest(settled, rec)
        except BaseException:
            batch.discard()
            raise
        return rec.finish(settled, errors.sorted())

    def _publish(self, batch: Batch) -> None:
        if not self.dry_run:
            batch.publish()
        self.checkpoint()

    # -- feeds and pages --------------------------------------------------------------------
    def _put(self, batch: Batch, rec: Recorder, f: FeedFile, entry: ManifestEntry) -> None:
        if self.dry_run:
            rec.wrote(f.relpath, f.url, None, False, entry)
        else:
            batch.add(f.relpath, f.data, f.url, entry)

    def _write_group(
        self, decision: Render, files: list[FeedFile], batch: Batch, rec: Recorder
    ) -> None:
        group = decision.group
        for f in files:
            if f.relpath in decision.keep:
                rec.kept([f.relpath], group.name)
            elif f.relpath not in decision.foreign:  # someone else's: never written over
                self._put(batch, rec, f, _entry(group, f.sources))
        self._remove(decision.drop, rec)

        def record() -> None:  # once its files are published
            rec.group(group.key, group.name, group.spellings, decision.signature)

        if self.dry_run:
            record()
        else:
            batch.after(record)

    def _site_page(
        self,
        site: Render,
        rendering: Rendering,
        settled: Plan,
        batch: Batch,
        rec: Recorder,
    ) -> None:
        """The site's page, last: it lists every group as this build leaves it."""
        if PAGE in site.keep:
            rec.kept([PAGE])
        elif PAGE not in site.foreign:
            from ..render import render_page_file  # feedgen and lxml: only when rendering

            group = site.group
            items = rendering.site_items  # every post's item: no content is needed
            f = render_page_file(self.config, group, {}, settled.listed, items)
            self._put(batch, rec, f, _entry(group, f.sources))

    def _opml(self, settled: Plan, batch: Batch, rec: Recorder) -> None:
        from ..opml import render_opml

        listed = subscribed(settled, self.config)
        groups = [
            Group(kind=cast(GroupKind, key.kind), slug=key.slug, name=name, posts=())
            for key, name in sorted(listed.items(), key=lambda i: group_order(i[0]))
        ]
        f = FeedFile(OPML, render_opml(self.config, groups), feed_url(self.config, OPML))
        self._put(batch, rec, f, ManifestEntry())

    # -- archives ---------------------------------------------------------------------------
    def _archives(
        self, renders: list[ArchiveRender], rec: Recorder, errors: Errors
    ) -> list[ArchiveRender]:
        """Render and write the archives (workers write them, a task's files as one
        batch); record what they wrote. The archives that could not be rendered."""
        failed = []
        durable = self.output.durable
        tasks = render_archive_tasks(
            self.config, self.cache, self.pool, renders, errors, durable=durable
        )
        for result in tasks:
            self.checkpoint()
            d = result.decision
            if isinstance(result, Failed):
                failed.append(d)
                continue
            rec.kept(d.keep)
            rec.wrote_archive(d.name, result.files)
            self._remove(d.drop, rec)
            rec.folders(p.rpartition("/")[0] for p in (*d.drop, *(w.relpath for w in result.files)))
            rec.archive(d.key, d.links.period or "", d.signature)
        return failed

    # -- what is kept or removed --------------------------------------------------------------
    def _rest(self, settled: Plan, rec: Recorder) -> None:
        """Files kept as they were, files removed, and the records of their groups."""
        for a in settled.archives if not self.dry_run else ():
            if isinstance(a, ArchiveKeep):
                rec.kept(a.files)
                rec.archive(a.key, a.period, None)
            elif isinstance(a, ArchiveRemove):
                self._remove(a.files, rec)
                rec.folders(p.rpartition("/")[0] for p in a.files)
                rec.archive_gone(a.key, a.period)
        for d in settled.decisions:
            if isinstance(d, Keep):
                rec.kept(d.files)
                rec.group(d.key, d.name, (d.name,), None)
            elif isinstance(d, Remove):
                self._remove(d.files, rec)
                rec.group(d.key, None)
            elif isinstance(d, Abandon):
                rec.group(d.key, None)
        self._remove(settled.stale, rec)

    def _remove(self, paths: Iterable[str], rec: Recorder) -> None:
        if self.dry_run:
            return
        for path in paths:
            rec.removed(path, self.output.writer.remove(path))


def _entry(group: Group, sources: tuple[str, ...]) -> ManifestEntry:
    """A feed or page file's manifest entry: the posts in it, its group's name, and what
    the site's page lists for the group."""
    shown: Listing = listing(group)
    return ManifestEntry(sources=sources, name=group.name, count=shown.count, newest=shown.newest)
