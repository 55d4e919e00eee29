"""Apply a :class:`~.plan.Plan`: render, write, remove, and record what was done.

Entries and feeds are rendered in worker processes when there are many (entries first
needed first, each group's feeds as soon as its entries are known, so memory stays
bounded). A post whose body cannot be read or rendered now is reported, and every group
that needs it keeps its files as they were: never a feed with an empty entry.

The manifest (the files feedwright owns) is saved before anything is written, so a
build killed at any moment still owns what it wrote; each write is atomic.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from typing import Any, cast

from ..config import Config
from ..errors import PostError
from ..group import listing, order_key
from ..layout import (
    FILENAMES,
    OPML,
    PAGE,
    SITE,
    archive_paths,
    feed_relpath,
    feed_url,
    group_order,
    group_paths,
)
from ..model import (
    ArchiveLinks,
    EntryContent,
    EntryRef,
    FeedFile,
    Group,
    GroupChange,
    GroupKey,
    GroupKind,
    Listing,
    ManifestEntry,
    Post,
)
from ..output import Output
from ..render import render_page_file
from .cache import Cache
from .codec import post_of
from .plan import (
    ArchiveDecision,
    ArchiveKeep,
    ArchiveRemove,
    ArchiveRender,
    Keep,
    Plan,
    Remove,
    Render,
    Snapshot,
)
from .rows import Entry, Written
from .workers import Inline, Pool, chunks, render_archives, render_entries, render_feeds

#: Render in worker processes when at least this many entries…
PARALLEL_ENTRIES = 300
#: …or this many groups' feeds are to be rendered.
PARALLEL_GROUPS = 100
_ENTRY_BATCH = 40
#: Archives are rendered a few periods at a time, about this many posts per task.
_ARCHIVE_BATCH = 400


@dataclass(slots=True)
class Applied:
    """What applying a plan did to the output folder."""

    written: list[str] = field(default_factory=list)
    written_urls: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)
    unchanged: list[str] = field(default_factory=list)
    #: Posts whose body could not be read or rendered (their groups were kept).
    errors: list[PostError] = field(default_factory=list)
    #: Every group with feeds after the build, and the name they carry.
    published: dict[GroupKey, str] = field(default_factory=dict)
    #: Groups whose feeds gained or lost posts (from the manifest's sources, before and now).
    groups: list[GroupChange] = field(default_factory=list)
    #: With ``feeds.pages``: every group with feeds after the build, as the site's page
    #: lists it.
    listed: dict[GroupKey, Listing] = field(default_factory=dict)


class Applier:
    """One plan's application. With ``dry_run`` nothing is written or recorded."""

    def __init__(
        self, config: Config, cache: Cache, output: Output, pool: Pool, *, dry_run: bool
    ) -> None:
        self.config = config
        self.cache = cache
        self.output = output
        self.pool = pool
        self.dry_run = dry_run
        self.done = Applied()
        self.site_contents: dict[str, EntryContent] = {}
        #: Pages this build would write where a file it did not write already is.
        self.foreign: set[str] = set()

    def run(self, plan: Plan, snapshot: Snapshot) -> Applied:
        self.snapshot = snapshot
        # the archives' entries are saved only by a build that may have changed them
        self.archives = snapshot.mixed or (
            snapshot.archives_read and (snapshot.cold or bool(plan.archives) or snapshot.damaged)
        )
        manifest = dict(snapshot.owned)
        published = dict(plan.published)
        self.done.listed = dict(plan.listed)
        self._claim(plan, manifest)
        if not self.dry_run:  # archives are not subscriptions: a dry run has no use for them
            self._archives(plan.archives, manifest, snapshot)
        site: tuple[Render, dict[str, EntryContent]] | None = None
        for render, files in self._rendered(plan.render):
            if files is None:
                self._demote(render, manifest, published, snapshot)
            else:
                self._write_group(render, files, manifest)
                if any(f.relpath not in render.keep for f in files):
                    self._membership(render.group.key, render.group.name, render.group.posts)
                if render.group.key == SITE and self.config.feeds.pages:
                    site = (render, self.site_contents)
        if site is not None:
            self._write_site_page(*site, manifest)
        for decision in plan.decisions:
            if isinstance(decision, Keep):
                self.done.kept |= decision.files
                self._record(decision.key, decision.name, (decision.name,), None)
            elif isinstance(decision, Remove):
                self._remove(decision.files, manifest)
                self._record(decision.key, None, (), None)
                self._membership(decision.key, self._old_name(decision.key), None)
        self.done.groups.sort(key=lambda g: group_order((g.kind, g.slug)))
        if plan.opml or published != plan.published:
            self._write_opml(published, manifest)
        self._remove(plan.stale, manifest)
        if not self.dry_run and (manifest != snapshot.owned or snapshot.damaged):
            self.output.save_manifest(manifest, archives=self.archives)
        self.done.published = published
        done = set(self.done.written) | set(self.done.removed) | self.done.kept
        self.done.unchanged = sorted([*(p for p in manifest if p not in done), *snapshot.unlooked])
        return self.done

    def _old_sources(self, key: GroupKey) -> set[str]:
        """The posts the group's feeds held before this build (the manifest's record)."""
        owned = self.snapshot.owned
        paths = [feed_relpath(key, fmt) for fmt in FILENAMES]
        return {source for p in paths if p in owned for source in owned[p].sources}

    def _old_name(self, key: GroupKey) -> str:
        before = self.snapshot.before.get(key)
        if before is not None:
            return before.name
        owned = self.snapshot.owned
        paths = [feed_relpath(key, fmt) for fmt in FILENAMES]
        names = [owned[p].name for p in paths if p in owned]
        return next((n for n in names if n), "")

    def _membership(self, key: GroupKey, name: str, posts: tuple[Post, ...] | None) -> None:
        """Record which posts entered and left the group's feeds (``posts`` is ``None``
        when its feeds are removed)."""
        old = self._old_sources(key)
        now = {p.relpath for p in posts or ()}
        entered = tuple(
            EntryRef(p.relpath, p.url, p.title) for p in posts or () if p.relpath not in old
        )
        left = tuple(EntryRef(path) for path in sorted(old - now))
        if entered or left or posts is None:
            kind = cast(GroupKind, key.kind)
            change = GroupChange(kind, key.slug, name, entered, left, removed=posts is None)
            self.done.groups.append(change)

    def _claim(self, plan: Plan, manifest: dict[str, ManifestEntry]) -> None:
        """Own every file this build may write before writing any."""
        wanted = [p for d in plan.render for p in group_paths(self.config, d.key)]
        wanted += [
            p
            for d in plan.archives
            if isinstance(d, ArchiveRender)
            for p in archive_paths(self.config, d.key, d.links.period or "")
        ]
        wanted += [OPML] if plan.opml else []
        new = [p for p in wanted if p not in manifest]
        self.foreign = {p for p in new if p in self.snapshot.occupied}
        for path in new:
            if path not in self.foreign:  # someone's own index.html: never overwritten
                manifest[path] = ManifestEntry()
        if new and not self.dry_run:
            self.output.save_manifest(manifest, archives=self.archives)

    def _rendered(self, renders: list[Render]) -> Iterator[tuple[Render, list[FeedFile] | None]]:
        entries = len({e.post.relpath for d in renders for e in d.entries})
        big = entries >= PARALLEL_ENTRIES or len(renders) >= PARALLEL_GROUPS
        executor = self.pool.get() if big or self.pool.running else None
        rendering = Rendering(self.config, executor or Inline())
        for render, files in rendering.run(renders):
            self.site_contents = rendering.site_contents
            yield render, files
        self.done.errors.extend(sorted(rendering.failed.values(), key=lambda e: e.path))

    # -- archives ---------------------------------------------------------------------------
    def _archives(
        self,
        decisions: tuple[ArchiveDecision, ...],
        manifest: dict[str, ManifestEntry],
        snapshot: Snapshot,
    ) -> None:
        renders = []
        for d in decisions:
            gid = self.cache.groups.gid(*d.key)
            if isinstance(d, ArchiveKeep):
                self.done.kept |= d.files
                self.cache.groups.set_archive(gid, d.period, None)
            elif isinstance(d, ArchiveRemove):
                self._remove(d.files, manifest)
                self._folders({p.rpartition("/")[0] for p in d.files})
                self.cache.groups.drop_archive(gid, d.period)
            else:
                renders.append(d)
        failed: dict[str, PostError] = {}
        for d, files, errors in self._archives_rendered(renders):
            failed.update((e.path, e) for e in errors)
            if files is None:
                self._demote_archive(d, manifest, snapshot)
            else:
                self._write_archive(d, files, manifest)
        known = {e.path for e in self.done.errors}
        self.done.errors.extend(e for path, e in sorted(failed.items()) if path not in known)

    def _archives_rendered(
        self, renders: list[ArchiveRender]
    ) -> Iterator[tuple[ArchiveRender, list[Written] | None, list[PostError]]]:
        """Each archive rendered and written, a few periods per task (in time order, so
        that only those periods' posts are in memory), in worker processes when there are
        many: what was written, or ``None`` when a post could not be rendered."""
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
            size += len(d.period.paths)
        entries = len({p for d in renders for p in d.period.paths})
        big = entries >= PARALLEL_ENTRIES or len(renders) >= PARALLEL_GROUPS
        executor = (self.pool.get() if big or self.pool.running else None) or Inline()
        limit = 2 * max(1, getattr(executor, "_max_workers", 2))
        window: deque[tuple[list[ArchiveRender], Future[Any]]] = deque()
        pending = iter(batches)
        while True:
            while len(window) < limit and (batch := next(pending, None)) is not None:
                posts, jobs = self._archive_jobs(batch)
                durable = self.output.durable
                future = executor.submit(render_archives, self.config, posts, jobs, durable)
                window.append((batch, future))
            if not window:
                return
            batch, future = window.popleft()
            results, errors = future.result()
            for i, (d, files) in enumerate(zip(batch, results, strict=True)):
                yield d, files, errors if i == 0 else []

    def _archive_jobs(
        self, batch: list[ArchiveRender]
    ) -> tuple[list[Entry], list[tuple[Group, ArchiveLinks, frozenset[str]]]]:
        """The posts of a batch of archives, read from the cache, and each archive's group."""
        paths = sorted({p for d in batch for p in d.period.paths})
        posts = {c.path: Entry(post_of(c), c.sha) for c in self.cache.posts.by_path(paths)}
        jobs = []
        for d in batch:
            mine = sorted((posts[p][0] for p in d.period.paths), key=order_key)
            group = Group(
                kind=cast(GroupKind, d.key.kind), slug=d.key.slug, name=d.name, posts=tuple(mine)
            )
            jobs.append((group, d.links, d.keep))
        return [posts[p] for p in paths], jobs

    def _write_archive(
        self, d: ArchiveRender, files: list[Written], manifest: dict[str, ManifestEntry]
    ) -> None:
        """Record what a worker wrote for an archive."""
        self.done.kept |= d.keep
        for f in files:
            if f.changed:
                self.done.written.append(f.relpath)
                self.done.written_urls.append(f.url)
            self.cache.files.put(f.relpath, (f.size, f.mtime), f.relpath.rpartition("/")[0])
            manifest[f.relpath] = ManifestEntry(sources=f.sources, name=d.name)
        self._remove(d.drop, manifest)
        self._folders({p.rpartition("/")[0] for p in (*d.drop, *(f.relpath for f in files))})
        gid = self.cache.groups.gid(*d.key)
        self.cache.groups.set_archive(gid, d.links.period or "", None if d.keep else d.signature)

    def _folders(self, folders: Iterable[str]) -> None:
        """Record archive folders as this build leaves them (their mtime): the next build
        looks at the files of a folder only if it moved (see the scan's ``_broken``)."""
        for folder, mtime in self.output.folder_mtimes(folders).items():
            if mtime is None:
                self.cache.files.drop_folder(folder)
            else:
                self.cache.files.put_folder(folder, mtime)

    def _demote_archive(
        self, d: ArchiveRender, manifest: dict[str, ManifestEntry], snapshot: Snapshot
    ) -> None:
        """A post of the archive could not be rendered: its files stay as they were (and
        it is looked at again next build)."""
        period = d.links.period or ""
        for path in archive_paths(self.config, d.key, period):
            if snapshot.owned.get(path) is not None:
                self.done.kept.add(path)
            else:
                manifest.pop(path, None)
        self.cache.groups.set_archive(self.cache.groups.gid(*d.key), period, None)

    def _write_group(
        self, decision: Render, files: list[FeedFile], manifest: dict[str, ManifestEntry]
    ) -> None:
        group = decision.group
        for f in files:
            if f.relpath in decision.keep:
                self.done.kept.add(f.relpath)
                old = manifest.get(f.relpath)
                if old is not None and old.name != group.name:
                    # the name the OPML now lists the group by, as the cache records it (a
                    # build without the cache reads it from here: they must agree)
                    manifest[f.relpath] = replace(old, name=group.name)
                continue
            if self._write(f.relpath, f.data, f.url):
                manifest[f.relpath] = self._entry(group, f.sources)
        self._remove(decision.drop, manifest)
        signature = None if decision.keep else decision.signature
        self._record(group.key, group.name, group.spellings, signature)

    def _entry(self, group: Group, sources: tuple[str, ...]) -> ManifestEntry:
        shown = listing(group)
        return ManifestEntry(
            sources=sources, name=group.name, count=shown.count, newest=shown.newest
        )

    def _write_site_page(
        self,
        decision: Render,
        contents: dict[str, EntryContent],
        manifest: dict[str, ManifestEntry],
    ) -> None:
        """The site's page, last: it lists every group as this build left it."""
        group = decision.group
        if PAGE in decision.keep:
            self.done.kept.add(PAGE)
            return
        f = render_page_file(self.config, group, contents, self.done.listed)
        if self._write(f.relpath, f.data, f.url):
            manifest[f.relpath] = self._entry(group, f.sources)

    def _demote(
        self,
        decision: Render,
        manifest: dict[str, ManifestEntry],
        published: dict[GroupKey, str],
        snapshot: Snapshot,
    ) -> None:
        """A post of the group could not be rendered: its files stay as they were."""
        key = decision.group.key
        files = [p for p in group_paths(self.config, key) if snapshot.owned.get(p)]
        self.done.kept |= set(files)
        before = snapshot.before.get(key)
        if before is not None and files:
            published[key] = before.name
            if key in self.done.listed:
                entry = snapshot.owned[files[0]]
                self.done.listed[key] = Listing(before.name, entry.count, entry.newest)
            self._record(key, before.name, (before.name,), None)
        else:
            published.pop(key, None)
            self.done.listed.pop(key, None)
            for path in group_paths(self.config, key):
                if path not in snapshot.owned:
                    manifest.pop(path, None)
            self._record(key, None, (), None)

    def _write_opml(
        self, published: dict[GroupKey, str], manifest: dict[str, ManifestEntry]
    ) -> None:
        from ..opml import render_opml

        groups = [
            Group(kind=cast(GroupKind, key.kind), slug=key.slug, name=name, posts=())
            for key, name in sorted(published.items(), key=lambda item: group_order(item[0]))
        ]
        self._write(OPML, render_opml(self.config, groups), feed_url(self.config, OPML))
        manifest[OPML] = ManifestEntry()

    # -- the output folder and the cache ----------------------------------------------------
    def _write(self, path: str, data: bytes, url: str) -> bool:
        """Write (unless the bytes are there already); False for a file that is not ours."""
        if path in self.foreign:
            self.output.warnings.append(
                f"{path}: not written: a file feedwright did not write is in its place "
                "(remove it, or set feeds.pages: false)"
            )
            return False
        if self.dry_run:
            return True
        written = self.output.writer.write(path, data)
        if written.changed:
            self.done.written.append(path)
            self.done.written_urls.append(url)
        self.cache.files.put(path, written.stat)
        return True

    def _remove(self, paths: Iterable[str], manifest: dict[str, ManifestEntry]) -> None:
        for path in paths:
            if self.dry_run:
                continue
            if self.output.writer.remove(path):
                self.done.removed.append(path)
            manifest.pop(path, None)
            self.cache.files.drop(path)

    def _record(
        self,
        key: GroupKey,
        published: str | None,
        spellings: tuple[str, ...],
        signature: bytes | None,
    ) -> None:
        self.cache.groups.record(self.cache.groups.gid(*key), published, spellings, signature)


class Rendering:
    """Render the entries the groups need (once each) and each group's feeds, overlapped.

    Groups come back in their order; a group whose entries could not all be rendered
    comes back with ``None``. Only a few tasks are in flight, and an entry is forgotten
    once the last group that needs it is sent off.
    """

    def __init__(self, config: Config, executor: Executor | Inline) -> None:
        self.config = config
        self.executor = executor
        self.limit = 2 * max(1, getattr(executor, "_max_workers", 2))
        self.contents: dict[str, EntryContent] = {}
        self.failed: dict[str, PostError] = {}
        #: The site's entries (its page is rendered last, see :meth:`Applier.run`).
        self.site_contents: dict[str, EntryContent] = {}

    def run(self, renders: list[Render]) -> Iterator[tuple[Render, list[FeedFile] | None]]:
        uses = Counter(e.post.relpath for d in renders for e in d.entries)
        needed: dict[str, Entry] = {}
        for d in renders:
            for e in d.entries:
                needed.setdefault(e.post.relpath, e)
        batches = iter(list(chunks(list(needed.values()), _ENTRY_BATCH)))
        window: deque[tuple[Render | None, Future[Any]]] = deque()
        pending = deque(renders)
        while pending or window:
            while len(window) < self.limit:
                if pending and self._ready(pending[0]):
                    decision = pending.popleft()
                    window.append((decision, self._submit(decision, uses)))
                elif (batch := next(batches, None)) is not None:
                    submitted = self.executor.submit(render_entries, self.config, batch)
                    window.append((None, submitted))
                else:
                    break
            owner, future = window.popleft()
            result = future.result()
            if owner is not None:
                yield owner, result
                continue
            for relpath, content in result:
                if isinstance(content, PostError):
                    self.failed[relpath] = content
                else:
                    self.contents[relpath] = content

    def _ready(self, decision: Render) -> bool:
        return all(
            e.post.relpath in self.contents or e.post.relpath in self.failed
            for e in decision.entries
        )

    def _submit(self, decision: Render, uses: Counter[str]) -> Future[list[FeedFile] | None]:
        posts = decision.group.posts
        ok = not any(p.relpath in self.failed for p in posts)
        contents = {p.relpath: self.contents[p.relpath] for p in posts if ok}
        if decision.group.key == SITE:
            self.site_contents = contents
        for post in posts:
            uses[post.relpath] -= 1
            if not uses[post.relpath]:
                self.contents.pop(post.relpath, None)
        if not ok:
            return Inline().submit(lambda: None)
        links = ArchiveLinks(None, decision.archive) if decision.archive else None
        return Inline().submit(render_feeds, self.config, decision.group, contents, links)
