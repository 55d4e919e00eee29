"""Work that runs in worker processes during a build, and the pool that runs it.

Functions here are module-level so that they pickle: :func:`parse_file` reads and parses
one post file, :func:`render_post` renders one entry, and :class:`FeedRenderer` renders
groups' feeds, overlapping entry and feed rendering on every core.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

from ..config import Config
from ..discover import read_post
from ..errors import PostError, describe
from ..group import memberships
from ..model import EntryContent, FeedFile, Group, Post, RawPost
from ..posts import Skip, parse_post, with_body
from .cache import FileRow, content_hash

T = TypeVar("T")
#: Entries rendered per task.
_ENTRY_BATCH = 50


def parse_file(config: Config, raw: RawPost, known_sha: str | None) -> FileRow | None:
    """Read and parse one file. ``None`` when its bytes hash to ``known_sha`` (touched only)."""
    try:
        data = read_post(raw, config.source)
    except PostError as e:
        return FileRow(raw.relpath, raw.size, raw.mtime_ns, "", "error", error=str(e))
    sha = content_hash(data)
    if sha == known_sha:
        return None
    warnings: list[str] = []
    try:
        post = parse_post(raw, data, config, warnings=warnings, keep_body=False)
    except PostError as e:
        return FileRow(raw.relpath, raw.size, raw.mtime_ns, sha, "error", error=str(e))
    except Skip:
        return FileRow(raw.relpath, raw.size, raw.mtime_ns, sha, "skip")
    except Exception as e:  # a bug must not cost the other posts: name the post
        error = str(PostError(raw.relpath, 1, f"cannot be processed: {describe(e)}"))
        return FileRow(raw.relpath, raw.size, raw.mtime_ns, sha, "error", error=error)
    members, more = memberships(post, config)
    return FileRow.of_post(raw, sha, post, warnings + more, members, config.future or post.future)


def parse_batch(config: Config, batch: list[tuple[RawPost, str | None]]) -> list[FileRow | None]:
    return [parse_file(config, raw, sha) for raw, sha in batch]


def render_post(config: Config, post: Post, abspath: str) -> tuple[str, EntryContent]:
    """Load one post's body and render its entry content."""
    try:
        with open(abspath, "rb") as f:
            data = f.read()
        from ..content import render_entry  # Markdown and nh3: only when rendering

        return post.relpath, render_entry(with_body(post, data))
    except (OSError, PostError):
        return post.relpath, EntryContent(html="", summary=post.excerpt or "")


def render_batch(config: Config, batch: list[tuple[Post, str]]) -> list[tuple[str, EntryContent]]:
    return [render_post(config, post, path) for post, path in batch]


def render_feeds_task(
    config: Config, group: Group, contents: dict[str, EntryContent]
) -> list[FeedFile]:
    from ..render import render_group

    return render_group(config, group, contents)


class Inline:
    """An executor that runs each task at once, in this process."""

    _max_workers = 1

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args))
        return future


class FeedRenderer:
    """Render groups' feeds and the entries they need, overlapped on the worker processes.

    Missing entries are rendered once each, in the order the groups first need them; a
    group's feeds are rendered as soon as all its entries are known, and come back in
    group order. Only a few tasks are in flight, and an entry is forgotten once the last
    group that needs it is sent off, so memory stays bounded.
    """

    def __init__(
        self,
        config: Config,
        executor: Executor | None,
        contents: dict[str, EntryContent],
        store: Callable[[str, EntryContent], None],
    ) -> None:
        self.config = config
        self.executor: Executor | Inline = executor or Inline()
        self.limit = 2 * max(1, getattr(self.executor, "_max_workers", 2))
        self.contents = contents
        self.store = store

    def run(self, groups: list[Group]) -> Iterator[list[FeedFile]]:
        uses = Counter(p.relpath for g in groups for p in g.posts)
        wanted = dict.fromkeys(p.relpath for g in groups for p in g.posts)
        posts = {p.relpath: p for g in groups for p in g.posts}
        missing = [
            (posts[r], str(self.config.source / r)) for r in wanted if r not in self.contents
        ]
        batches = iter(list(chunks(missing, _ENTRY_BATCH)))
        window: deque[tuple[bool, Future[Any]]] = deque()
        pending = deque(groups)
        while pending or window:
            while len(window) < self.limit:
                if pending and all(p.relpath in self.contents for p in pending[0].posts):
                    window.append((True, self._submit_group(pending.popleft(), uses)))
                elif (batch := next(batches, None)) is not None:
                    window.append((False, self.executor.submit(render_batch, self.config, batch)))
                else:
                    break
            is_feed, future = window.popleft()
            if is_feed:
                yield future.result()
                continue
            for relpath, content in future.result():
                self.store(relpath, content)
                self.contents[relpath] = content

    def _submit_group(self, group: Group, uses: Counter[str]) -> Future[list[FeedFile]]:
        contents = {p.relpath: self.contents[p.relpath] for p in group.posts}
        for relpath in contents:
            uses[relpath] -= 1
            if not uses[relpath]:
                del self.contents[relpath]
        return self.executor.submit(render_feeds_task, self.config, group, contents)


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def bounded_map(
    executor: Executor, fn: Callable[..., T], config: Config, batches: Iterable[list[Any]]
) -> Iterator[T]:
    """``executor.map`` that keeps only a few batches in flight (bounded memory), in order."""
    window: deque[Future[T]] = deque()
    limit = 4 * max(1, getattr(executor, "_max_workers", 2))
    for batch in batches:
        window.append(executor.submit(fn, config, batch))
        if len(window) >= limit:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


class Pool:
    """Worker processes, started only when a build has enough work for them."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: Executor | None = None

    @property
    def running(self) -> bool:
        """Whether the worker processes are already started (using them costs nothing)."""
        return self.executor is not None

    def get(self) -> Executor | None:
        if self.jobs < 2:
            return None
        if self.executor is None:
            import multiprocessing

            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["feedwright.engine.workers"])
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx)
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
