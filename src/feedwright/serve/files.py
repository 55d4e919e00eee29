"""Files for feed readers: exact media types, validators that follow the bytes, 304, gzip.

Starlette's ``StaticFiles`` is not used: it guesses ``atom.xml`` as ``application/xml``,
derives its ETag from mtime and size (so identical bytes rewritten get a new one), and
its gzip middleware keeps one strong ETag for two encodings. Here:

- the ETag is a hash of the bytes; the gzip variant has its own (``"<hash>-gzip"``);
- ``Last-Modified`` is the file's mtime, which the writer only moves when the bytes
  change; and if a file is touched with the same bytes, the old date is kept;
- ``If-None-Match`` (weak comparison, either variant's tag) wins over
  ``If-Modified-Since``, as RFC 9110 says;
- nothing outside the folder is reachable: no ``..``, no hidden files or folders
  (``.feedwright/``, temporary files), no symlink leading out, regular files only.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from starlette.responses import Response

from ..layout import file_media_type

#: Media types of other files, by suffix (feedwright's own files:
#: :func:`feedwright.layout.file_media_type`).
SUFFIX_TYPES = {
    ".xml": "application/xml",
    ".json": "application/json",
    ".html": "text/html",
    ".xsl": "application/xslt+xml",
    ".txt": "text/plain",
    ".css": "text/css",
}
#: Files below this size are not worth compressing.
GZIP_MIN_SIZE = 256


def media_type(name: str) -> str:
    """The ``Content-Type`` of a file, with ``; charset=utf-8`` for text formats."""
    base = file_media_type(name) or SUFFIX_TYPES.get(os.path.splitext(name)[1].lower())
    if base is None:
        base = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{base}; charset=utf-8" if _is_text(base) else base


def _is_text(base: str) -> bool:
    return base.startswith("text/") or base.endswith(("/xml", "+xml", "/json", "+json"))


def resolve(root: Path, relpath: str) -> Path | None:
    """The regular file ``relpath`` names under ``root``, or ``None``.

    ``relpath`` is the decoded URL path below the feeds prefix. Refused: empty, ``.``
    and ``..`` segments, hidden names (``.feedwright``, temporary files), NUL and
    backslash, and anything whose real path is outside ``root``.
    """
    parts = relpath.split("/")
    for part in parts:
        if not part or part.startswith(".") or "\x00" in part or "\\" in part:
            return None
    real_root = os.path.realpath(root)
    path = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, path]) != real_root:
        return None
    if any(part.startswith(".") for part in Path(os.path.relpath(path, real_root)).parts):
        return None  # a symlink to a hidden file, e.g. into .feedwright/
    return Path(path)


@dataclass(slots=True)
class Representation:
    """A response body with its validators; the gzip variant is made on first use."""

    data: bytes
    media_type: str
    #: Seconds since the epoch (whole seconds: HTTP dates have no fractions).
    last_modified: int
    etag: str = ""
    _gzip: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'

    @property
    def compressible(self) -> bool:
        return len(self.data) >= GZIP_MIN_SIZE and _is_text(self.media_type.split(";")[0])

    def gzipped(self) -> bytes:
        if self._gzip is None:
            # mtime=0: the same bytes always compress to the same bytes.
            self._gzip = gzip.compress(self.data, compresslevel=6, mtime=0)
        return self._gzip


class FileCache:
    """Representations of files, keyed by path and revalidated by ``stat`` on every use.

    Bounded by total bytes (least recently used goes first). Thread-safe.
    """

    def __init__(self, max_bytes: int = 64 << 20) -> None:
        self._max = max_bytes
        self._size = 0
        self._entries: OrderedDict[str, tuple[tuple[int, ...], Representation]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> Representation | None:
        """The file's representation, or ``None`` if it is not a readable regular file."""
        key = str(path)
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and cached[0] == _stat_key(st):
                self._entries.move_to_end(key)
                return cached[1]
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())  # the stat of exactly the bytes we read
                if not stat.S_ISREG(st.st_mode):
                    return None
                data = f.read()
        except OSError:
            return None
        rep = Representation(data, media_type(path.name), int(st.st_mtime))
        if cached is not None and cached[1].etag == rep.etag:
            rep.last_modified = cached[1].last_modified  # touched, not changed
        self._store(key, _stat_key(st), rep)
        return rep

    def _store(self, key: str, skey: tuple[int, ...], rep: Representation) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[1].data)
            if len(rep.data) > self._max // 4:
                return
            self._entries[key] = (skey, rep)
            self._size += len(rep.data)
            while self._size > self._max and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= len(dropped.data)


def _stat_key(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def wants_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` gives gzip a non-zero quality (``*`` counts)."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, *params = item.split(";")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        qualities[coding.strip().lower()] = q
    for name in ("gzip", "x-gzip", "*"):
        if name in qualities:
            return qualities[name] > 0
    return False


def not_modified(headers: Mapping[str, str], etags: set[str], last_modified: int) -> bool:
    """RFC 9110 §13.2.2 for GET/HEAD: ``If-None-Match`` first, else ``If-Modified-Since``."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
        return "*" in tags or bool(tags & etags)
    ims = headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since.timestamp()
    return False


def respond(
    headers: Mapping[str, str],
    rep: Representation,
    *,
    cache_control: str,
    extra: Mapping[str, str] | None = None,
) -> Response:
    """200 (identity or gzip) or 304 for a GET/HEAD of ``rep``. The server drops HEAD bodies."""
    use_gzip = rep.compressible and wants_gzip(headers.get("accept-encoding"))
    out = {
        "etag": rep.gzip_etag if use_gzip else rep.etag,
        "last-modified": formatdate(rep.last_modified, usegmt=True),
        "cache-control": cache_control,
        "x-content-type-options": "nosniff",
    }
    if rep.compressible:
        out["vary"] = "Accept-Encoding"
    out.update(extra or {})
    if not_modified(headers, {rep.etag, rep.gzip_etag}, rep.last_modified):
        return Response(status_code=304, headers=out)
    body = rep.gzipped() if use_gzip else rep.data
    if use_gzip:
        out["content-encoding"] = "gzip"
    out["content-type"] = rep.media_type
    out["content-length"] = str(len(body))
    return Response(content=body, headers=out)
