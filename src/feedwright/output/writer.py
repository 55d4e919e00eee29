"""The writer of the output folder: atomic, durable in batches, skipping unchanged bytes.

A file is *staged* (its bytes in a temporary file beside it; nothing is staged when it
already holds exactly those bytes, so its mtime, and HTTP validators, stay put), then a
batch of staged files is *published*: one sync of the file system puts every temporary
on the disk, then each is renamed over its file. A crash or a power cut therefore leaves
the old bytes or the new ones, never an empty or torn file; a batch stopped before it is
published leaves nothing behind. The renames themselves are made durable by
:meth:`Writer.sync_folders` (once per folder, or one more ``syncfs``), before the build
saves its manifest and lets go of the folder.

Every write says what it left on the disk (:class:`Stat`), so nothing else stats the
output folder. With ``durable=False`` (tests, the benchmark's comparison) nothing is
synced.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import OutputError
from . import durable as disk
from .durable import temporary_name, write_new


class Stat(NamedTuple):
    """A file's size and modification time (ns): what tells feedwright it is as it was
    written."""

    size: int
    mtime: int


def stat_of(st: os.stat_result) -> Stat:
    return Stat(st.st_size, st.st_mtime_ns)


@dataclass(slots=True)
class Staged:
    """One file of a batch (:meth:`Writer.stage`)."""

    relpath: str
    #: Where it goes.
    path: Path
    #: Its stat once published (a new file's is its temporary's: a rename keeps it).
    stat: Stat
    #: The temporary file that holds its bytes (``None``: the file already holds them,
    #: or the batch was published).
    tmp: Path | None = None
    #: Whether its bytes change.
    changed: bool = False


def _nothing() -> None:
    pass


SECOND = 1_000_000_000


def _later_second(tmp: Path, st: Stat, before: Stat) -> Stat:
    """New bytes in the same second as the old ones: the file's mtime is moved to the next
    second. HTTP's ``Last-Modified`` counts whole seconds, and a client that sends
    ``If-Modified-Since`` (libcurl: newsboat, many aggregators) drops a response whose
    ``Last-Modified`` is not newer than what it has, so without this an edit published
    within a second of the previous build would stay unseen until the next change."""
    mtime = (before.mtime // SECOND + 1) * SECOND
    os.utime(tmp, ns=(mtime, mtime))
    return Stat(st.size, mtime)


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


class Writer:
    """Writes and removes files in ``root`` (see the module's promise)."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        #: What could not be done and did not stop the build (a removal, a folder sync).
        self.warnings: list[str] = []
        #: Called before the first temporary file is made (see ``Output.begin_writing``).
        self.before_writing: Callable[[], None] = _nothing
        #: Folders already checked (and created) by :meth:`_target`.
        self._folders: set[str] = set()
        #: Folders with renames or removals not yet durable (:meth:`sync_folders`).
        self._unsynced: set[Path] = set()
        #: The file system (``st_dev``) of each folder published into.
        self._devices: dict[Path, int] = {}

    # -- a batch ----------------------------------------------------------------------------
    def stage(self, relpath: str, data: bytes) -> Staged:
        """``data`` in a temporary file beside ``relpath`` (not synced yet), or nothing to
        do when the file already holds exactly it (``changed`` is then ``False``)."""
        path, current, before = self._changed_target(relpath, data)
        if current is not None:
            return Staged(relpath, path, current)
        self.before_writing()
        tmp = temporary_name(path)
        try:
            st = stat_of(write_new(tmp, data))
            if before is not None and st.mtime // SECOND <= before.mtime // SECOND:
                st = _later_second(tmp, st, before)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise OutputError.of(str(path), e) from e
        return Staged(relpath, path, st, tmp, changed=True)

    def publish(self, batch: Sequence[Staged]) -> None:
        """Put every staged temporary on the disk (one ``syncfs`` per file system, or an
        ``fsync`` each), then rename each over its file. On an error before the renames
        none is renamed, and no temporary is left."""
        pending = [s for s in batch if s.tmp is not None]
        if not pending:
            return
        try:
            if self.durable:
                self._sync_data(pending)
            for s in pending:
                assert s.tmp is not None
                os.replace(s.tmp, s.path)
                s.tmp = None
                self._unsynced.add(s.path.parent)
        except OSError as e:
            self.discard(pending)
            raise OutputError.of(str(e.filename or ""), e) from e
        except BaseException:
            self.discard(pending)
            raise

    def discard(self, batch: Iterable[Staged]) -> None:
        """Remove the temporary files of staged files not published."""
        for s in batch:
            if s.tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(s.tmp)
                s.tmp = None

    def write(self, relpath: str, data: bytes) -> Staged:
        """Stage and publish one file (:meth:`stage`, :meth:`publish`)."""
        staged = self.stage(relpath, data)
        self.publish([staged])
        return staged

    def _sync_data(self, pending: list[Staged]) -> None:
        if not disk.has_syncfs():
            for s in pending:
                assert s.tmp is not None
                disk.fsync_path(s.tmp)
            return
        synced: set[int] = set()
        for folder in {s.path.parent for s in pending}:
            device = self._devices.get(folder)
            if device is None:
                device = self._devices[folder] = os.stat(folder).st_dev
            if device not in synced:
                disk.sync_filesystem(folder)
                synced.add(device)

    def sync_folders(self) -> None:
        """Make the renames and removals since the last call durable: one ``syncfs`` per
        file system (or an ``fsync`` of each folder, once, however many files it got)."""
        pending, self._unsynced = sorted(self._unsynced), set()
        if not self.durable or not pending:
            return
        if disk.has_syncfs():
            by_device: dict[int, Path] = {}
            for folder in pending:
                device = self._devices.get(folder)
                if device is None:  # a folder that only lost files
                    try:
                        device = self._devices[folder] = os.stat(folder).st_dev
                    except OSError:
                        continue  # gone since
                by_device.setdefault(device, folder)
            pending = list(by_device.values())
        for folder in pending:
            try:
                if disk.has_syncfs():
                    disk.sync_filesystem(folder)
                else:
                    disk.fsync_path(folder, folder=True)
            except FileNotFoundError:
                pass  # emptied and removed since
            except OSError as e:
                self.warnings.append(f"{folder}: cannot sync ({e.strerror})")

    # -- one file ---------------------------------------------------------------------------
    def remove(self, relpath: str) -> bool:
        """Remove a file feedwright wrote, and the folders it leaves empty; whether it was
        there."""
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

    def _changed_target(self, relpath: str, data: bytes) -> tuple[Path, Stat | None, Stat | None]:
        """Where ``relpath`` goes (its folder made), the stat of the file there if it
        already holds exactly ``data``, and its stat if it holds other bytes."""
        try:
            path = self._target(relpath)
        except OSError as e:
            raise OutputError.of(relpath, e) from e
        try:
            with open(path, "rb") as f:
                st = stat_of(os.fstat(f.fileno()))
                if f.read(len(data) + 1) == data:
                    return path, st, None
                return path, None, st
        except FileNotFoundError:
            pass
        except IsADirectoryError as e:
            raise OutputError(relpath, "a folder is in the way of this feed") from e
        except OSError:
            pass
        return path, None, None

    def _target(self, relpath: str) -> Path:
        """:func:`safe_join`, with each folder checked (and created) once: only a file
        that is itself a symlink needs its real path looked at again."""
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
