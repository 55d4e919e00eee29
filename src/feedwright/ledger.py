"""Pure: the id ledger, which fixes each post's entry id the first time a build sees it.

Readers treat an entry whose id changed as a new post. A permalink moves for many reasons
(a new title in the file name, a category in a ``:categories`` permalink, ``http`` →
``https``, a new permalink style), so the id is not re-derived from it: the ledger, a file
of its own beside the output (``<output>/.feedwright/ids``, never the disposable cache),
remembers it, keyed by the post's source path.

The file is line-oriented text, written sorted by path and then appended to::

    feedwright-ids 2
    # path<TAB>content hash<TAB>entry id …
    _posts/2022-03-07-a.md<TAB>3f0c…(32 hex digits)<TAB>https://news.example/news/2022/03/07/a.html
    _posts/2022-03-07-a.md<TAB>9b1e…<TAB>https://news.example/news/2022/03/07/a.html
    _posts/2022-03-07-b.md<TAB>-<TAB>-

A later line for a path supersedes the earlier ones (the post's content changed, or the
row was moved to it from a renamed post); ``-`` ``-`` removes the path's row (its post was
renamed). A build appends only the lines that changed; when superseded lines outnumber the
rows, or a build reads the whole file anyway (a cold build, ``--full``) and that changes
its bytes, the file is written again with one line a row. Version 1 (one line a path, no
removals) is still read, and written as version 2 by the next build that reads it whole.

Tabs, newlines and backslashes inside a field are written ``\\t``, ``\\n``, ``\\r``,
``\\\\``. Blank lines and lines starting with ``#`` are ignored. Anything else that is not
what feedwright writes (a line that repeats the row its path has, a removal of a row that
is not there…) stops the build (:class:`~feedwright.errors.LedgerError`): an id is never
reassigned silently. Deleting the file resets every id to the post's permalink.

The rules (:meth:`Ledger.assign`):
- a post with its own ``id:`` (one that is not its permalink) keeps it and has no row;
- a post whose path has a row is published with the row's id (the row's hash follows
  the post's content);
- a post at a new path whose content hash is that of a row whose path is gone was
  renamed: the row moves to the new path;
- any other post gets a new row with its permalink as id.

A :class:`Ledger` reads its rows from a :class:`Rows` source (a mapping, or the lines of
the file that the build cache says hold them) and keeps what a build changes apart
(:attr:`Ledger.changes`), so a build that parses one post looks up one row and appends
one line.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, Protocol

from .errors import LedgerError

#: The format version a build writes, and the first line of the file.
VERSION = 2
HEADER = f"feedwright-ids {VERSION}"
#: The versions read (a version-1 file is written as version 2 by the next build that reads it).
_HEADERS = {"feedwright-ids 1": 1, HEADER: VERSION}
_COMMENT = (
    "# path<TAB>content hash<TAB>entry id, one post a line (a later line for a path replaces "
    "an earlier one; '-<TAB>-' removes it); written by feedwright. "
    "Delete this file to reset every id to its post's permalink."
)
#: The hash and id fields of a line that removes its path's row.
GONE = "-"
_HEX = re.compile(r"[0-9a-f]{32}\Z")
#: A row or a removal without escapes.
_ROW = re.compile(r"^([^\t\n\\#][^\t\n\\]*)\t([0-9a-f]{32}|-)\t([^\s\\]+)$", re.M)
#: An entry id: not empty, no white space.
_ID = re.compile(r"\S+\Z")
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {v[1]: k for k, v in _ESCAPES.items()}
_ESCAPE = re.compile(r"[\\\t\n\r]")
_UNESCAPE = re.compile(r"\\(.?)")


class Row(NamedTuple):
    """One post's line: the hash of its content when last seen (hex), and its entry id."""

    sha: str
    id: str


class Shape(NamedTuple):
    """What a ledger file holds besides its rows: how a build may add to it."""

    #: Its format version (0: there is no file).
    version: int
    #: Its rows (the paths that have one).
    live: int
    #: Its lines that a later line superseded, and its removals.
    dead: int

    @property
    def appendable(self) -> bool:
        """Whether a build may append to the file rather than write it again."""
        return self.version == VERSION and self.dead <= self.live


#: No file.
NO_FILE = Shape(0, 0, 0)


class Loaded(NamedTuple):
    """A ledger file as read: its rows by path, and its shape."""

    rows: dict[str, Row]
    shape: Shape


def _escape(text: str) -> str:
    if "\\" not in text and "\t" not in text and "\n" not in text and "\r" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def _unescape(text: str, where: str, line: int) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if m.group(1) not in _UNESCAPES:
            raise LedgerError(where, line, f"unknown escape {m.group()!r}")
        return _UNESCAPES[m.group(1)]

    return _UNESCAPE.sub(one, text)


def parse_ledger(data: bytes, where: str) -> dict[str, Row]:
    """The rows of a ledger file, by path (see :func:`load_ledger`)."""
    return load_ledger(data, where).rows


def load_ledger(data: bytes, where: str) -> Loaded:
    """The rows of a ledger file, by path, and its shape; :class:`LedgerError` (naming
    ``where`` and the line) for anything feedwright does not write. (Bytes that are not
    UTF-8 are kept as they are, as a file name may hold them.)"""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise LedgerError(where, 1, f"the file is empty; expected {HEADER!r} first")
    version = _HEADERS.get(lines[0])
    if version is None:
        raise LedgerError(
            where, 1, f"expected {HEADER!r}: this is not an id ledger feedwright wrote"
        )
    body = "\n".join(lines[1:])
    found = _ROW.findall(body)  # what feedwright writes (no escapes), read in C
    comments = body.startswith("#") + body.count("\n#")
    if len(found) + comments == len(lines) - 1:
        rows = _plain(found, version)
        if rows is not None:
            return Loaded(rows, Shape(version, len(rows), len(found) - len(rows)))
    return _parse_lines(lines, version, where)


def _plain(found: list[tuple[str, str, str]], version: int) -> dict[str, Row] | None:
    """The rows of lines that are all plain, or ``None`` if one is wrong (the slow
    reading names it)."""
    if version == 1:
        rows = {path: Row(sha, entry_id) for path, sha, entry_id in found}
        ok = len(rows) == len(found) and not any(row.sha == GONE for row in rows.values())
        return rows if ok else None
    rows = {}
    for path, sha, entry_id in found:
        if sha == GONE:
            if entry_id != GONE or rows.pop(path, None) is None:
                return None
        else:
            row = Row(sha, entry_id)
            if rows.get(path) == row:
                return None
            rows[path] = row
    return rows


def _parse_lines(lines: list[str], version: int, where: str) -> Loaded:
    """Line by line, naming the line of the first problem."""
    rows: dict[str, Row] = {}
    seen: dict[str, int] = {}  # the line of each path's row
    hexes = _HEX.match
    count = 0
    for number, line in enumerate(lines[1:], 2):
        fields = line.split("\t")
        if len(fields) == 3 and hexes(fields[1]) and _ID.match(fields[2]) and "\\" not in line:
            path, sha, entry_id = fields
        elif not line.strip() or line.startswith("#"):
            continue
        elif version > 1 and len(fields) == 3 and fields[1] == fields[2] == GONE:
            path = _unescape(fields[0], where, number)
            if path not in rows:
                raise LedgerError(where, number, f"{path} has no row to remove")
            del rows[path]
            count += 1
            continue
        else:
            path, sha, entry_id = _check(fields, where, number)
        row = Row(sha, entry_id)
        if path in rows and (version == 1 or rows[path] == row):
            again = "a row already" if version == 1 else "this row already"
            raise LedgerError(where, number, f"{path} has {again} (line {seen[path]})")
        rows[path] = row
        seen[path] = number
        count += 1
    return Loaded(rows, Shape(version, len(rows), count - len(rows)))


def _check(fields: list[str], where: str, number: int) -> tuple[str, str, str]:
    """A row that is not plain: escaped, or wrong (:class:`LedgerError`)."""
    if len(fields) != 3:
        raise LedgerError(
            where,
            number,
            f"expected 3 fields (path, content hash, id) between tabs, got {len(fields)}",
        )
    path, sha, entry_id = (_unescape(f, where, number) for f in fields)
    if not path:
        raise LedgerError(where, number, "the path is empty")
    if not _HEX.match(sha):
        raise LedgerError(where, number, f"expected a 32-hex-digit content hash, got {sha!r}")
    if not _ID.match(entry_id):
        raise LedgerError(where, number, f"expected an entry id (a URI), got {entry_id!r}")
    return path, sha, entry_id


def _line(path: str, row: Row | None) -> bytes:
    sha, entry_id = (GONE, GONE) if row is None else (row.sha, _escape(row.id))
    return f"{_escape(path)}\t{sha}\t{entry_id}\n".encode("utf-8", "surrogateescape")


def format_lines(
    items: Iterable[tuple[str, Row | None]], start: int = 0
) -> tuple[bytes, list[int]]:
    """The lines of ``items`` (a row, or ``None``: removed), in that order, and where each
    begins in a file in which they begin at byte ``start``."""
    lines = [_line(path, row) for path, row in items]
    offsets = []
    at = start
    for line in lines:
        offsets.append(at)
        at += len(line)
    return b"".join(lines), offsets


def _head() -> bytes:
    return f"{HEADER}\n{_COMMENT}\n".encode()


def format_ledger_at(rows: Mapping[str, Row]) -> tuple[bytes, list[tuple[str, Row, int]]]:
    """The file for ``rows`` (sorted by path: the same rows give the same bytes), and
    each row with where its line begins."""
    items = sorted(rows.items())
    head = _head()
    body, offsets = format_lines(items, len(head))
    return head + body, [(path, row, at) for (path, row), at in zip(items, offsets, strict=True)]


def format_ledger(rows: Mapping[str, Row]) -> bytes:
    """The file for ``rows`` (sorted by path: the same rows give the same bytes)."""
    head = _head()
    return head + format_lines(sorted(rows.items()), len(head))[0]


def format_changes(changes: Mapping[str, Row | None]) -> bytes:
    """The lines a build appends for ``changes`` (a row, or ``None``: removed), by path."""
    return format_lines(sorted(changes.items()))[0]


def parse_line(raw: bytes) -> tuple[str, Row | None] | None:
    """One line as feedwright writes it: its path and row (``None``: a removal), or
    ``None`` if it is not such a line."""
    fields = raw.decode("utf-8", "surrogateescape").removesuffix("\n").split("\t")
    try:
        if len(fields) == 3 and fields[1] == fields[2] == GONE:
            return _unescape(fields[0], "", 0), None
        path, sha, entry_id = _check(fields, "", 0)
    except LedgerError:
        return None
    return path, Row(sha, entry_id)


def path_key(path: str) -> int:
    """A 64-bit number for ``path`` (how the cache finds its line; two paths may share one)."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def sha_key(sha: str) -> int:
    """A 64-bit number for a content hash (its first 16 hex digits)."""
    return int.from_bytes(bytes.fromhex(sha[:16]), "big", signed=True)


def ledger_id(entry_id: str, url: str, row: Row | None) -> str:
    """The id a post is published with, given its row: its own id, else the row's."""
    if entry_id != url or row is None:
        return entry_id
    return row.id


class Rows(Protocol):
    """Where a :class:`Ledger` reads the rows it starts from."""

    def ledger_row(self, path: str) -> Row | None:
        """The row of ``path``, if it has one."""
        ...

    def ledger_paths(self, sha: str) -> Iterable[str]:
        """The paths whose row has the content hash ``sha``."""
        ...

    def ledger_rows(self) -> Iterable[tuple[str, Row]]:
        """Every row."""
        ...


class MappingRows:
    """:class:`Rows` held in memory (a file just read)."""

    def __init__(self, rows: Mapping[str, Row]) -> None:
        self._rows = rows
        self._by_sha: dict[str, list[str]] | None = None

    def ledger_row(self, path: str) -> Row | None:
        return self._rows.get(path)

    def ledger_paths(self, sha: str) -> Iterable[str]:
        if self._by_sha is None:  # only renames need it
            self._by_sha = {}
            for path, row in self._rows.items():
                self._by_sha.setdefault(row.sha, []).append(path)
        return self._by_sha.get(sha, ())

    def ledger_rows(self) -> Iterable[tuple[str, Row]]:
        return self._rows.items()


class Ledger:
    """The rows as a build reads and changes them: those of ``rows`` (a mapping or a
    :class:`Rows` source, never changed), and :attr:`changes`."""

    def __init__(self, rows: Mapping[str, Row] | Rows | None = None) -> None:
        if rows is None or isinstance(rows, Mapping):
            rows = MappingRows(rows or {})
        self._base: Rows = rows
        #: What the build changed: each path's new row, or ``None`` (removed).
        self.changes: dict[str, Row | None] = {}
        self._changed_by_sha: dict[str, set[str]] = {}  # the paths of changed rows, by hash

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def rows(self) -> dict[str, Row]:
        """Every row, by path, changes included (reads every row of the source)."""
        rows = dict(self._base.ledger_rows())
        for path, row in self.changes.items():
            if row is None:
                rows.pop(path, None)
            else:
                rows[path] = row
        return rows

    def row(self, path: str) -> Row | None:
        """The row of ``path`` now."""
        if path in self.changes:
            return self.changes[path]
        return self._base.ledger_row(path)

    def shape(self, before: Shape) -> Shape:
        """The shape of a file of shape ``before`` once :attr:`changes` are appended."""
        live, dead = before.live, before.dead
        for path, row in self.changes.items():
            had = self._base.ledger_row(path) is not None
            live += (row is not None) - had
            dead += had + (row is None)
        return Shape(before.version, live, dead)

    def _set(self, path: str, row: Row | None) -> None:
        was = self.changes.pop(path, None)
        if was is not None:
            self._changed_by_sha[was.sha].discard(path)
        if row != self._base.ledger_row(path):  # (else back to what the file says)
            self.changes[path] = row
            if row is not None:
                self._changed_by_sha.setdefault(row.sha, set()).add(path)

    def renamed_from(self, path: str, sha: str, gone: Callable[[str], bool]) -> str | None:
        """The path a new post at ``path`` was renamed from: a row with its content hash
        whose post is ``gone`` (the first in path order), or ``None``."""
        paths = {p for p in self._base.ledger_paths(sha) if p not in self.changes}
        paths |= self._changed_by_sha.get(sha, set())
        for old in sorted(paths):
            if old != path and gone(old):
                return old
        return None

    def assign(
        self, path: str, sha: bytes, entry_id: str, url: str, gone: Callable[[str], bool]
    ) -> str:
        """The entry id of the post at ``path`` (content hash ``sha``, parsed with
        ``entry_id`` and permalink ``url``), recording what it fixes (module rules)."""
        if entry_id != url:
            return entry_id
        hexed = sha.hex()
        row = self.row(path)
        if row is None:
            old = self.renamed_from(path, hexed, gone)
            if old is not None:
                row = self.row(old)
                assert row is not None
                self._set(old, None)
            else:
                row = Row(hexed, url)
        self._set(path, Row(hexed, row.id))
        return row.id

    def moved(self, path: str, entry_id: str, url: str) -> bool:
        """Whether a post published with ``entry_id`` has a permalink that moved away from
        the id its row fixed."""
        row = self.row(path)
        return row is not None and row.id == entry_id and entry_id != url
