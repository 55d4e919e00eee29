"""Find post files under the source folder, as Jekyll does. The only reader of the tree."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .config import HTML_EXT, MARKDOWN_EXT, Config, setting_error, setting_name
from .errors import PostError
from .model import RawPost

_DATED = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}-?$")
# A byte of a name that is not UTF-8, as :func:`shown` writes it.
_NOT_UTF8 = re.compile(r"\\x[89a-f][0-9a-f]")
#: Files larger than this are refused rather than read.
MAX_POST_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Found:
    """What discovery saw: post candidates, and files it ignored (for ``-v``)."""

    posts: list[RawPost]
    ignored: list[str]


class PostFolder(NamedTuple):
    """A folder whose files are posts: a ``_posts`` folder or a folder below one."""

    #: Path relative to the source folder, with ``/`` separators.
    rel: str
    #: Absolute path.
    path: str
    #: Categories taken from the folders above ``_posts``.
    categories: tuple[str, ...]


#: A post folder and the names of the entries in it that are not folders (posts or not).
Listing = list[tuple[PostFolder, list[str]]]


def _walk(root: str, skip: set[str]) -> Iterator[tuple[str, list[str]]]:
    """Every folder worth entering, depth first, sorted, with the names of its entries
    that are not folders. Each folder is read once, and only names are kept: a
    ``_posts`` folder may hold a million files."""
    stack = [root]
    while stack:
        dirpath = stack.pop()
        subdirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(dirpath) as it:
                for entry in it:
                    _sort(entry, skip, subdirs, files)
        except OSError:
            pass
        yield dirpath, files
        stack.extend(sorted(subdirs, reverse=True))


def _sort(entry: os.DirEntry[str], skip: set[str], subdirs: list[str], files: list[str]) -> None:
    """A folder to enter goes to ``subdirs``, anything but a folder to ``files``."""
    try:
        is_dir = entry.is_dir(follow_symlinks=False)
    except OSError:
        return
    if not is_dir:
        files.append(entry.name)
    elif (entry.name == "_posts" or not entry.name.startswith((".", "_"))) and (
        not skip or os.path.realpath(entry.path) not in skip
    ):
        subdirs.append(entry.path)


def shown(name: str) -> str:
    """A file or folder name as text: one that is not UTF-8 (Python reads its bytes as lone
    surrogates) with those bytes written ``\\xe9``, as :func:`read_post` recognises."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def post_folders(source: Path, *, exclude: tuple[Path, ...] = ()) -> Listing:
    """Every ``_posts`` folder under ``source`` and the folders below it, each with the
    entries in it that are not folders.

    Folders above ``_posts`` become categories; folders below it do not (Jekyll).
    Folders starting with ``.`` or ``_`` (other than ``_posts``) and symlinked folders
    are not entered; ``exclude`` (e.g. the output folder) is skipped. A name that is not
    UTF-8 is given :func:`shown` (only its real path, ``PostFolder.path``, keeps it): such
    a post is then one error, never a name the rest of the build cannot store.
    """
    root = str(source)
    skip = {os.path.realpath(p) for p in exclude}
    folders = []
    for dirpath, files in _walk(root, skip):
        rel = shown(os.path.relpath(dirpath, root).replace(os.sep, "/"))
        parts = [] if rel == "." else rel.split("/")
        if "_posts" in parts:
            if not _is_utf8("\n".join(files)):
                files = [shown(name) for name in files]
            folder = PostFolder(rel, dirpath, tuple(parts[: parts.index("_posts")]))
            folders.append((folder, files))
    return folders


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def post_extensions(markdown_ext: tuple[str, ...] = MARKDOWN_EXT) -> tuple[str, ...]:
    """The extensions of post files: ``markdown_ext`` (``config.site.markdown_ext``), then
    ``html``/``htm``."""
    return tuple(dict.fromkeys((*markdown_ext, *HTML_EXT)))


def skip_reason(name: str, markdown_ext: tuple[str, ...] = MARKDOWN_EXT) -> str | None:
    """Why a file in a ``_posts`` folder is not a post (``None`` if it is one by its name)."""
    return _skip_reason(name, post_extensions(markdown_ext))


def _skip_reason(name: str, extensions: tuple[str, ...]) -> str | None:
    if name.startswith("."):
        return "a hidden file"
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in extensions:
        shown = ", ".join("." + e for e in extensions)
        return f"not a post extension (posts end in {shown})"
    if _DATED.match(stem) is not None:
        return None
    if _DATE_ONLY.match(stem):
        return "no title after the date in the file name (YYYY-MM-DD-title.md)"
    return "no date in the file name (posts are named YYYY-MM-DD-title.md)"


def is_post_name(name: str, extensions: tuple[str, ...]) -> bool:
    """Whether a file name is ``YYYY-MM-DD-slug.EXT`` with a post extension."""
    stem, dot, ext = name.rpartition(".")
    return (
        bool(dot)
        and not name.startswith(".")
        and ext.lower() in extensions
        and _DATED.match(stem) is not None
    )


def _join(folder: str, name: str) -> str:
    """``os.path.join(folder, name)`` for text paths, without its generality (run for
    every post file)."""
    if name.startswith("/") or not folder:
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def raw_post(folder: PostFolder, name: str, size: int, mtime_ns: int) -> RawPost:
    """The post file ``name`` of ``folder`` (a name :func:`is_post_name` accepts)."""
    stem, _dot, ext = name.rpartition(".")
    m = _DATED.match(stem)
    assert m is not None, name
    y, mo, d, slug = m.groups()
    return RawPost(
        relpath=f"{folder.rel}/{name}",
        abspath=_join(folder.path, name),
        dir_categories=folder.categories,
        name_date=(int(y), int(mo), int(d)),
        slug=slug,
        ext=ext.lower(),
        size=size,
        mtime_ns=mtime_ns,
    )


def stat_file(path: str) -> tuple[int, int]:
    """``(size, mtime_ns)`` of a file (symlinks followed), ``(-1, -1)`` if it cannot be
    stat'ed (reading it will say why)."""
    try:
        st = os.stat(path)
    except OSError:
        return -1, -1
    return st.st_size, st.st_mtime_ns


def source_has(source: Path, relpath: str) -> bool:
    """Whether anything (a file, a link, a folder) is at ``relpath`` in the source."""
    return os.path.lexists(source / relpath)


def discover(
    source: Path, *, exclude: tuple[Path, ...] = (), markdown_ext: tuple[str, ...] = MARKDOWN_EXT
) -> Found:
    """Every post file under ``source`` (in path order), and the files ignored beside them.

    Posts end in one of ``markdown_ext`` (``config.site.markdown_ext``) or ``html``/``htm``.
    """
    extensions = post_extensions(markdown_ext)
    posts: list[RawPost] = []
    ignored: list[str] = []
    for folder, files in post_folders(source, exclude=exclude):
        for name in files:
            if is_post_name(name, extensions):
                posts.append(raw_post(folder, name, *stat_file(f"{folder.path}/{name}")))
            else:
                ignored.append(f"{folder.rel}/{name}")
    posts.sort(key=lambda p: p.relpath)
    ignored.sort()
    return Found(posts=posts, ignored=ignored)


def skipped_files(config: Config) -> list[tuple[str, str]]:
    """``(relpath, reason)`` for every file under a ``_posts`` folder that is not a post."""
    extensions = post_extensions(config.site.markdown_ext)
    found = []
    for folder, files in post_folders(config.source, exclude=(config.output,)):
        for name in files:
            reason = _skip_reason(name, extensions)
            if reason is not None:
                found.append((f"{folder.rel}/{name}", reason))
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


_READ = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_post(source: Path, relpath: str, path: str) -> int:
    """Open the post file at ``path`` for reading: a symlink only if it leads inside
    ``source``. A file that is no symlink is opened at once (one system call); a symlink
    (the open refuses it) is looked at first."""
    if _NOFOLLOW:
        try:
            return os.open(path, _READ | _NOFOLLOW)
        except OSError as e:
            if e.errno != errno.ELOOP:
                raise
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if os.path.commonpath([real, os.path.realpath(source)]) != os.path.realpath(source):
            raise PostError(relpath, 1, "symlink leads outside the source folder; not read")
    return os.open(path, _READ)


def read_post(source: Path, relpath: str) -> bytes:
    """The bytes of the post file ``relpath``: the only way feedwright reads a post, its
    front matter and its body alike. Only regular files inside ``source`` are read, no
    larger than :data:`MAX_POST_BYTES`; nothing blocks. Failures are :class:`PostError`."""
    path = _join(os.fspath(source), relpath)
    try:
        if (bad := _NOT_UTF8.search(relpath)) is not None and not os.path.lexists(path):
            byte = bad.group(0)
            raise PostError(
                relpath,
                None,
                f"the file name (or a folder above it) is not UTF-8 (byte 0x{byte[2:]}, shown "
                f"as {byte}); rename it in UTF-8 to publish the post; skipped",
            )
        fd = _open_post(source, relpath, path)
    except PostError:
        raise
    except OSError as e:
        raise PostError(relpath, 1, f"cannot read: {e.strerror}") from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise PostError(relpath, 1, "not a regular file; skipped")
        if st.st_size > MAX_POST_BYTES:
            raise PostError(
                relpath,
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
                relpath, 1, f"posts larger than {MAX_POST_BYTES >> 20} MiB are not read"
            )
        return data
    except OSError as e:
        raise PostError(relpath, 1, f"cannot read: {e.strerror}") from e
    finally:
        os.close(fd)
