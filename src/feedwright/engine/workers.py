"""Work that runs in worker processes during a build, and the pool that runs it.

The functions here are module-level so that they pickle, and return model types and
typed rows: :func:`parse_batch` reads and parses post files, :func:`render_entries`
reads bodies and renders entries (and serializes each once per format),
:func:`render_feeds` puts one group's feeds together.

Workers die with the process that started them, however it ends (even ``SIGKILL``):
each watches its parent through a pidfd and exits the moment it is gone, and with
them go multiprocessing's fork server and resource tracker. Ctrl-C waits until a
worker being started has started (see :class:`_Steady`), so it ends a build rather
than hanging it.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from ..config import Config
from ..discover import PostFolder, raw_post, read_post
from ..errors import PostError, describe
from ..group import archive_period, memberships, rank, visible_from
from ..ledger import format_line, new_row
from ..model import ArchiveLinks, EntryContent, FeedFile, Fragments, Group, Post, RawPost
from ..output import Staged, Writer
from ..posts import Skip, parse_post, with_body
from .codec import bucket_of, content_hash, encode_members, encode_post, id_hash
from .rows import Bad, Entry, FileStat, Good, Outcome, ParsedFile, Same, Skipped, Written

if TYPE_CHECKING:
    from ..content import EntryRenderer
    from ..render import EntryXml

T = TypeVar("T")
P = ParamSpec("P")


# -- parsing -----------------------------------------------------------------------------------
def parse_file(config: Config, raw: RawPost, known_sha: bytes | None) -> ParsedFile:
    """Read and parse one file (:class:`~.rows.Same` when its bytes hash to ``known_sha``)."""
    found = FileStat(raw.relpath, bucket_of(raw.relpath), raw.size, raw.mtime_ns)
    return ParsedFile(found, _outcome(config, raw, known_sha))


def _outcome(config: Config, raw: RawPost, known_sha: bytes | None) -> Outcome:
    path = raw.relpath
    try:
        data = read_post(config.source, path)
    except PostError as e:
        return Bad(b"", str(e))
    sha = content_hash(data)
    if sha == known_sha:
        return Same(sha)
    warnings: list[str] = []
    try:
        post = parse_post(raw, data, config, warnings=warnings, keep_body=False)
        members, more = memberships(post, config)
    except PostError as e:
        return Bad(sha, str(e))
    except Skip:
        return Skipped(sha)
    except Exception as e:  # a bug must not cost the other posts: name the post
        return Bad(sha, str(PostError(path, 1, f"cannot be processed: {describe(e)}")))
    warnings += more
    every = config.feeds.archives
    return Good(
        sha,
        rank=rank(post),
        visible=visible_from(post, config),
        eid=id_hash(post.id),
        url=post.url,
        entry_id=post.id,
        period=archive_period(post, every, config.site.timezone) if every else None,
        record=encode_post(post),
        members=encode_members(members),
        warnings="\n".join(warnings) if warnings else None,
        line=None if (row := new_row(sha, post.id, post.url)) is None else format_line(path, row),
    )


#: A file to parse: its folder, name, size, mtime, and the content hash the cache knows.
Todo = tuple[PostFolder, str, int, int, bytes | None]


def parse_batch(config: Config, batch: list[Todo]) -> list[ParsedFile]:
    return [
        parse_file(config, raw_post(folder, name, size, mtime), sha)
        for folder, name, size, mtime, sha in batch
    ]


# -- rendering ---------------------------------------------------------------------------------
def render_entry(config: Config, post: Post, sha: bytes) -> EntryContent | PostError:
    """Read one post's body (the same guarded read as its front matter) and render its
    entry; a :class:`PostError` when it cannot be read or rendered, or changed since it
    was parsed."""
    try:
        data = read_post(config.source, post.relpath)
        if content_hash(data) != sha:
            return PostError(post.relpath, 1, "changed while the build ran; read again next build")
        return _entry_renderer().render_entry(with_body(post, data))
    except PostError as e:
        return e
    except Exception as e:  # a bug must not cost the other posts: name the post
        return PostError(post.relpath, 1, f"cannot be rendered: {describe(e)}")


_local = threading.local()


def _entry_renderer() -> EntryRenderer:
    """This thread's entry renderer (one Markdown instance and nh3 cleaners, reused)."""
    renderer: EntryRenderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        from ..content import EntryRenderer  # Markdown and nh3: only when rendering

        renderer = _local.renderer = EntryRenderer()
    return renderer


#: A post's rendered entry as the main process needs it: its fragments in the feeds'
#: formats (for every feed that holds it) and, with ``feeds.pages``, its item on the pages
#: that list it. Its HTML stays here: nothing else needs it.
RenderedEntry = tuple[Fragments, str | None]


def render_entries(
    config: Config, batch: list[Entry]
) -> list[tuple[str, RenderedEntry | PostError]]:
    """Each post's entry, its fragments in ``feeds.formats`` and its page item: rendered
    here, once a build, however many feeds and pages hold the post (the main process
    only puts documents together)."""
    return [(e.post.relpath, _rendered(config, e.post, e.sha)) for e in batch]


def _rendered(config: Config, post: Post, sha: bytes) -> RenderedEntry | PostError:
    from ..pages import entry_item
    from ..render import entry_fragments

    content = render_entry(config, post, sha)
    if isinstance(content, PostError):
        return content
    try:
        item = entry_item(config, post, content) if config.feeds.pages else None
        return entry_fragments(config, post, content), item
    except Exception as e:  # a bug must not cost the other posts: name the post
        return PostError(post.relpath, 1, f"cannot be rendered: {describe(e)}")


def render_feeds(
    config: Config,
    group: Group,
    contents: dict[str, EntryContent],
    links: ArchiveLinks | None = None,
    xml: EntryXml | None = None,
) -> list[FeedFile]:
    from ..render import render_group

    return render_group(config, group, contents, links, xml)


def render_archives(
    config: Config,
    posts: list[Entry],
    jobs: list[tuple[Group, ArchiveLinks, frozenset[str]]],
    durable: bool = True,
) -> tuple[list[list[Written] | None], list[PostError]]:
    """Render the entries of ``posts`` (once each), then each archive of ``jobs`` from them,
    and write its files (but those the job keeps as they were): what was written, or
    ``None`` when one of its posts could not be rendered (nothing written); and the errors.

    Archives are written where they are rendered: a cold build writes gigabytes of them,
    and the worker processes share that work instead of sending every byte back. A task's
    files are one batch: written, synced at once, then renamed."""
    from ..render import EntryXml, render_archive

    writer = Writer(config.output, durable=durable)  # one per task: folders may go
    xml = EntryXml(config)
    contents: dict[str, EntryContent] = {}
    failed: dict[str, PostError] = {}
    for post, sha in posts:
        content = render_entry(config, post, sha)
        if isinstance(content, PostError):
            failed[post.relpath] = content
        else:
            contents[post.relpath] = content
    out: list[list[Written] | None] = []
    files: list[tuple[int, FeedFile, Staged]] = []
    try:
        for i, (group, links, keep) in enumerate(jobs):
            if any(p.relpath in failed for p in group.posts):
                out.append(None)
                continue
            out.append([])
            for f in render_archive(config, group, contents, links, xml):
                if f.relpath not in keep:
                    files.append((i, f, writer.stage(f.relpath, f.data)))
        writer.publish([s for _i, _f, s in files])
    except BaseException:
        writer.discard(s for _i, _f, s in files)
        raise
    for i, f, staged in files:
        written = Written(f.relpath, f.url, f.sources, staged.changed, *staged.stat)
        cast(list[Written], out[i]).append(written)
    writer.sync_folders()  # the renames are durable before the main process records them
    return out, list(failed.values())


def stage_files(config: Config, files: list[tuple[str, bytes]]) -> list[Staged]:
    """Stage a batch of feed and page files (:meth:`~feedwright.output.Writer.stage`:
    each in a temporary file beside it, or found already holding its bytes). In a worker
    process: creating thousands of files costs the kernel about as much as rendering
    them costs Python, and the main process renders on meanwhile. The main process syncs
    and renames them (or removes the temporaries, when the build stops)."""
    writer = Writer(config.output)  # one per task, as for archives
    staged: list[Staged] = []
    try:
        for relpath, data in files:
            staged.append(writer.stage(relpath, data))
    except BaseException:
        writer.discard(staged)
        raise
    return staged


# -- the pool ----------------------------------------------------------------------------------
class Inline:
    """An executor that runs each task at once, in this process."""

    _max_workers = 1

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args))
        return future


def _watch_parent(parent: int) -> None:
    """In a worker: exit the moment the process that started the pool is gone. Ctrl-C,
    which a terminal sends to the whole process group, is the parent's to act on (it
    stops the build at a safe point and shuts the pool down): a worker never dies of it
    half-way through a task, such as renaming a batch of archive files. (SIGTERM keeps
    its default: the pool ends a broken pool's workers with it.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_wait_for_exit, args=(parent,), daemon=True).start()
    # What the worker starts with (the modules it imported) lives as long as it does:
    # the garbage collector need not walk it again with every batch's new objects.
    gc.freeze()


def _wait_for_exit(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfds here: poll
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
    select.select([fd], [], [])  # readable once the process has exited
    os._exit(1)


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) until the block is done, then deliver it.

    Only the main thread gets ``KeyboardInterrupt`` (and may set handlers): elsewhere,
    and when the handler was not set from Python, this does nothing.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)  # the handler runs now: KeyboardInterrupt


class _Steady(Executor):
    """The pool's executor, with Ctrl-C held back while a task is submitted.

    ``ProcessPoolExecutor.submit`` starts a worker when none is idle. A
    ``KeyboardInterrupt`` in the middle of that (the worker forked, its pid not yet read
    back from the fork server) leaves a worker running that the executor does not know
    of. At shutdown it can take the stop sentinel sent for a known worker, and
    ``shutdown()`` then waits for that one for ever: in trials, a build or ``watch``
    sent SIGINT alone (as ``kill -INT`` and some supervisors send it) as its pool
    started hung about one time in four.
    """

    def __init__(self, executor: Executor, max_workers: int) -> None:
        self._executor = executor
        self._max_workers = max_workers  # read by bounded_map and Rendering

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with _sigint_held():
            return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait, cancel_futures=cancel_futures)


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
        """The executor, or ``None`` when there is one core (run in this process)."""
        if self.jobs < 2:
            return None
        if self.executor is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
            executor = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=ctx,
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
            self.executor = _Steady(executor, self.jobs)
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
            self.executor = None


def bounded_map(
    executor: Executor | Inline, fn: Callable[..., T], config: Config, batches: Iterable[Any]
) -> Iterator[T]:
    """``executor.map`` that keeps only a few batches in flight (bounded memory), in order."""
    window: list[Future[T]] = []
    limit = 4 * max(1, getattr(executor, "_max_workers", 2))
    for batch in batches:
        window.append(executor.submit(fn, config, batch))
        if len(window) >= limit:
            yield window.pop(0).result()
    for future in window:
        yield future.result()
