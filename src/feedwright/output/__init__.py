"""The output folder: the only code that reads or writes it.

- :mod:`.writer` writes and removes feed files (atomic, durable in batches, skipping
  unchanged bytes) and says what it left on the disk;
- :mod:`.manifest` reads and encodes the manifest (the files feedwright owns);
- :mod:`.state` keeps feedwright's own files (``.feedwright/``) and the build lock;
- :class:`Output` puts them together for a build, and observes the folder for the
  engine's scan (which files changed behind feedwright's back, which are in the way).

Durability is a constructor argument (``durable``), never a global.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from pathlib import Path
from typing import BinaryIO, Literal

from ..errors import OutputError
from ..layout import STATE_DIR
from ..model import GroupKey, ManifestEntry
from . import manifest
from .durable import TMP_SUFFIX, atomic_write, atomic_write_many, fsync_path
from .manifest import ARCHIVE_MANIFEST, ARCHIVES_DIR, MANIFEST, Loaded
from .state import StateFiles, hold_lock
from .writer import Staged, Stat, Writer, safe_join

#: Present while no build is between its first write and its end: the last build that
#: wrote anything finished, so it left no temporary file behind.
CLEAN = "clean"
_TMP_NAME = re.compile(r"^\..+\.[0-9a-f]{16}" + re.escape(TMP_SUFFIX) + "$")


class Output:
    """One build's view of the output folder ``root``."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.state = root / STATE_DIR
        self.durable = durable
        self.writer = Writer(root, durable=durable)
        self.writer.before_writing = self.begin_writing
        self.files = StateFiles(self.state, durable=durable)
        #: This build has begun writing (:data:`CLEAN` is gone until :meth:`finish`).
        self._writing = False

    @property
    def warnings(self) -> list[str]:
        return self.writer.warnings

    # -- a build's bracket ------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the folder."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(
                str(self.root), f"cannot create the output folder: {e.strerror}"
            ) from e

    @contextlib.contextmanager
    def lock(
        self,
        *,
        on_wait: Callable[[str], None] | None = None,
        timeout: float = 3600.0,
        waiting: Callable[[], None] | None = None,
    ) -> Iterator[None]:
        """Hold ``.feedwright/lock`` for the build: a second build waits for the first.
        Letting go makes every rename and removal durable first."""
        with hold_lock(self.state, on_wait=on_wait, timeout=timeout, waiting=waiting):
            try:
                yield
            finally:
                self.writer.sync_folders()

    def clean_temporary(self) -> None:
        """Remove temporary files a killed build left behind (call with the lock held).

        Only after a build that did not finish (or one from before :data:`CLEAN` existed):
        walking every folder of a big output (archives) costs seconds."""
        if self.files.exists(CLEAN):
            return
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                if _TMP_NAME.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, name))

    def begin_writing(self) -> None:
        """From the first write on, a build killed may leave temporary files behind."""
        if not self._writing:
            self.files.unlink(CLEAN)
            self._writing = True

    def finish(self) -> None:
        """The build ended without leaving a temporary file: the next need not look."""
        if self._writing or not self.files.exists(CLEAN):
            self.files.touch(CLEAN)
            self._writing = False

    # -- the manifest -----------------------------------------------------------------------
    def load_manifest(self) -> Loaded:
        """The manifest's entries (a manifest written before archive files' entries were
        kept apart holds theirs too: ``mixed``)."""
        return manifest.load(self.state / MANIFEST)

    def load_archive_manifests(self, groups: Iterable[GroupKey] | None = None) -> list[Loaded]:
        """The manifest's entries for the archive files of these groups (``None``: of
        every group), a file each. While the one file older builds kept them all in is
        there, it comes first (``mixed``: it is split when the manifest is next saved
        whole), without the entries of a group that has a file of its own, and every
        group's file is read (saved whole, the files of groups not read would go)."""
        folder = self.state / ARCHIVES_DIR
        old = manifest.load(self.state / ARCHIVE_MANIFEST, archives=True)
        split = bool(old.entries) or old.damaged
        if groups is None or split:  # to split the old file, every group's are read
            names = self._archive_names()
        else:
            names = sorted({manifest.archive_name(key) for key in groups})
        loaded = [manifest.load(folder / name, archives=True) for name in names]
        if not split:
            return loaded
        apart = {name for name, got in zip(names, loaded, strict=True) if got.entries}
        _main, by_group = manifest.split(old.entries)
        entries = {
            path: entry
            for key, kept in by_group.items()
            if manifest.archive_name(key) not in apart
            for path, entry in kept.items()
        }
        return [Loaded(entries, old.damaged, True, old.warning), *loaded]

    def _archive_names(self) -> list[str]:
        """The files of :data:`ARCHIVES_DIR` (not a killed build's temporary files)."""
        try:
            names = os.listdir(self.state / ARCHIVES_DIR)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise OutputError.of(str(self.state / ARCHIVES_DIR), e, "read") from e
        return sorted(n for n in names if not n.startswith("."))

    def save_manifest(
        self,
        entries: Mapping[str, ManifestEntry],
        *,
        archives: Set[GroupKey] | Literal["all"] = "all",
    ) -> None:
        """Save the manifest, on the disk when this returns: archive files' entries a file
        per group in :data:`ARCHIVES_DIR`, the others in :data:`MANIFEST`. ``archives``
        says whose archive entries are saved: ``"all"`` (``entries`` holds every group's:
        the files of other groups, and the one file of older builds, go), or these groups
        only (``entries`` holds theirs; an empty set: a build that read or changed none)."""
        main, by_group = manifest.split(entries)
        self.state.mkdir(parents=True, exist_ok=True)
        self.begin_writing()
        every = archives == "all"
        keys = set(by_group) if archives == "all" else set(archives)
        if keys or every:
            self._save_archives({key: by_group.get(key, {}) for key in keys}, every=every)
        self._save(MANIFEST, manifest.encode(main))
        if every and self.files.exists(ARCHIVE_MANIFEST):
            self.files.unlink(ARCHIVE_MANIFEST)  # split: the files apart are on the disk
            if self.durable:
                fsync_path(self.state, folder=True)

    def _save_archives(
        self, groups: Mapping[GroupKey, Mapping[str, ManifestEntry]], *, every: bool
    ) -> None:
        """Write the archive entries of these groups (a group without any: its file goes),
        on the disk together; with ``every``, the files of any other group go too."""
        folder = self.state / ARCHIVES_DIR
        files = {manifest.archive_name(k): manifest.encode(v) for k, v in groups.items() if v}
        gone = {manifest.archive_name(k) for k, v in groups.items() if not v}
        if every:
            gone |= set(self._archive_names()) - set(files)
        try:
            if files:
                folder.mkdir(exist_ok=True)
                atomic_write_many(folder, files, durable=self.durable)
            removed = False
            for name in gone:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(folder / name)
                    removed = True
            if removed and self.durable:
                fsync_path(folder, folder=True)
        except OSError as e:
            raise OutputError.of(str(folder), e) from e

    def _save(self, name: str, data: bytes) -> None:
        try:
            atomic_write(self.state / name, data, durable=self.durable)
        except OSError as e:
            raise OutputError.of(str(self.state / name), e) from e

    # -- state files ------------------------------------------------------------------------
    def read_state(self, name: str) -> bytes | None:
        return self.files.read(name)

    def state_stamp(self, name: str) -> str:
        return self.files.stamp(name)

    def open_state(self, name: str) -> BinaryIO | None:
        return self.files.open(name)

    def append_state(self, name: str, data: bytes) -> int:
        self.begin_writing()  # a build killed while appending did not finish (see ids.py)
        return self.files.append(name, data)

    def finished(self) -> bool:
        """Whether the last build that wrote the folder finished (:data:`CLEAN`)."""
        return self.files.exists(CLEAN)

    def write_state(self, name: str, data: bytes) -> None:
        self.begin_writing()
        self.files.write(name, data)

    # -- looking at the folder --------------------------------------------------------------
    def changed(self, files: Mapping[str, tuple[int, int]]) -> set[str]:
        """Of these files, as feedwright wrote them (size, mtime ns), those missing or
        changed since."""
        root = f"{self.root}/"
        out = set()
        for path, (size, mtime) in files.items():
            try:
                st = os.stat(root + path)
            except OSError:
                out.add(path)
                continue
            if st.st_size != size or st.st_mtime_ns != mtime:
                out.add(path)
        return out

    def folder_mtimes(self, folders: Iterable[str]) -> dict[str, int | None]:
        """Each folder's mtime (ns), ``None`` for one that is gone."""
        root = f"{self.root}/"
        out: dict[str, int | None] = {}
        for folder in folders:
            try:
                out[folder] = os.stat(root + folder).st_mtime_ns
            except OSError:
                out[folder] = None
        return out

    def occupied(self, paths: Iterable[str]) -> set[str]:
        """Of these paths, those where something is (a file, a folder, a link).

        A folder is looked at once, and what is below a missing one not at all: a first
        build asks this of every file it will write (tens of thousands of archives), and
        makes about one ``lstat`` per group's folder."""
        root = f"{self.root}/"
        folders: dict[str, bool] = {"": True}

        def there(folder: str) -> bool:
            known = folders.get(folder)
            if known is None:
                parent = folder.rpartition("/")[0]
                known = folders[folder] = there(parent) and os.path.lexists(root + folder)
            return known

        return {p for p in paths if there(p.rpartition("/")[0]) and os.path.lexists(root + p)}


__all__ = [
    "ARCHIVES_DIR",
    "ARCHIVE_MANIFEST",
    "CLEAN",
    "MANIFEST",
    "Loaded",
    "Output",
    "Staged",
    "Stat",
    "Writer",
    "atomic_write",
    "safe_join",
]
