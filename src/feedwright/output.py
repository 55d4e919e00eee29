"""The only writer of the output folder.

Writes are atomic and durable: a temporary file in the same folder is written, flushed
and ``fsync``ed, then renamed over the old file (:func:`atomic_write`), so a crash or a
power cut leaves either the old bytes or the new ones, never an empty or torn file. The
folders that received renames are ``fsync``ed once each, when the build lets go of the
output folder (:meth:`Output.sync_folders`, called on leaving :meth:`Output.lock`), so
the renames themselves survive a power cut too. Writes are skipped when the bytes would
not change, so mtimes (and HTTP validators) stay put. A manifest records every file
feedwright wrote; only those are ever removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError
from .layout import STATE_DIR, is_archive_path
from .model import ManifestEntry

MANIFEST = "manifest"
#: The manifest's entries for archive files (``feeds.archives``), kept apart: a site's
#: archives are most of its files, and a build reads them only when it decides an archive.
ARCHIVE_MANIFEST = "manifest-archives"
#: Present while no build is between its first write and its end: the last build that
#: wrote anything finished, so it left no temporary file behind.
CLEAN = "clean"
_TMP_SUFFIX = ".fwtmp"
#: How much of the end of a state file its stamp hashes.
_TAIL = 4096
_TMP_NAME = re.compile(r"^\..+\.[0-9a-f]{16}\.fwtmp$")

#: ``fsync`` files and folders. Only the benchmark turns it off, to measure what it costs.
DURABLE = True
#: Sync each folder once, when the build lets go of the output, rather than after every
#: rename in it. The benchmark measures both (``benchmarks/bench.py --only durable``).
BATCH_FOLDER_SYNC = True


def fsync_folder(folder: str | os.PathLike[str]) -> None:
    """Make the renames in ``folder`` durable (``fsync`` of the folder itself)."""
    if not DURABLE:
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Replace ``path`` with ``data``: temporary file, flush, ``fsync``, rename, and (with
    ``sync_folder``) ``fsync`` of the folder. Readers see the old bytes or the new ones.

    Without ``sync_folder`` the caller must :func:`fsync_folder` the folder later (before
    it tells anyone the file is in place) for the rename to survive a power cut.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{_TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if DURABLE:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_folder:
        fsync_folder(path.parent)


@dataclass(slots=True)
class Staged:
    """A file written under a temporary name in its folder, not yet ``fsync``ed or renamed
    (:meth:`Output.stage`)."""

    #: The open temporary file.
    fd: int
    tmp: Path
    #: Where :meth:`Output.publish` renames it to.
    path: Path


def safe_join(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing absolute paths, ``..`` and symlinks that lead out."""
    parts = relpath.split("/")
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\x00" in relpath:
        raise OutputError(relpath, "refusing a path outside the output folder")
    path = root.joinpath(*parts)
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise OutputError(relpath, "refusing a path that leads outside the output folder")
    return path


class Output:
    """The output folder: atomic writes, a manifest, pruning of what it owns."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / STATE_DIR
        self.warnings: list[str] = []
        #: Folders already checked (and created) by :meth:`_target`.
        self._folders: set[str] = set()
        #: The manifest existed but could not be read.
        self.manifest_damaged = False
        #: The archives' manifest existed but could not be read.
        self.archive_manifest_damaged = False
        #: The manifest read holds archive entries (written before they were kept apart).
        self._mixed = False
        #: Folders with renames not yet made durable (:meth:`sync_folders`).
        self._unsynced: set[Path] = set()
        #: This build has begun writing (:data:`CLEAN` is gone until :meth:`finish`).
        self._writing = False

    # -- manifest ---------------------------------------------------------------------------
    def load_manifest(self) -> dict[str, ManifestEntry]:
        """The manifest's entries but those of archive files (:meth:`load_archive_manifest`;
        a manifest written before they were kept apart holds them too)."""
        entries = self._load(MANIFEST)
        if entries is None:
            self.manifest_damaged = True
            return {}
        self._mixed = any(is_archive_path(p) for p in entries)
        return entries

    def load_archive_manifest(self) -> dict[str, ManifestEntry]:
        """The manifest's entries for archive files."""
        entries = self._load(ARCHIVE_MANIFEST)
        if entries is None:
            self.archive_manifest_damaged = True
            return {}
        return entries

    def _load(self, name: str) -> dict[str, ManifestEntry] | None:
        path = self.state / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            self.warnings.append(f"{path}: cannot read ({e.strerror}); it is rebuilt")
            return None
        try:
            data = json.loads(raw)
            files = data["files"]
            return {
                str(k): ManifestEntry(
                    sources=tuple(map(str, v.get("sources", ()))),  # map: ~3x faster
                    name=str(v.get("name", "")),
                    count=int(v.get("count", 0)),
                    newest=str(v.get("newest", "")),
                )
                for k, v in files.items()
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            self.warnings.append(f"{path}: unreadable manifest; it is rebuilt")
            return None

    def save_manifest(self, entries: Mapping[str, ManifestEntry], *, archives: bool = True) -> None:
        """Save the manifest: archive files' entries in :data:`ARCHIVE_MANIFEST`, the
        others in :data:`MANIFEST`. Without ``archives`` (a build that changed no archive)
        only the others are saved (but a manifest read with archive entries in it, from
        before they were kept apart, is split now)."""
        archives = archives or self._mixed
        mine = {p: e for p, e in entries.items() if not is_archive_path(p)}
        self.state.mkdir(parents=True, exist_ok=True)
        self._begin_writing()
        if archives:
            kept = {p: e for p, e in entries.items() if p not in mine}
            if kept or (self.state / ARCHIVE_MANIFEST).exists():
                self._save(ARCHIVE_MANIFEST, kept)
        self._save(MANIFEST, mine)
        self._mixed = False

    def _save(self, name: str, entries: Mapping[str, ManifestEntry]) -> None:
        files = {
            k: {"sources": v.sources, "name": v.name, "count": v.count, "newest": v.newest}
            for k, v in sorted(entries.items())
        }
        doc = {"version": 1, "files": files}
        data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        atomic_write(self.state / name, data)  # synced at once: it says what is ours

    # -- other state files (the id ledger) ------------------------------------------------
    def read_state(self, name: str) -> bytes | None:
        """A file of :data:`~feedwright.layout.STATE_DIR`, or ``None`` if there is none."""
        try:
            return (self.state / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise OutputError(f"{self.state / name}", f"cannot read: {e.strerror}") from e

    def state_stamp(self, name: str) -> str:
        """What identifies the bytes of a file of :data:`~feedwright.layout.STATE_DIR`
        without reading it all: its size, its mtime and a hash of its last 4 KiB
        (``none``: there is no such file)."""
        path = self.state / name
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                f.seek(max(0, st.st_size - _TAIL))
                tail = hashlib.blake2b(f.read(_TAIL), digest_size=16).hexdigest()
        except FileNotFoundError:
            return "none"
        except OSError as e:
            raise OutputError(f"{path}", f"cannot read: {e.strerror}") from e
        return f"{st.st_size}:{st.st_mtime_ns}:{tail}"

    def open_state(self, name: str) -> BinaryIO | None:
        """A file of :data:`~feedwright.layout.STATE_DIR` open for reading (``None``: there
        is none); the caller closes it."""
        try:
            return open(self.state / name, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise OutputError(f"{self.state / name}", f"cannot read: {e.strerror}") from e

    def append_state(self, name: str, data: bytes) -> int:
        """Add ``data`` to the end of an existing file of
        :data:`~feedwright.layout.STATE_DIR`, in one write, on disk before it returns;
        the offset at which it begins."""
        path = self.state / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
            try:
                start = os.fstat(fd).st_size
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if DURABLE:
                    os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise OutputError(f"{path}", f"cannot write: {e.strerror}") from e
        return start

    def write_state(self, name: str, data: bytes) -> None:
        """Replace a file of :data:`~feedwright.layout.STATE_DIR` atomically and durably
        (fsynced; its folder is fsynced when the build lets go of the lock)."""
        self.state.mkdir(parents=True, exist_ok=True)
        try:
            self._replace(self.state / name, data)
        except OSError as e:
            raise OutputError(f"{self.state / name}", f"cannot write: {e.strerror}") from e

    # -- lock -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(
        self, *, on_wait: Callable[[str], None] | None = None, timeout: float = 3600.0
    ) -> Iterator[None]:
        """Hold ``.feedwright/lock`` for the build: a second build waits for the first."""
        self.state.mkdir(parents=True, exist_ok=True)
        path = self.state / "lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait is not None:
                    on_wait(f"another build is writing {self.root}; waiting for it to finish")
                deadline = time.monotonic() + timeout
                while True:
                    time.sleep(0.05)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise OutputError(
                                str(path), "another build still holds the lock; giving up"
                            ) from None
            yield
        finally:
            try:
                self.sync_folders()
            finally:
                os.close(fd)

    # -- files ------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Create the folder."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(
                str(self.root), f"cannot create the output folder: {e.strerror}"
            ) from e

    def clean_temporary(self) -> None:
        """Remove temporary files a killed build left behind (call with the lock held).

        Only after a build that did not finish (or one from before :data:`CLEAN` existed):
        walking every folder of a big output (archives) costs seconds."""
        if (self.state / CLEAN).exists():
            return
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if _TMP_NAME.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, name))

    def _target(self, relpath: str) -> Path:
        """:func:`safe_join`, with each folder checked (and created) once per build: only
        a file that is itself a symlink needs its real path looked at again."""
        folder, _, name = relpath.rpartition("/")
        if folder not in self._folders:
            self._folder(folder)
        path = self.root / folder / name if folder else self.root / name
        if name in ("", ".", "..") or "\x00" in name:
            raise OutputError(relpath, "refusing a path outside the output folder")
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return safe_join(self.root, relpath)
        except FileNotFoundError:
            pass
        return path

    def _folder(self, folder: str) -> None:
        """Check (and create) a folder and those above it. A folder this build creates
        inside a checked one needs no check: nothing in it can lead out."""
        if not folder:
            safe_join(self.root, "x")
            self.root.mkdir(parents=True, exist_ok=True)
        else:
            if any(p in ("", ".", "..") for p in folder.split("/")) or "\x00" in folder:
                raise OutputError(folder, "refusing a path outside the output folder")
            parent = folder.rpartition("/")[0]
            if parent not in self._folders:
                self._folder(parent)
            path = f"{self.root}/{folder}"
            try:
                os.mkdir(path)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):  # a symlink: where does it lead?
                    safe_join(self.root, folder + "/x")
        self._folders.add(folder)

    def _changed_target(self, relpath: str, data: bytes) -> Path | None:
        """Where ``relpath`` goes (its folder made), or ``None`` if it already holds exactly
        ``data``."""
        try:
            path = self._target(relpath)
        except OSError as e:
            raise OutputError(relpath, f"cannot write: {e.strerror}") from e
        try:
            with open(path, "rb") as f:
                if f.read(len(data) + 1) == data:
                    return None
        except FileNotFoundError:
            pass
        except IsADirectoryError as e:
            raise OutputError(relpath, "a folder is in the way of this feed") from e
        except OSError:
            pass
        return path

    def write(self, relpath: str, data: bytes) -> bool:
        """Write ``data`` unless the file already holds exactly it. True if written."""
        path = self._changed_target(relpath, data)
        if path is None:
            return False
        try:
            self._replace(path, data)
        except OSError as e:
            raise OutputError(relpath, f"cannot write: {e.strerror}") from e
        return True

    # -- many files at once ----------------------------------------------------------------
    def stage(self, relpath: str, data: bytes) -> Staged | None:
        """The first step of :meth:`write` for many files at once: ``data`` in a temporary
        file beside ``relpath``, or ``None`` when the file already holds exactly it. Then
        :meth:`publish` them all, which ``fsync``s each before any is renamed into place
        (the same promise as :func:`atomic_write`: old bytes or new, never torn), with the
        ``fsync``s issued together, so that the file system commits them in a few journal
        transactions rather than one per file."""
        path = self._changed_target(relpath, data)
        if path is None:
            return None
        self._begin_writing()
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{_TMP_SUFFIX}")
        try:
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644
            )
        except OSError as e:
            raise OutputError(relpath, f"cannot write: {e.strerror}") from e
        staged = Staged(fd, tmp, path)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as e:
            discard([staged])
            raise OutputError(relpath, f"cannot write: {e.strerror}") from e
        return staged

    def publish(
        self,
        staged: list[Staged],
        each: Callable[[Callable[[int], None], Iterable[int]], Iterable[None]] = map,
    ) -> None:
        """``fsync`` every staged file (``each`` is a ``map``: the engine passes a thread
        pool's, so that the calls wait on the disk together), then rename them all into
        place; their folders are synced by :meth:`sync_folders`. On an error no staged
        file is renamed and none is left behind."""
        try:
            if DURABLE:
                for _ in each(os.fsync, [s.fd for s in staged]):
                    pass
            for s in staged:
                os.close(s.fd)
                s.fd = -1
                os.replace(s.tmp, s.path)
                s.tmp = s.path
                self._unsynced.add(s.path.parent)
        except OSError as e:
            discard(staged)
            raise OutputError(str(e.filename or ""), f"cannot write: {e.strerror}") from e
        except BaseException:
            discard(staged)
            raise

    def finish(self) -> None:
        """The build ended without leaving a temporary file: the next need not look."""
        if self._writing or not (self.state / CLEAN).exists():
            self.state.mkdir(parents=True, exist_ok=True)
            (self.state / CLEAN).touch()
            self._writing = False

    def _replace(self, path: Path, data: bytes) -> None:
        """:func:`atomic_write`, the folder's ``fsync`` left to :meth:`sync_folders`."""
        self._begin_writing()
        atomic_write(path, data, sync_folder=not BATCH_FOLDER_SYNC)
        if BATCH_FOLDER_SYNC:
            self._unsynced.add(path.parent)

    def _begin_writing(self) -> None:
        """From the first write on, a build killed may leave temporary files behind."""
        if not self._writing:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.state / CLEAN)
            self._writing = True

    def sync_folders(self) -> None:
        """``fsync`` each folder that received a rename or a removal since the last call:
        once per folder, not once per file (a cold build writes three files a folder)."""
        pending, self._unsynced = sorted(self._unsynced), set()
        for folder in pending:
            try:
                fsync_folder(folder)
            except FileNotFoundError:
                pass  # emptied and removed since
            except OSError as e:
                self.warnings.append(f"{folder}: cannot sync ({e.strerror})")

    def remove(self, relpath: str) -> bool:
        """Remove a file feedwright wrote, and the folders it leaves empty."""
        try:
            path = safe_join(self.root, relpath)
            path.unlink()
        except FileNotFoundError:
            return False
        except (OSError, OutputError) as e:
            self.warnings.append(f"{relpath}: cannot remove ({e})")
            return False
        self._unsynced.add(path.parent)
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            self._folders.discard(parent.relative_to(self.root).as_posix())
            parent = parent.parent
        self._unsynced.add(parent)  # the folder that lost the entry (file or emptied folder)
        return True


def discard(staged: Iterable[Staged]) -> None:
    """Close and remove the temporary files of staged writes not renamed yet."""
    for s in staged:
        if s.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(s.fd)
            s.fd = -1
        if s.tmp != s.path:
            with contextlib.suppress(OSError):
                os.unlink(s.tmp)
