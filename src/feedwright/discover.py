"""Find post files under the source folder, as Jekyll does. The only reader of the tree."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .errors import ConfigError, PostError
from .model import RawPost

_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)\.(md|markdown|html|htm)$", re.I)
#: Files larger than this are refused rather than read.
MAX_POST_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Found:
    """What discovery saw: post candidates, and files it ignored (for ``-v``)."""

    posts: list[RawPost]
    ignored: list[str]
    #: Files whose size and mtime equal what ``known`` said (only when ``known`` is given).
    unchanged: list[str] = field(default_factory=list)


def _walk(root: str, skip: set[str]) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """(folder, file entries) for every folder worth entering, depth first, sorted."""
    stack = [root]
    while stack:
        dirpath = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError:
            continue
        files = []
        subdirs = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_dir:
                files.append(entry)
            elif (entry.name == "_posts" or not entry.name.startswith((".", "_"))) and (
                not skip or os.path.realpath(entry.path) not in skip
            ):
                subdirs.append(entry.path)
        yield dirpath, files
        stack.extend(sorted(subdirs, reverse=True))


def discover(
    source: Path,
    *,
    exclude: tuple[Path, ...] = (),
    known: Mapping[str, tuple[int, int]] | None = None,
) -> Found:
    """Every ``_posts`` folder under ``source``; files named ``YYYY-MM-DD-slug.EXT`` in them.

    Folders above ``_posts`` become categories; folders below it do not (Jekyll).
    Folders starting with ``.`` or ``_`` (other than ``_posts``) and symlinked folders
    are not entered; ``exclude`` (e.g. the output folder) is skipped. A file whose
    ``(size, mtime_ns)`` equals ``known[relpath]`` is only listed in ``unchanged``.
    """
    root = str(source)
    skip = {os.path.realpath(p) for p in exclude}
    posts: list[RawPost] = []
    ignored: list[str] = []
    unchanged: list[str] = []
    for dirpath, files in _walk(root, skip):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        parts = [] if rel_dir == "." else rel_dir.split("/")
        if "_posts" not in parts:
            continue
        cut = parts.index("_posts")
        categories = tuple(parts[:cut])
        prefix = rel_dir + "/"
        for entry in files:
            name = entry.name
            rel = prefix + name
            try:
                st = entry.stat(follow_symlinks=True)
                size, mtime_ns = st.st_size, st.st_mtime_ns
            except OSError:
                size = mtime_ns = -1  # read_post reports why
            if known is not None and known.get(rel) == (size, mtime_ns) and size >= 0:
                unchanged.append(rel)
                continue
            m = _NAME.match(name)
            if m is None:
                ignored.append(rel)
                continue
            y, mo, d, slug, ext = m.groups()
            posts.append(
                RawPost(
                    relpath=rel,
                    abspath=entry.path,
                    dir_categories=categories,
                    name_date=(int(y), int(mo), int(d)),
                    slug=slug,
                    ext=ext.lower(),
                    size=size,
                    mtime_ns=mtime_ns,
                )
            )
    posts.sort(key=lambda p: p.relpath)
    ignored.sort()
    return Found(posts=posts, ignored=ignored, unchanged=unchanged)


def require_source(config: Config) -> None:
    """A missing source folder is an error, never an empty site (that would empty every feed)."""
    if not config.source.is_dir():
        raise ConfigError(config.file, "source", f"no such folder: {config.source}")


def read_post(raw: RawPost, source: Path) -> bytes:
    """The file's bytes. Only regular files inside ``source`` are read; nothing blocks."""
    path = raw.abspath
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            real = os.path.realpath(path)
            if os.path.commonpath([real, os.path.realpath(source)]) != os.path.realpath(source):
                raise PostError(raw.relpath, 1, "symlink leads outside the source folder; not read")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PostError:
        raise
    except OSError as e:
        raise PostError(raw.relpath, 1, f"cannot read: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PostError(raw.relpath, 1, "not a regular file; skipped")
        if st.st_size > MAX_POST_BYTES:
            raise PostError(
                raw.relpath,
                1,
                f"file is {st.st_size} bytes; posts larger than "
                f"{MAX_POST_BYTES >> 20} MiB are not read",
            )
        chunks = []
        remaining = MAX_POST_BYTES + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > MAX_POST_BYTES:
            raise PostError(
                raw.relpath, 1, f"posts larger than {MAX_POST_BYTES >> 20} MiB are not read"
            )
        return data
    except OSError as e:
        raise PostError(raw.relpath, 1, f"cannot read: {e.strerror}") from e
    finally:
        os.close(fd)
