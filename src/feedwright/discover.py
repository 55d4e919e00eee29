"""Find post files under the source folder, as Jekyll does. The only reader of the tree."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import HTML_EXT, MARKDOWN_EXT, Config, setting_error, setting_name
from .errors import PostError
from .model import RawPost

_DATED = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}-?$")
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


def _split_name(name: str, post_ext: tuple[str, ...]) -> re.Match[str] | str:
    """A post's name as ``(year, month, day, slug)`` groups, or why the file is no post."""
    stem, dot, ext = name.rpartition(".")
    if name.startswith("."):
        return "a hidden file"
    if not dot or ext.lower() not in post_ext:
        return f"not a post extension (posts end in {', '.join('.' + e for e in post_ext)})"
    m = _DATED.match(stem)
    if m is not None:
        return m
    if _DATE_ONLY.match(stem):
        return "no title after the date in the file name (YYYY-MM-DD-title.md)"
    return "no date in the file name (posts are named YYYY-MM-DD-title.md)"


def skip_reason(name: str, markdown_ext: tuple[str, ...] = MARKDOWN_EXT) -> str | None:
    """Why a file in a ``_posts`` folder is not a post (``None`` if it is one by its name)."""
    found = _split_name(name, _post_ext(markdown_ext))
    return found if isinstance(found, str) else None


def _post_ext(markdown_ext: tuple[str, ...]) -> tuple[str, ...]:
    return markdown_ext + tuple(e for e in HTML_EXT if e not in markdown_ext)


def discover(
    source: Path,
    *,
    exclude: tuple[Path, ...] = (),
    known: Mapping[str, tuple[int, int]] | None = None,
    markdown_ext: tuple[str, ...] = MARKDOWN_EXT,
) -> Found:
    """Every ``_posts`` folder under ``source``; files named ``YYYY-MM-DD-slug.EXT`` in them.

    ``EXT`` is one of ``markdown_ext`` (``config.site.markdown_ext``) or ``html``/``htm``.
    Folders above ``_posts`` become categories; folders below it do not (Jekyll).
    Folders starting with ``.`` or ``_`` (other than ``_posts``) and symlinked folders
    are not entered; ``exclude`` (e.g. the output folder) is skipped. A file whose
    ``(size, mtime_ns)`` equals ``known[relpath]`` is only listed in ``unchanged``.
    """
    root = str(source)
    skip = {os.path.realpath(p) for p in exclude}
    post_ext = _post_ext(markdown_ext)
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
            m = _split_name(name, post_ext)
            if isinstance(m, str):
                ignored.append(rel)
                continue
            y, mo, d, slug = m.groups()
            ext = name.rpartition(".")[2]
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


def skipped_files(config: Config) -> list[tuple[str, str]]:
    """``(relpath, reason)`` for every file under a ``_posts`` folder that is not a post."""
    skip = {os.path.realpath(config.output)}
    found = []
    for dirpath, files in _walk(str(config.source), skip):
        rel_dir = os.path.relpath(dirpath, config.source).replace(os.sep, "/")
        if "_posts" not in rel_dir.split("/"):
            continue
        for entry in files:
            reason = skip_reason(entry.name, config.site.markdown_ext)
            if reason is not None:
                found.append((f"{rel_dir}/{entry.name}", reason))
    return sorted(found)


def _has_posts_folder(source: Path, exclude: Path) -> bool:
    if (source / "_posts").is_dir():
        return True
    root, skip = str(source), {os.path.realpath(exclude)}
    return any(d != root and os.path.basename(d) == "_posts" for d, _files in _walk(root, skip))


def require_source(config: Config) -> None:
    """The source must be a Jekyll site: a folder with a ``_posts`` folder somewhere in it.

    A missing folder, or one without ``_posts``, is an error (never an empty site, which
    would empty every feed). Messages name the option or key the folder was given by.
    """
    source = config.source
    if not source.is_dir():
        raise setting_error(config, "source", f"no such folder: {source}")
    if _has_posts_folder(source, config.output):
        return
    if "_posts" in source.parts:
        site = Path(*source.parts[: source.parts.index("_posts")])
        name = setting_name(config, "source")
        message = f"{source} is a _posts folder: point {name} at the site above it, {site}"
    else:
        message = (
            f"no _posts folder in {source} "
            "(posts go in <site>/_posts/ or <site>/<category>/_posts/, as in Jekyll)"
        )
    raise setting_error(config, "source", message)


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
