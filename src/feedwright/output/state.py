"""feedwright's own files in the output folder (``.feedwright/``): state files such as
the id ledger, read and written whole or appended to, and the lock that lets one build at
a time write the folder."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError
from .durable import atomic_write

#: How much of the end of a state file its stamp hashes.
_TAIL = 4096


class StateFiles:
    """The files of ``.feedwright/`` (``folder``); ``durable``: on the disk when written."""

    def __init__(self, folder: Path, *, durable: bool = True) -> None:
        self.folder = folder
        self.durable = durable

    def read(self, name: str) -> bytes | None:
        """A state file's bytes, or ``None`` if there is none."""
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise OutputError.of(str(self.folder / name), e, "read") from e

    def stamp(self, name: str) -> str:
        """What identifies the bytes of a state file without reading it all: its size, its
        mtime and a hash of its last 4 KiB (``none``: there is no such file)."""
        path = self.folder / name
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                f.seek(max(0, st.st_size - _TAIL))
                tail = hashlib.blake2b(f.read(_TAIL), digest_size=16).hexdigest()
        except FileNotFoundError:
            return "none"
        except OSError as e:
            raise OutputError.of(str(path), e, "read") from e
        return f"{st.st_size}:{st.st_mtime_ns}:{tail}"

    def open(self, name: str) -> BinaryIO | None:
        """A state file open for reading (``None``: there is none); the caller closes it."""
        try:
            return open(self.folder / name, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise OutputError.of(str(self.folder / name), e, "read") from e

    def append(self, name: str, data: bytes) -> int:
        """Add ``data`` to the end of an existing state file, in one write, on the disk
        before it returns; the offset at which it begins.

        If the write or the sync fails (a full disk, an I/O error, a signal), the file is
        cut back to the size it had (and given back its mtime: it holds the same bytes), so
        it never keeps part of ``data``; if even that fails, the reader of the file is left
        to find the part (the ledger's lines prove themselves)."""
        path = self.folder / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise OutputError.of(str(path), e) from e
        try:
            before = os.fstat(fd)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self.durable:
                    os.fsync(fd)
            except BaseException:
                self._roll_back(fd, before)
                raise
        except OSError as e:
            raise OutputError.of(str(path), e) from e
        finally:
            os.close(fd)
        return before.st_size

    def _roll_back(self, fd: int, before: os.stat_result) -> None:
        """Cut an append back to the file as it was (best effort)."""
        with contextlib.suppress(OSError):
            os.ftruncate(fd, before.st_size)
            if self.durable:
                os.fsync(fd)
            os.utime(fd, ns=(before.st_atime_ns, before.st_mtime_ns))

    def write(self, name: str, data: bytes) -> None:
        """Replace a state file atomically, on the disk before it returns."""
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data, durable=self.durable)
        except OSError as e:
            raise OutputError.of(str(path), e) from e

    def exists(self, name: str) -> bool:
        return (self.folder / name).exists()

    def touch(self, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).touch()

    def unlink(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / name).unlink()


@contextlib.contextmanager
def hold_lock(
    folder: Path,
    *,
    on_wait: Callable[[str], None] | None = None,
    timeout: float = 3600.0,
    waiting: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold ``<folder>/lock``: a second build waits for the first (``on_wait`` hears it
    once; ``waiting`` is called every 50 ms while it waits, and may raise to give up)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"another build is writing {folder.parent}; waiting for it to finish")
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(0.05)
                if waiting is not None:
                    waiting()
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
        os.close(fd)
