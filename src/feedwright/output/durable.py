"""What makes a write survive a power cut: the data on the disk before the rename that
publishes it, and the rename on the disk before anyone is told.

Linux's ``syncfs(2)`` flushes every file of one file system in one call: a build syncs
once per batch of files instead of once per file (a journalling file system commits the
batch in one transaction). Where there is no ``syncfs``, each file and folder is
``fsync``ed instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

#: Suffix of temporary files (``.<name>.<16 hex digits>.fwtmp`` beside their target).
TMP_SUFFIX = ".fwtmp"
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@cache
def libc_syncfs() -> Callable[[int], int] | None:
    """The C library's ``syncfs``, looked up the first time a build syncs (``None``:
    there is none)."""
    import ctypes

    try:
        found: Callable[[int], int] | None = getattr(
            ctypes.CDLL(None, use_errno=True), "syncfs", None
        )
        return found
    except OSError:  # no C library to load (not on Linux)
        return None


def has_syncfs() -> bool:
    """Whether this system can sync one file system at once."""
    return libc_syncfs() is not None


def sync_filesystem(folder: str | os.PathLike[str]) -> None:
    """Flush every write (data and metadata, renames included) of the file system that
    holds ``folder`` to the disk (``syncfs(2)``); the caller checks :func:`has_syncfs`."""
    import ctypes

    syncfs = libc_syncfs()
    assert syncfs is not None
    fd = os.open(folder, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
    try:
        if syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), os.fspath(folder))
    finally:
        os.close(fd)


def fsync_path(path: str | os.PathLike[str], *, folder: bool = False) -> None:
    """``fsync`` a file, or a folder (which makes the renames in it durable)."""
    fd = os.open(path, os.O_RDONLY | (_O_DIRECTORY if folder else 0) | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(path: Path) -> Path:
    """A fresh temporary file name beside ``path``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}{TMP_SUFFIX}")


def write_new(path: Path, data: bytes) -> os.stat_result:
    """Create ``path`` (which must not exist) holding ``data``; its stat once written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        return os.fstat(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> os.stat_result:
    """Replace ``path`` with ``data`` at once, for one file that must be on the disk when
    this returns (the manifest, state files): temporary file, ``fsync``, rename, ``fsync``
    of the folder. Readers see the old bytes or the new ones; on an error the old file
    stays and no temporary is left. The new file's stat."""
    tmp = temporary_name(path)
    try:
        st = write_new(tmp, data)
        if durable:
            fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_path(path.parent, folder=True)
    return st


def atomic_write_many(folder: Path, files: Mapping[str, bytes], *, durable: bool = True) -> None:
    """:func:`atomic_write` for several files of one folder, on the disk together when
    this returns: every temporary file written, one sync for all of them (``syncfs``, or
    an ``fsync`` each), the renames, one ``fsync`` of the folder. Each file is replaced
    at once (old bytes or new); on an error no temporary is left."""
    renames: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            tmp = temporary_name(folder / name)
            renames.append((tmp, folder / name))
            write_new(tmp, data)
        if durable and renames:
            if has_syncfs():
                sync_filesystem(folder)
            else:
                for tmp, _path in renames:
                    fsync_path(tmp)
        for tmp, path in renames:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _path in renames:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    if durable and renames:
        fsync_path(folder, folder=True)
