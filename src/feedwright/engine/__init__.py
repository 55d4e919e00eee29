"""The orchestrator: config → discover → parse → group → render → write → BuildReport.

A build is incremental: the cache (:mod:`feedwright.engine.cache`) says which post files changed
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
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import cast

from ..config import Config
from ..discover import Found, discover, require_source
from ..errors import PostError
from ..group import collision_warning, memberships
from ..layout import OPML, feed_url, group_of_path, group_order, group_paths
from ..model import BuildReport, EntryContent, FeedFile, Format, Group, GroupKind, RawPost
from ..output import ManifestEntry, Output
from ..posts import dup_message
from .cache import CACHE_NAME, Cache, FileRow, post_from_record
from .workers import FeedRenderer, Pool, bounded_map, chunks, parse_batch, parse_file

Progress = Callable[[int, int], None]
#: Parse in worker processes when at least this many files changed.
PARALLEL_PARSE = 2000
#: Render entries in worker processes when at least this many are missing from the cache…
PARALLEL_RENDER = 300
#: …or feeds, when at least this many groups are rendered.
PARALLEL_FEEDS = 100
_BATCH = 400


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
        pool = Pool(jobs)
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
        pool: Pool,
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
        batches = list(chunks(todo, _BATCH))
        for batch, rows in zip(
            batches, bounded_map(executor, parse_batch, self.config, batches), strict=True
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
                    relpath, "dup", str(PostError(relpath, 1, dup_message(winner[0], entry_id)))
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
                key = group_of_path(relpath)
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
        if self.out.manifest_damaged:  # the cache knows which files feedwright wrote
            previous = {path: ManifestEntry() for path in feed_stats}
        # Feeds that held a post which is now rejected keep their previous content.
        held = {p for p, entry in previous.items() if self.rejected & set(entry.sources)}
        if self.cold:
            self.dirty.add(("site", ""))
        plans: list[tuple[Group, str]] = []
        removed_groups: set[tuple[str, str]] = set()
        groups_changed = False
        for key in sorted(self.dirty, key=group_order):
            kind, slug = key
            top = cache.top_posts(kind, slug, self.now_ts, config.feeds.limit)
            if not top and kind != "site":
                if key in known_groups and held.intersection(group_paths(config, key)):
                    # Its posts only turned bad: keep its feeds (and its OPML entry).
                    self.kept_groups.add(key)
                    # The name its kept feeds were written with; looked at again next time.
                    name = next(previous[p].name for p in group_paths(config, key) if p in held)
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
            intact = all(p in feed_stats and p not in broken for p in group_paths(config, key))
            if known is not None and known[2] == signature and intact:
                cache.put_group(kind, slug, name, spellings, signature)
                continue
            posts = tuple(post_from_record(r, rec) for r, rec, _sha in top)
            group = Group(
                kind=cast(GroupKind, kind),
                slug=slug,
                name=name,
                posts=posts,
                spellings=tuple(spellings),
            )
            cache.put_group(kind, slug, name, spellings, None)
            plans.append((group, signature))
        if self.cold and held:
            # A cold build knows no old groups; the manifest does. A group it no longer
            # finds, whose feeds held a rejected post, keeps its feeds and its OPML entry.
            planned = {g.key for g, _sig in plans}
            for path, entry in previous.items():
                owner = group_of_path(path)
                if owner is None or owner in planned or owner[0] == "site":
                    continue
                if path in held and owner not in self.kept_groups:
                    self.kept_groups.add(owner)
                    cache.put_group(owner[0], owner[1], entry.name, [entry.name], None)
                    groups_changed = True
        opml = groups_changed or OPML in broken or OPML not in feed_stats
        return self._write(plans, removed_groups, feed_stats, opml, previous, held)

    def _all_groups(self) -> list[Group]:
        rows = self.cache.group_rows()
        keys = sorted(rows, key=group_order)
        return [
            Group(
                kind=cast(GroupKind, k[0]),
                slug=k[1],
                name=rows[k][0],
                posts=(),
                spellings=tuple(rows[k][1]),
            )
            for k in keys
        ]

    def _rendered(self, plans: list[tuple[Group, str]]) -> Iterator[list[FeedFile]]:
        """Each planned group's feed files, in plan order (see :class:`FeedRenderer`)."""
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

        renderer = FeedRenderer(self.config, executor, contents, store)
        return renderer.run(groups)

    def _write(
        self,
        plans: list[tuple[Group, str]],
        removed_groups: set[tuple[str, str]],
        feed_stats: dict[str, tuple[int, int]],
        opml: bool,
        previous: dict[str, ManifestEntry],
        kept_set: set[str],
    ) -> BuildReport:
        """Render each planned group and write its files at once (memory stays bounded)."""
        cache, out, config = self.cache, self.out, self.config
        planned = [p for g, _s in plans for p in group_paths(config, g.key)]
        planned += [OPML] if opml else []
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
            from ..opml import render_opml

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
            stale = sorted(set(previous) - set(planned))
        else:
            stale = sorted(p for p in previous if group_of_path(p) in removed_groups)
        removed: list[str] = []
        for path in stale:
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
            kept.update(p for p in group_paths(config, key) if p in previous)
        warnings = [
            f"{path}: kept as it was, because a post it held was rejected" for path in sorted(kept)
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
        collisions = [
            collision_warning(kind, slug, spellings)
            for (kind, slug), (_name, spellings, _sig) in sorted(self.cache.group_rows().items())
            if len(spellings) > 1
        ]
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


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """One published feed file."""

    kind: str
    title: str
    format: Format
    url: str


def list_feeds(config: Config, *, now: datetime | None = None) -> list[FeedInfo]:
    """Every feed a build publishes (temporary: parses every post)."""
    from ..discover import read_post
    from ..group import group_posts
    from ..layout import feed_relpath, group_title
    from ..posts import Skip, is_visible, parse_post

    now = now or datetime.now(UTC)
    require_source(config)
    posts = []
    for raw in discover(config.source, exclude=(config.output,)).posts:
        try:
            post = parse_post(raw, read_post(raw, config.source), config, keep_body=False)
        except (PostError, Skip):
            continue
        if is_visible(post, config, now):
            posts.append(post)
    groups, _ = group_posts(posts, config)
    return [
        FeedInfo(
            g.kind,
            group_title(config, g.kind, g.name),
            fmt,
            feed_url(config, feed_relpath(g.key, fmt)),
        )
        for g in groups
        for fmt in config.feeds.formats
    ]


__all__ = ["FeedInfo", "build", "list_feeds"]
