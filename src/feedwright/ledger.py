"""Pure: the id ledger, which fixes each post's entry id the first time a build sees it.

Readers treat an entry whose id changed as a new post. A permalink moves for many reasons
(a new title in the file name, a category in a ``:categories`` permalink, ``http`` →
``https``, a new permalink style), so the id is not re-derived from it: the ledger, a file
of its own beside the output (``<output>/.feedwright/ids``, never the disposable cache),
remembers it, keyed by the post's source path.

The file is line-oriented text, sorted by path::

    feedwright-ids 1
    # path<TAB>content hash<TAB>entry id …
    _posts/2022-03-07-a.md<TAB>3f0c…(32 hex digits)<TAB>https://news.example/news/2022/03/07/a.html

Tabs, newlines and backslashes inside a field are written ``\\t``, ``\\n``, ``\\r``,
``\\\\``. Blank lines and lines starting with ``#`` are ignored. Anything else that is not
what feedwright writes stops the build (:class:`~feedwright.errors.LedgerError`): an id is
never reassigned silently. Deleting the file resets every id to the post's permalink.

The rules (:meth:`Ledger.assign`):
- a post with its own ``id:`` (one that is not its permalink) keeps it and has no row;
- a post whose path has a row is published with the row's id (the row's hash follows
  the post's content);
- a post at a new path whose content hash is that of a row whose path is gone was
  renamed: the row moves to the new path;
- any other post gets a new row with its permalink as id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

from .errors import LedgerError

#: The first line: the format and its version.
HEADER = "feedwright-ids 1"
_COMMENT = (
    "# path<TAB>content hash<TAB>entry id, one post a line; written by feedwright. "
    "Delete this file to reset every id to its post's permalink."
)
_HEX = re.compile(r"[0-9a-f]{32}\Z")
#: A row without escapes.
_ROW = re.compile(r"^([^\t\n\\#][^\t\n\\]*)\t([0-9a-f]{32})\t([^\s\\]+)$", re.M)
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
    """The rows of a ledger file, by path; :class:`LedgerError` (naming ``where`` and the
    line) for anything feedwright does not write. (Bytes that are not UTF-8 are kept as
    they are, as a file name may hold them.)"""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise LedgerError(where, 1, f"the file is empty; expected {HEADER!r} first")
    if lines[0] != HEADER:
        raise LedgerError(
            where, 1, f"expected {HEADER!r}: this is not an id ledger feedwright wrote"
        )
    body = "\n".join(lines[1:])
    found = _ROW.findall(body)  # what feedwright writes (no escapes), read in C
    comments = body.startswith("#") + body.count("\n#")
    if len(found) + comments == len(lines) - 1:
        rows = {path: Row(sha, entry_id) for path, sha, entry_id in found}
        if len(rows) == len(found):
            return rows
    return _parse_lines(lines, where)


def _parse_lines(lines: list[str], where: str) -> dict[str, Row]:
    """Line by line, naming the line of the first problem."""
    rows: dict[str, Row] = {}
    hexes = _HEX.match
    for number, line in enumerate(lines[1:], 2):
        fields = line.split("\t")
        if len(fields) == 3 and hexes(fields[1]) and _ID.match(fields[2]) and "\\" not in line:
            path, sha, entry_id = fields
        elif not line.strip() or line.startswith("#"):
            continue
        else:
            path, sha, entry_id = _check(fields, where, number)
        if path in rows:
            first = next(i for i, text in enumerate(lines[1:], 2) if text.split("\t")[0] == path)
            raise LedgerError(where, number, f"{path} has a row already (line {first})")
        rows[path] = Row(sha, entry_id)
    return rows


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


def format_ledger(rows: Mapping[str, Row]) -> bytes:
    """The file for ``rows`` (sorted by path: the same rows give the same bytes)."""
    out = [HEADER, _COMMENT]
    out += [f"{_escape(path)}\t{row.sha}\t{_escape(row.id)}" for path, row in sorted(rows.items())]
    return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")


def ledger_id(entry_id: str, url: str, row: Row | None) -> str:
    """The id a post is published with, given its row: its own id, else the row's."""
    if entry_id != url or row is None:
        return entry_id
    return row.id


class Ledger:
    """The rows as a build reads and changes them."""

    def __init__(
        self,
        rows: Mapping[str, Row] | None = None,
        *,
        loader: Callable[[], Mapping[str, Row]] | None = None,
    ) -> None:
        self._rows = None if loader is not None else dict(rows or {})
        self._loader = loader
        self.changed = False
        self._by_sha: dict[str, set[str]] | None = None

    @property
    def rows(self) -> dict[str, Row]:
        """Every row, by path (read through ``loader`` on first use: a build that parses
        no post never reads the file)."""
        if self._rows is None:
            assert self._loader is not None
            self._rows = dict(self._loader())
        return self._rows

    def _index(self) -> dict[str, set[str]]:
        if self._by_sha is None:
            self._by_sha = {}
            for path, row in self.rows.items():
                self._by_sha.setdefault(row.sha, set()).add(path)
        return self._by_sha

    def _put(self, path: str, row: Row) -> None:
        old = self.rows.get(path)
        if old == row:
            return
        self.rows[path] = row
        self.changed = True
        index = self._by_sha  # kept up to date once built (only renames need it)
        if index is not None:
            if old is not None:
                index[old.sha].discard(path)
            index.setdefault(row.sha, set()).add(path)

    def _pop(self, path: str) -> Row:
        row = self.rows.pop(path)
        self._index()[row.sha].discard(path)
        self.changed = True
        return row

    def renamed_from(self, path: str, sha: str, gone: Callable[[str], bool]) -> str | None:
        """The path a new post at ``path`` was renamed from: a row with its content hash
        whose post is ``gone`` (the first in path order), or ``None``."""
        for old in sorted(self._index().get(sha, ())):
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
        row = self.rows.get(path)
        if row is None:
            old = self.renamed_from(path, hexed, gone)
            row = self._pop(old) if old is not None else Row(hexed, url)
        self._put(path, Row(hexed, row.id))
        return row.id

    def moved(self, path: str, entry_id: str, url: str) -> bool:
        """Whether a post published with ``entry_id`` has a permalink that moved away from
        the id its row fixed."""
        row = self.rows.get(path)
        return row is not None and row.id == entry_id and entry_id != url
