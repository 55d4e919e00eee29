"""The orchestrator: config → discover → parse → group → render → write → BuildReport.

A build is incremental: the cache (:mod:`feedwright.cache`) says which post files changed
since the last build; only those are parsed, only the groups they were or are in are
looked at again, and only feeds whose entries changed are rendered and written. A cold
build (no cache, ``--full``, a new config) is the same code with every file changed, and
parses on every core.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from .cache import CACHE_NAME, Cache, FileRow, content_hash, post_from_record
from .config import Config
from .content import render_entry
from .discover import Found, discover, read_post
from .errors import ConfigError, PostError
from .group import group_posts, memberships, order_key
from .model import BuildReport, EntryContent, FeedFile, Group, Post, RawPost
from .opml import render_opml
from .output import ManifestEntry, Output
from .posts import Skip, is_visible, parse_post, with_body
from .render import FILENAMES, feed_url, group_dir, render_group

Progress = Callable[[int, int], None]
T = TypeVar("T")
OPML = "feeds.opml"
#: Parse in worker processes when at least this many files changed.
PARALLEL_PARSE = 2000
#: Render entries in worker processes when at least this many are missing from the cache…
PARALLEL_RENDER = 300
#: …or feeds, when at least this many groups are rendered.
PARALLEL_FEEDS = 100
#: Entries rendered per task.
_ENTRY_BATCH = 50
_BATCH = 400
_KIND_ORDER = {"site": 0, "category": 1, "tag": 2}


# -- the simple, in-memory pipeline (used by `feedwright feeds` and as the reference) ------
@dataclass(frozen=True, slots=True)
class Parsed:
    """Every post read from the source: the good ones and one error per bad one."""

    posts: list[Post]
    errors: list[PostError]
    warnings: list[str]
    found: Found


def read_posts(config: Config, *, now: datetime, progress: Progress | None = None) -> Parsed:
    """Discover and parse every post (bodies included). Bad posts become errors."""
    require_source(config)
    found = discover(config.source, exclude=(config.output,))
    posts: list[Post] = []
    errors: list[PostError] = []
    warnings: list[str] = []
    total = len(found.posts)
    for i, raw in enumerate(found.posts):
        try:
            post = parse_post(raw, read_post(raw, config.source), config, warnings=warnings)
            if is_visible(post, config, now):
                posts.append(post)
        except PostError as e:
            errors.append(e)
        except Skip:
            pass
        except Exception as e:  # a bug must not cost the other posts: name the post
            errors.append(PostError(raw.relpath, 1, f"cannot be processed: {_describe(e)}"))
        if progress is not None:
            progress(i + 1, total)
    return Parsed(posts=_dedupe(posts, errors), errors=errors, warnings=warnings, found=found)


def require_source(config: Config) -> None:
    """A missing source folder is an error, never an empty site (that would empty every feed)."""
    if not config.source.is_dir():
        raise ConfigError(config.file, "source", f"no such folder: {config.source}")


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _dedupe(posts: list[Post], errors: list[PostError]) -> list[Post]:
    """One post per entry id: the first in feed order wins, the others are rejected."""
    by_id: dict[str, Post] = {}
    for post in sorted(posts, key=lambda p: (*order_key(p), p.relpath)):
        first = by_id.get(post.id)
        if first is None:
            by_id[post.id] = post
        else:
            errors.append(PostError(post.relpath, 1, _dup_message(first.relpath, post.id)))
    errors.sort(key=lambda e: e.path)
    return list(by_id.values())


def _dup_message(winner: str, entry_id: str) -> str:
    return f"has the same entry id as {winner} ({entry_id}); skipped"


def render_feeds(config: Config, groups: list[Group]) -> list[FeedFile]:
    """Every feed file of ``groups`` (posts with bodies) and the OPML."""
    contents = {p.relpath: render_entry(p) for g in groups for p in g.posts}
    files = [f for group in groups for f in render_group(config, group, contents)]
    files.append(
        FeedFile(relpath=OPML, data=render_opml(config, groups), url=feed_url(config, OPML))
    )
    return files


def simple_build_files(config: Config, *, now: datetime) -> tuple[list[FeedFile], Parsed]:
    """What a build writes, computed in memory without cache (for tests and tools)."""
    parsed = read_posts(config, now=now)
    groups, _ = group_posts(parsed.posts, config)
    return render_feeds(config, groups), parsed


# -- workers (module level: they run in other processes) ------------------------------------
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
        error = str(PostError(raw.relpath, 1, f"cannot be processed: {_describe(e)}"))
        return FileRow(raw.relpath, raw.size, raw.mtime_ns, sha, "error", error=error)
    members, more = memberships(post, config)
    return FileRow.of_post(raw, sha, post, warnings + more, members, config.future or post.future)


def _parse_batch(config: Config, batch: list[tuple[RawPost, str | None]]) -> list[FileRow | None]:
    return [parse_file(config, raw, sha) for raw, sha in batch]


def render_post(config: Config, post: Post, abspath: str) -> tuple[str, EntryContent]:
    """Load one post's body and render its entry content."""
    try:
        with open(abspath, "rb") as f:
            data = f.read()
        return post.relpath, render_entry(with_body(post, data))
    except (OSError, PostError):
        return post.relpath, EntryContent(html="", summary=post.excerpt or "")


def _render_batch(config: Config, batch: list[tuple[Post, str]]) -> list[tuple[str, EntryContent]]:
    return [render_post(config, post, path) for post, path in batch]


def _render_feeds(
    config: Config, group: Group, contents: dict[str, EntryContent]
) -> list[FeedFile]:
    return render_group(config, group, contents)


class _Inline:
    """An executor that runs each task at once, in this process."""

    _max_workers = 1

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args))
        return future


class _FeedRenderer:
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
        self.executor: Executor | _Inline = executor or _Inline()
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
        batches = iter(list(_batches(missing, _ENTRY_BATCH)))
        window: deque[tuple[bool, Future[Any]]] = deque()
        pending = deque(groups)
        while pending or window:
            while len(window) < self.limit:
                if pending and all(p.relpath in self.contents for p in pending[0].posts):
                    window.append((True, self._submit_group(pending.popleft(), uses)))
                elif (batch := next(batches, None)) is not None:
                    window.append((False, self.executor.submit(_render_batch, self.config, batch)))
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
        return self.executor.submit(_render_feeds, self.config, group, contents)


def _batches(items: list, size: int) -> Iterator[list]:  # type: ignore[type-arg]
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _bounded_map(
    executor: Executor, fn: Callable[..., T], config: Config, batches: Iterable[list]
) -> Iterator[T]:  # type: ignore[type-arg]
    """``executor.map`` that keeps only a few batches in flight (bounded memory), in order."""
    window: deque[Future[T]] = deque()
    limit = 4 * max(1, getattr(executor, "_max_workers", 2))
    for batch in batches:
        window.append(executor.submit(fn, config, batch))
        if len(window) >= limit:
            yield window.popleft().result()
    while window:
        yield window.popleft().result()


class _Pool:
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
            ctx.set_forkserver_preload(["feedwright.build"])
            self.executor = ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx)
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)


# -- the incremental build ------------------------------------------------------------------
def build(
    config: Config,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    full: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build every feed of the site. ``now`` decides which posts are in the future.

    ``dry_run`` parses and renders but writes nothing (not even the cache); ``full``
    ignores the cache. ``jobs`` worker processes parse big batches (default: every core).
    """
    start = time.monotonic()
    now = now or datetime.now(UTC)
    require_source(config)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    out = Output(config.output)
    with ExitStack() as stack:
        if not dry_run:
            out.prepare()
            stack.enter_context(out.lock(on_wait=on_wait))
            out.clean_temporary()
        pool = _Pool(jobs)
        stack.callback(pool.close)
        cache_path = None if dry_run else out.state / CACHE_NAME
        for attempt in range(2):
            cache = Cache(cache_path, config)
            try:
                if full and attempt == 0:
                    cache.reset(config)
                run = _Build(config, cache, out, now, dry_run, pool, progress)
                report = run.run()
                cache.close()
                return _with_time(report, start, cache.warnings)
            except sqlite3.DatabaseError as e:
                cache.close()
                if attempt or cache_path is None:
                    raise
                cache.discard()
                out.warnings.append(f"{cache_path}: the build cache failed ({e}); it is rebuilt")
    raise AssertionError("unreachable")


def _with_time(report: BuildReport, start: float, warnings: list[str]) -> BuildReport:
    from dataclasses import replace

    return replace(
        report, seconds=time.monotonic() - start, warnings=tuple(warnings) + report.warnings
    )


class _Build:
    """One build's state; :meth:`run` does the work."""

    def __init__(
        self,
        config: Config,
        cache: Cache,
        out: Output,
        now: datetime,
        dry_run: bool,
        pool: _Pool,
        progress: Progress | None,
    ) -> None:
        self.config = config
        self.cache = cache
        self.out = out
        self.now = now
        self.now_ts = now.timestamp()
        self.dry_run = dry_run
        self.pool = pool
        self.progress = progress
        self.dirty: set[tuple[str, str]] = set()
        self.cold = False
        self.rejected: set[str] = set()
        #: Groups left without posts while posts are rejected: their feeds stay as they were.
        self.kept_groups: set[tuple[str, str]] = set()

    def run(self) -> BuildReport:
        cache = self.cache
        known = cache.file_stats()
        found = discover(self.config.source, exclude=(self.config.output,), known=known)
        self.cold = not known
        cache.begin()
        if self._update_files(found, known):
            self._update_duplicates()
        self._update_clock()
        self.dirty |= cache.unsettled_groups()
        feed_stats = cache.feed_stats()
        broken = self._check_feeds_on_disk(feed_stats)
        if not self.dirty and not broken:
            report = self._report(
                written=[], unchanged=sorted(feed_stats), removed=[], kept=[], warnings=[]
            )
            cache.commit()
            return report
        report = self._render_and_write(feed_stats, broken)
        cache.commit()
        return report

    # -- 1. files -------------------------------------------------------------------------------
    def _update_files(self, found: Found, known: dict[str, tuple[int, int]]) -> bool:
        """Parse what changed; True if any file was added, changed or removed."""
        cache = self.cache
        present = {raw.relpath for raw in found.posts}
        present.update(found.unchanged)
        gone = sorted(set(known) - present)
        for relpath in gone:
            self.dirty |= cache.groups_of([relpath])
            cache.forget(relpath)
        todo = [
            (raw, cache.sha(raw.relpath) if raw.relpath in known else None) for raw in found.posts
        ]
        pending: list[FileRow] = []
        if self.cold:
            cache.bulk_begin()
        for i, (raw, row) in enumerate(self._parse(todo)):
            if row is None:
                cache.touch(raw.relpath, raw.size, raw.mtime_ns)
            else:
                if raw.relpath in known:
                    self.dirty |= cache.groups_of([raw.relpath])
                pending.append(row)
                self.dirty |= {(k, s) for k, s, _n, _f in row.members}
                if len(pending) >= _BATCH:
                    cache.store(pending, new=self.cold)
                    pending = []
            if self.progress is not None:
                self.progress(i + 1, len(todo))
        cache.store(pending, new=self.cold)
        if self.cold:
            cache.bulk_end()
        return bool(gone or todo)

    def _parse(
        self, todo: list[tuple[RawPost, str | None]]
    ) -> Iterator[tuple[RawPost, FileRow | None]]:
        executor = self.pool.get() if len(todo) >= PARALLEL_PARSE else None
        if executor is None:
            for raw, sha in todo:
                yield raw, parse_file(self.config, raw, sha)
            return
        batches = list(_batches(todo, _BATCH))
        for batch, rows in zip(
            batches, _bounded_map(executor, _parse_batch, self.config, batches), strict=True
        ):
            for (raw, _sha), row in zip(batch, rows, strict=True):
                yield raw, row

    # -- 2. duplicate entry ids --------------------------------------------------------------
    def _update_duplicates(self) -> None:
        cache = self.cache
        losers: set[str] = set()
        for rows in cache.duplicate_sets():
            winner = rows[0]
            if winner[1] == "dup":
                self._restore(winner[0])
            for relpath, status, _ts, _url, _record in rows[1:]:
                losers.add(relpath)
                if status == "post":
                    self.dirty |= cache.groups_of([relpath])
                    cache.drop_members(relpath)
                entry_id = json.loads(winner[4])["id"]
                cache.set_status(
                    relpath, "dup", str(PostError(relpath, 1, _dup_message(winner[0], entry_id)))
                )
        for relpath in cache.former_duplicates():
            if relpath not in losers:
                self._restore(relpath)

    def _restore(self, relpath: str) -> None:
        record = self.cache.record(relpath)
        assert record is not None
        post = post_from_record(relpath, record)
        members, _ = memberships(post, self.config)
        self.cache.set_status(relpath, "post", None)
        self.cache.restore_members(relpath, members, self.config.future or post.future)
        self.dirty |= {(k, s) for k, s, _n, _f in members}

    # -- 3. posts that crossed "now" ---------------------------------------------------------
    def _update_clock(self) -> None:
        previous = self.cache.get_meta("now")
        if previous is not None:
            lo, hi = sorted((float(previous), self.now_ts))
            self.dirty |= self.cache.groups_crossing(lo, hi)
        self.cache.set_meta("now", repr(self.now_ts))

    def _check_feeds_on_disk(self, feed_stats: dict[str, tuple[int, int]]) -> set[str]:
        """Feed files changed or deleted behind feedwright's back: rewrite them."""
        broken = set()
        for relpath, (size, mtime_ns) in feed_stats.items():
            try:
                st = os.stat(self.out.root / relpath)
                ok = (st.st_size, st.st_mtime_ns) == (size, mtime_ns)
            except OSError:
                ok = False
            if not ok:
                broken.add(relpath)
                key = _group_of_path(relpath)
                if key is not None:
                    self.dirty.add(key)
        return broken

    # -- 4. render and write -----------------------------------------------------------------
    def _render_and_write(
        self, feed_stats: dict[str, tuple[int, int]], broken: set[str]
    ) -> BuildReport:
        cache, config = self.cache, self.config
        known_groups = cache.group_rows()
        self.rejected = {path for path, _e in cache.problems()[0]}
        previous = {} if self.dry_run else self.out.load_manifest()
        # Feeds that held a post which is now rejected keep their previous content.
        held = {p for p, entry in previous.items() if self.rejected & set(entry.sources)}
        if self.cold:
            self.dirty.add(("site", ""))
        plans: list[tuple[Group, str]] = []
        removed_groups: set[tuple[str, str]] = set()
        groups_changed = False
        for key in sorted(self.dirty, key=lambda k: (_KIND_ORDER[k[0]], k[1])):
            kind, slug = key
            top = cache.top_posts(kind, slug, self.now_ts, config.feeds.limit)
            if not top and kind != "site":
                if key in known_groups and held.intersection(_group_paths(config, key)):
                    # Its posts only turned bad: keep its feeds (and its OPML entry).
                    self.kept_groups.add(key)
                    # The name its kept feeds were written with; looked at again next time.
                    name = next(previous[p].name for p in _group_paths(config, key) if p in held)
                    cache.put_group(kind, slug, name, [name], None)
                    groups_changed |= known_groups[key][0] != name
                    continue
                if key in known_groups:
                    removed_groups.add(key)
                    groups_changed = True
                cache.drop_group(kind, slug)
                continue
            spellings = cache.spellings(kind, slug, self.now_ts) if kind != "site" else []
            name = spellings[0] if spellings else ""
            signature = _signature(name, spellings, [(r, sha) for r, _rec, sha in top])
            known = known_groups.get(key)
            if known is None or known[0] != name:
                groups_changed = True
            intact = all(p in feed_stats and p not in broken for p in _group_paths(config, key))
            if known is not None and known[2] == signature and intact:
                cache.put_group(kind, slug, name, spellings, signature)
                continue
            posts = tuple(post_from_record(r, rec) for r, rec, _sha in top)
            group = Group(
                kind=kind,
                slug=slug,
                name=name,
                posts=posts,  # type: ignore[arg-type]
                spellings=tuple(spellings),
            )
            cache.put_group(kind, slug, name, spellings, None)
            plans.append((group, signature))
        if self.cold and held:
            # A cold build knows no old groups; the manifest does. A group it no longer
            # finds, whose feeds held a rejected post, keeps its feeds and its OPML entry.
            planned = {g.key for g, _sig in plans}
            for path, entry in previous.items():
                key = _group_of_path(path)
                if key is None or key in planned or key[0] == "site":
                    continue
                if path in held and key not in self.kept_groups:
                    self.kept_groups.add(key)
                    cache.put_group(key[0], key[1], entry.name, [entry.name], None)
                    groups_changed = True
        opml = groups_changed or OPML in broken or OPML not in feed_stats
        return self._write(plans, removed_groups, feed_stats, opml, previous)

    def _all_groups(self) -> list[Group]:
        rows = self.cache.group_rows()
        keys = sorted(rows, key=lambda k: (_KIND_ORDER[k[0]], k[1]))
        return [
            Group(
                kind=k[0],
                slug=k[1],
                name=rows[k][0],
                posts=(),  # type: ignore[arg-type]
                spellings=tuple(rows[k][1]),
            )
            for k in keys
        ]

    def _rendered(self, plans: list[tuple[Group, str]]) -> Iterator[list[FeedFile]]:
        """Each planned group's feed files, in plan order (see :class:`_FeedRenderer`)."""
        groups = [g for g, _sig in plans]
        posts = {p.relpath: p for g in groups for p in g.posts}
        shas = {r: self.cache.sha(r) or "" for r in posts}
        contents = {
            r: EntryContent(html=h, summary=s) for r, (h, s) in self.cache.entries(shas).items()
        }
        missing = sum(1 for r in posts if r not in contents)
        big = missing >= PARALLEL_RENDER or len(groups) >= PARALLEL_FEEDS
        executor = self.pool.get() if big or self.pool.running else None

        def store(relpath: str, content: EntryContent) -> None:
            self.cache.put_entry(relpath, shas[relpath], content.html, content.summary)

        renderer = _FeedRenderer(self.config, executor, contents, store)
        return renderer.run(groups)

    def _write(
        self,
        plans: list[tuple[Group, str]],
        removed_groups: set[tuple[str, str]],
        feed_stats: dict[str, tuple[int, int]],
        opml: bool,
        previous: dict[str, ManifestEntry],
    ) -> BuildReport:
        """Render each planned group and write its files at once (memory stays bounded)."""
        cache, out, config = self.cache, self.out, self.config
        rejected = self.rejected
        planned = [p for g, _s in plans for p in _group_paths(config, g.key)]
        planned += [OPML] if opml else []
        kept_set = {p for p, entry in previous.items() if rejected & set(entry.sources)}
        manifest = dict(previous)
        for path in planned:
            manifest.setdefault(path, ManifestEntry())
        if not self.dry_run:
            out.save_manifest(manifest)  # first: a killed build still owns what it writes
        written: list[FeedFile] = []
        kept: set[str] = set()
        for (group, signature), files in zip(plans, self._rendered(plans), strict=True):
            if self._put(group.name, files, kept_set, kept, written, manifest):
                cache.put_group(
                    group.kind, group.slug, group.name, list(group.spellings), signature
                )
        if opml:
            data = render_opml(config, self._all_groups())
            self._put(
                "",
                [FeedFile(relpath=OPML, data=data, url=feed_url(config, OPML))],
                set(),
                kept,
                written,
                manifest,
            )
        if self.cold:
            stale = [p for p in previous if p not in set(planned)]
        else:
            stale = [p for p in previous if _group_of_path(p) in removed_groups]
        removed: list[str] = []
        for path in sorted(set(stale)):
            if self.dry_run:
                continue
            if path in kept_set:
                kept.add(path)
                continue
            if out.remove(path):
                removed.append(path)
            manifest.pop(path, None)
            cache.drop_feed(path)
        if not self.dry_run:
            out.save_manifest(manifest)
        for key in self.kept_groups:
            kept.update(p for p in _group_paths(config, key) if p in previous)
        warnings = [
            f"{path}: kept as it was, because posts it may hold were rejected"
            for path in sorted(kept)
        ]
        done = {f.relpath for f in written} | set(removed) | kept
        unchanged = sorted((set(feed_stats) | set(planned)) - done)
        return self._report(
            [f.relpath for f in written],
            unchanged,
            removed,
            sorted(kept),
            warnings,
            urls=[f.url for f in written],
        )

    def _put(
        self,
        name: str,
        files: list[FeedFile],
        kept_set: set[str],
        kept: set[str],
        written: list[FeedFile],
        manifest: dict[str, ManifestEntry],
    ) -> bool:
        """Write one group's files; False if any was kept as it was."""
        if self.dry_run:
            return True
        whole = True
        for f in files:
            if f.relpath in kept_set:
                kept.add(f.relpath)
                whole = False
                continue
            if self.out.write(f.relpath, f.data):
                written.append(FeedFile(relpath=f.relpath, data=b"", url=f.url))
            manifest[f.relpath] = ManifestEntry(sources=list(f.sources), name=name)
            st = os.stat(self.out.root / f.relpath)
            self.cache.put_feed(f.relpath, st.st_size, st.st_mtime_ns)
        return whole

    def _count_posts(self) -> int:
        """Published posts; a no-op build (nothing dirty) reuses the last build's count."""
        stored = self.cache.get_meta("posts")
        if not self.dirty and stored is not None:
            return int(stored)
        count = self.cache.count_posts(self.now_ts)
        self.cache.set_meta("posts", str(count))
        return count

    def _report(
        self,
        written: list[str],
        unchanged: list[str],
        removed: list[str],
        kept: list[str],
        warnings: list[str],
        urls: list[str] | None = None,
    ) -> BuildReport:
        errors, file_warnings = self.cache.problems()
        collisions = []
        for (kind, slug), (_name, spellings, _sig) in sorted(self.cache.group_rows().items()):
            if len(spellings) > 1:
                plural = "categories" if kind == "category" else "tags"
                collisions.append(
                    f"{plural} {', '.join(map(repr, spellings))} share the slug "
                    f"{slug!r}: they are published as one feed"
                )
        return BuildReport(
            posts=self._count_posts(),
            errors=tuple(e for _p, e in errors),
            warnings=tuple(file_warnings + collisions + warnings + self.out.warnings),
            written=tuple(written),
            unchanged=tuple(unchanged),
            removed=tuple(removed),
            kept=tuple(kept),
            seconds=0.0,
            written_urls=tuple(urls or ()),
        )


def _signature(name: str, spellings: list[str], posts: list[tuple[str, str]]) -> str:
    """What a group's feeds are rendered from (names, and each post's path and content hash)."""
    data = json.dumps([name, spellings, posts], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _group_paths(config: Config, key: tuple[str, str]) -> list[str]:
    kind, slug = key
    base = "" if kind == "site" else f"{'categories' if kind == 'category' else 'tags'}/{slug}/"
    return [base + FILENAMES[f] for f in config.feeds.formats]


def _group_of_path(relpath: str) -> tuple[str, str] | None:
    parts = relpath.split("/")
    if len(parts) == 1:
        return None if relpath == OPML else ("site", "")
    if len(parts) == 3 and parts[0] in ("categories", "tags"):
        return ("category" if parts[0] == "categories" else "tag", parts[1])
    return None


__all__ = ["build", "read_posts", "render_feeds", "simple_build_files", "group_dir"]
