"""Find post files under the source folder, as Jekyll does. The only reader of the tree."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import PostError
from .model import RawPost

_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)\.(md|markdown|html|htm)$", re.I)
#: Files larger than this are refused rather than read.
MAX_POST_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Found:
    """What discovery saw: post candidates, and files it ignored (for ``-v``)."""

    posts: list[RawPost]
    ignored: list[str]


def _walk(root: str, skip: set[str]) -> Iterator[tuple[str, list[str], list[str]]]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        keep = []
        for d in sorted(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.realpath(full) in skip or os.path.islink(full):
                continue
            if d == "_posts" or not d.startswith((".", "_")):
                keep.append(d)
        dirnames[:] = keep
        yield dirpath, dirnames, sorted(filenames)


def discover(source: Path, *, exclude: tuple[Path, ...] = ()) -> Found:
    """Every ``_posts`` folder under ``source``; files named ``YYYY-MM-DD-slug.EXT`` in them.

    Folders above ``_posts`` become categories; folders below it do not (Jekyll).
    Folders starting with ``.`` or ``_`` (other than ``_posts``) and symlinked folders
    are not entered; ``exclude`` (e.g. the output folder) is skipped.
    """
    root = str(source)
    skip = {os.path.realpath(p) for p in exclude}
    posts: list[RawPost] = []
    ignored: list[str] = []
    for dirpath, _dirs, files in _walk(root, skip):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        parts = [] if rel_dir == "." else rel_dir.split("/")
        if "_posts" not in parts:
            continue
        cut = parts.index("_posts")
        categories = tuple(parts[:cut])
        for name in files:
            rel = "/".join([*parts, name])
            m = _NAME.match(name)
            if m is None:
                ignored.append(rel)
                continue
            y, mo, d, slug, ext = m.groups()
            posts.append(
                RawPost(
                    relpath=rel,
                    abspath=os.path.join(dirpath, name),
                    dir_categories=categories,
                    name_date=(int(y), int(mo), int(d)),
                    slug=slug,
                    ext=ext.lower(),
                )
            )
    posts.sort(key=lambda p: p.relpath)
    return Found(posts=posts, ignored=ignored)


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
