"""Render what a plan decided: each decision comes back :class:`Rendered` (its files) or
:class:`Failed` (a post of it could not be read or rendered now: :func:`.plan.settle`
says what the build does instead).

Entries and feeds are rendered in worker processes when there are many (entries first
needed first, each group's feeds as soon as its entries are known, so memory stays
bounded); archives a few periods per task, written by the worker that rendered them.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from ..config import Config
from ..errors import PostError
from ..group import order_key
from ..layout import SITE, group_order
from ..model import ArchiveLinks, FeedFile, Group, GroupKind
from .cache import Cache
from .chunking import batched
from .codec import post_of
from .decisions import ArchiveRender, Render
from .rows import Entry, Written
from .workers import (
    Inline,
    Pool,
    RenderedEntry,
    render_archives,
    render_entries,
    render_feeds,
)

#: Render in worker processes when at least this many entries…
PARALLEL_ENTRIES = 300
#: …or this many groups' feeds are to be rendered.
PARALLEL_GROUPS = 100
_ENTRY_BATCH = 40
#: Archives are rendered a few periods at a time, about this many posts per task.
_ARCHIVE_BATCH = 400

D = TypeVar("D", Render, ArchiveRender)
F = TypeVar("F", FeedFile, Written)


@dataclass(frozen=True, slots=True)
class Rendered(Generic[D, F]):
    """A decision whose files were rendered: feed files (the main process writes them),
    or, for an archive, the files a worker wrote."""

    decision: D
    files: list[F]


@dataclass(frozen=True, slots=True)
class Failed(Generic[D]):
    """A decision with a post that could not be read or rendered now."""

    decision: D


@dataclass(slots=True)
class Errors:
    """The posts that could not be read or rendered, one error each."""

    by_path: dict[str, PostError] = field(default_factory=dict)

    def add(self, error: PostError) -> None:
        self.by_path.setdefault(error.path, error)

    def sorted(self) -> list[PostError]:
        return [self.by_path[p] for p in sorted(self.by_path)]


def executor_for(pool: Pool, entries: int, decisions: int) -> Executor | Inline:
    """The pool's workers when there is much to render (or they are running anyway)."""
    big = entries >= PARALLEL_ENTRIES or decisions >= PARALLEL_GROUPS
    return (pool.get() if big or pool.running else None) or Inline()


class Rendering:
    """Render the entries the groups need (once each) and each group's feeds, overlapped.

    Groups come back in their order. Only a few tasks are in flight, and an entry is
    forgotten once the last group that needs it is sent off.
    """

    def __init__(self, config: Config, executor: Executor | Inline, errors: Errors) -> None:
        from ..render import EntryXml  # feedgen and lxml: only when rendering

        self.config = config
        self.executor = executor
        self.errors = errors
        self.limit = 2 * max(1, getattr(executor, "_max_workers", 2))
        #: The posts whose entries are back (in ``xml``) and not yet forgotten.
        self.ready: set[str] = set()
        #: The entries' fragments, serialized by the workers that rendered them.
        self.xml = EntryXml(config)
        self.failed: set[str] = set()
        #: The items of the site's posts on its page (rendered last: it lists every group).
        self.site_items: dict[str, str] = {}

    def run(self, renders: list[Render]) -> Iterator[Rendered[Render, FeedFile] | Failed[Render]]:
        uses = Counter(e.post.relpath for d in renders for e in d.entries)
        needed: dict[str, Entry] = {}
        for d in renders:
            for e in d.entries:
                needed.setdefault(e.post.relpath, e)
        batches = batched(list(needed.values()), _ENTRY_BATCH)
        window: deque[Future[list[tuple[str, RenderedEntry | PostError]]]] = deque()
        pending = deque(renders)
        while pending:
            # the workers render entries (first needed first) while this process puts
            # together each group whose entries are all back
            while len(window) < self.limit and (batch := next(batches, None)) is not None:
                window.append(self.executor.submit(render_entries, self.config, batch))
            while pending and self._ready(pending[0]):
                yield self._render(pending.popleft(), uses)
            if pending:
                self._take(window.popleft().result())

    def _take(self, results: list[tuple[str, RenderedEntry | PostError]]) -> None:
        for relpath, rendered in results:
            if isinstance(rendered, PostError):
                self.failed.add(relpath)
                self.errors.add(rendered)
            else:
                self.ready.add(relpath)
                self.xml.keep(relpath, *rendered)

    def _ready(self, decision: Render) -> bool:
        return all(
            e.post.relpath in self.ready or e.post.relpath in self.failed for e in decision.entries
        )

    def _render(
        self, decision: Render, uses: Counter[str]
    ) -> Rendered[Render, FeedFile] | Failed[Render]:
        posts = [e.post for e in decision.entries]
        ok = not any(p.relpath in self.failed for p in posts)
        result: Rendered[Render, FeedFile] | Failed[Render] = Failed(decision)
        if ok:
            if decision.key == SITE:
                items = self.xml.items
                self.site_items = {p.relpath: items[p.relpath] for p in posts if p.relpath in items}
            links = ArchiveLinks(None, decision.archive) if decision.archive else None
            # every entry's fragments and page item are in xml: no content is needed
            files = render_feeds(self.config, decision.group, {}, links, self.xml)
            result = Rendered(decision, files)
        for post in posts:  # after the feeds: they take the entries' fragments
            uses[post.relpath] -= 1
            if not uses[post.relpath]:
                self.ready.discard(post.relpath)
                self.xml.forget(post.relpath)
        return result


def render_archive_tasks(
    config: Config,
    cache: Cache,
    pool: Pool,
    renders: list[ArchiveRender],
    errors: Errors,
    *,
    durable: bool,
) -> Iterator[Rendered[ArchiveRender, Written] | Failed[ArchiveRender]]:
    """Each archive rendered and written, a few periods per task (in time order, so that
    only those periods' posts are in memory), in worker processes when there are many."""
    renders = sorted(renders, key=lambda d: (d.links.period or "", group_order(d.key)))
    batches: list[list[ArchiveRender]] = []
    size = 0
    for d in renders:
        if not batches or (
            size >= _ARCHIVE_BATCH and d.links.period != batches[-1][-1].links.period
        ):
            batches.append([])
            size = 0
        batches[-1].append(d)
        size += len(d.period.sources)
    entries = len({s.path for d in renders for s in d.period.sources})
    executor = executor_for(pool, entries, len(renders))
    limit = 2 * max(1, getattr(executor, "_max_workers", 2))
    window: deque[tuple[list[ArchiveRender], Future[Any]]] = deque()
    pending = iter(batches)
    while True:
        while len(window) < limit and (batch := next(pending, None)) is not None:
            posts, jobs = _archive_jobs(cache, batch)
            future = executor.submit(render_archives, config, posts, jobs, durable)
            window.append((batch, future))
        if not window:
            return
        batch, future = window.popleft()
        results, failed = future.result()
        for error in failed:
            errors.add(error)
        for d, files in zip(batch, results, strict=True):
            yield Failed(d) if files is None else Rendered(d, files)


def _archive_jobs(
    cache: Cache, batch: list[ArchiveRender]
) -> tuple[list[Entry], list[tuple[Group, ArchiveLinks, frozenset[str]]]]:
    """The posts of a batch of archives, read from the cache, and each archive's group."""
    paths = sorted({s.path for d in batch for s in d.period.sources})
    posts = {c.path: Entry(post_of(c), c.sha) for c in cache.posts.by_path(paths)}
    jobs = []
    for d in batch:
        mine = sorted((posts[s.path].post for s in d.period.sources), key=order_key)
        kind = cast(GroupKind, d.key.kind)
        group = Group(kind=kind, slug=d.key.slug, name=d.name, posts=tuple(mine))
        jobs.append((group, d.links, d.keep | d.foreign))  # files not written
    return [posts[p] for p in paths], jobs
