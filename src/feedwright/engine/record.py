"""What a build records, owned by one :class:`Recorder`: the manifest (the files feedwright
owns, and what is in each), the cache's rows of files, groups and archives, and the
report of what was done. The apply step tells it what it did; it decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..config import Config
from ..errors import PostError
from ..model import GroupChange, GroupKey, Listing, ManifestEntry
from ..output import Output, Stat
from .cache import Cache
from .decisions import Plan, Snapshot
from .rows import Written


@dataclass(slots=True)
class Applied:
    """What applying a plan did to the output folder."""

    written: list[str] = field(default_factory=list)
    written_urls: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)
    unchanged: list[str] = field(default_factory=list)
    #: Archive files unchanged, of groups not looked at: counted, not listed.
    unlisted: int = 0
    #: Posts whose body could not be read or rendered (their groups were kept).
    errors: list[PostError] = field(default_factory=list)
    #: Every group with feeds after the build, and the name they carry.
    published: dict[GroupKey, str] = field(default_factory=dict)
    #: Groups whose feeds gained or lost posts (from the manifest's sources, before and now).
    groups: list[GroupChange] = field(default_factory=list)
    #: With ``feeds.pages``: every group with feeds after the build, as the site's page
    #: lists it.
    listed: dict[GroupKey, Listing] = field(default_factory=dict)
    #: Files not written because a file feedwright did not write is in their place.
    foreign: frozenset[str] = frozenset()
    #: Files feedwright did not write that it took over (``build --adopt``).
    adopted: tuple[str, ...] = ()


#: The cache's rows of archive files kept waiting before one statement writes them all.
_ROWS = 5000


class Recorder:
    """The one owner of the manifest, the cache's rows and the report of one build. With
    ``dry_run`` nothing is saved."""

    def __init__(
        self,
        config: Config,
        cache: Cache,
        output: Output,
        snapshot: Snapshot,
        plan: Plan,
        *,
        dry_run: bool,
    ) -> None:
        self.config = config
        self.cache = cache
        self.output = output
        self.snapshot = snapshot
        self.save_archives = plan.save_archives
        self.dry_run = dry_run
        self.manifest = dict(snapshot.owned)
        #: Files claimed before they were written: those still here at the end are not.
        self.claimed: set[str] = set()
        self.done = Applied()
        #: The cache's rows of archive files, folders and archives not written yet, for a
        #: statement of many (a cold build records 138,000 files and 46,000 folders; the
        #: cache is one transaction: rows written later are the same rows).
        self._files: list[tuple[str, int, int, str]] = []
        self._folders: dict[str, int | None] = {}
        self._archives: list[tuple[int, str, bytes | None]] = []

    def _flush(self) -> None:
        """Write the rows kept waiting."""
        if self._files:
            self.cache.files.put_archives(self._files)
            self._files = []
        if self._folders:
            self.cache.files.set_folders(self._folders)
            self._folders = {}
        if self._archives:
            self.cache.groups.set_archives(self._archives)
            self._archives = []

    # -- files ------------------------------------------------------------------------------
    def claim(self, paths: Iterable[str]) -> None:
        """Own ``paths`` before writing any (the manifest is saved at once)."""
        new = [p for p in paths if p not in self.manifest]
        for path in new:
            self.manifest[path] = ManifestEntry()
        self.claimed.update(new)
        if new and not self.dry_run:
            self.output.save_manifest(self.manifest, archives=self.save_archives)

    def wrote(
        self,
        relpath: str,
        url: str,
        stat: Stat | None,
        changed: bool,
        entry: ManifestEntry,
    ) -> None:
        """A file is in place (``changed``: its bytes were written; ``stat``: as the
        writer left it, ``None`` in a dry run); archive files: :meth:`wrote_archive`."""
        if changed:
            self.done.written.append(relpath)
            self.done.written_urls.append(url)
        if stat is not None:
            self.cache.files.put(relpath, stat)
        self.manifest[relpath] = entry
        self.claimed.discard(relpath)

    def wrote_archive(self, name: str, files: Iterable[Written]) -> None:
        """An archive's files are in place (a worker wrote them, or found them holding
        their bytes already)."""
        done, manifest, claimed = self.done, self.manifest, self.claimed
        rows = self._files
        for w in files:
            if w.changed:
                done.written.append(w.relpath)
                done.written_urls.append(w.url)
            rows.append((w.relpath, w.size, w.mtime, w.relpath.rpartition("/")[0]))
            manifest[w.relpath] = ManifestEntry(sources=w.sources, name=name)
            claimed.discard(w.relpath)
        if len(rows) >= _ROWS:
            self._flush()

    def removed(self, relpath: str, gone: bool) -> None:
        """A file feedwright owned was removed (``gone``: it was there)."""
        if gone:
            self.done.removed.append(relpath)
        self.manifest.pop(relpath, None)
        self._flush()
        self.cache.files.drop(relpath)

    def kept(self, paths: Iterable[str], name: str | None = None) -> None:
        """Files left as they were; with ``name``, the name the OPML now lists their group
        by, as the cache records it (a build without the cache reads it from here)."""
        for path in paths:
            self.done.kept.add(path)
            old = self.manifest.get(path)
            if name is not None and old is not None and old.name != name:
                self.manifest[path] = replace(old, name=name)

    def folders(self, folders: Iterable[str]) -> None:
        """Archive folders as this build leaves them (their mtime): the next build looks
        at the files of a folder only if it moved."""
        if self.dry_run:
            return
        self._folders.update(self.output.folder_mtimes(set(folders)))

    # -- groups and archives ----------------------------------------------------------------
    def group(
        self,
        key: GroupKey,
        published: str | None,
        spellings: Iterable[str] = (),
        signature: bytes | None = None,
    ) -> None:
        """A group's feeds: the name they carry (``None``: it has none), its spellings, what
        they were rendered from (``None``: look again next build)."""
        self.cache.groups.record(self.cache.groups.gid(*key), published, spellings, signature)

    def archive(self, key: GroupKey, period: str, signature: bytes | None) -> None:
        self._archives.append((self.cache.groups.gid(*key), period, signature))

    def archive_gone(self, key: GroupKey, period: str) -> None:
        self._flush()
        self.cache.groups.drop_archive(self.cache.groups.gid(*key), period)

    # -- the end ----------------------------------------------------------------------------
    def finish(self, plan: Plan, errors: list[PostError]) -> Applied:
        """Save the manifest (when it changed, or could not be read) and say what was done
        (``plan``: as settled)."""
        self._flush()
        for path in self.claimed:  # claimed, never written
            self.manifest.pop(path, None)
        snapshot = self.snapshot
        if not self.dry_run:
            self.output.writer.sync_folders()  # the renames are on the disk, then the manifest
            if self.manifest != snapshot.owned or snapshot.damaged:
                self.output.save_manifest(self.manifest, archives=self.save_archives)
        done = self.done
        done.errors = errors
        done.published = dict(plan.published)
        done.listed = dict(plan.listed)
        done.groups = list(plan.changes)
        done.foreign = plan.foreign
        done.adopted = plan.adopted
        touched = set(done.written) | set(done.removed) | done.kept
        done.unchanged = sorted(p for p in self.manifest if p not in touched)
        done.unlisted = snapshot.unlooked
        return done


__all__ = ["Applied", "Recorder"]
