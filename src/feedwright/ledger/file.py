"""Pure: the id ledger's file (``<output>/.feedwright/ids``): its lines, how they are
written, and how they are read and checked.

The file is line-oriented text, written sorted by path and then appended to::

    feedwright-ids 3
    # path<TAB>content hash<TAB>entry id<TAB>checksum …
    _posts/2022-03-07-a.md<TAB>3f0c…(32 hex digits)<TAB>https://news.example/2022/03/07/a.html<TAB>5d1e07a2
    _posts/2022-03-07-b.md<TAB>8c2a…<TAB>https://news.example/2022/03/07/b.html<TAB>0b93c2f4
    end
    _posts/2022-03-07-a.md<TAB>9b1e…<TAB>https://news.example/2022/03/07/a.html<TAB>77a0c1d9
    _posts/2022-03-07-b.md<TAB>-<TAB>-<TAB>e4c2a001
    end

Every line proves itself, so that no cut, torn append or edited byte can turn into an id
(issue #18): a row ends with the CRC-32 of the rest of the line (8 hex digits: a change of
up to 32 consecutive bits is always caught, any other but with odds of 2⁻³²), every line
ends with a newline, and every write (the file written whole, or one build's append) ends
with an ``end`` line, so a file cut at a line's end is caught too, unless the cut falls
right after an ``end`` (the file is then exactly what an earlier build left). A line cut
short, an edited line, or rows after the last ``end`` stop the build
(:class:`~feedwright.errors.LedgerError`: ``ids:LINE: …``), except the lines of an append
that a build killed or failed during the append left (``unfinished``): no feed carries
their ids yet (a build appends before it publishes), so they are dropped and the build says
so. Deleting lines is fine (a post without a line gets its current permalink as id);
editing one is not.

A later line for a path supersedes the earlier ones (the post's content changed, or the
row was moved to it from a renamed post); ``-`` ``-`` removes the path's row (its post was
renamed). Versions 1 (one line a path, no removals) and 2 (no checksums, no ``end``) are
still read.

Tabs, newlines, carriage returns and backslashes inside a field are written ``\\t``,
``\\n``, ``\\r``, ``\\\\``, and a ``#`` that begins a path ``\\#``. Blank lines and lines
starting with ``#`` are ignored. Anything else that is not what feedwright writes (a line
that repeats the row its path has, a removal of a row that is not there…) stops the build:
an id is never reassigned silently.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from itertools import accumulate
from typing import NamedTuple

from ..errors import LedgerError

#: The format version a build writes, and the first line of the file.
VERSION = 3
HEADER = f"feedwright-ids {VERSION}"
#: The versions read (older ones are written as version 3 by the next build that writes the
#: file whole).
_HEADERS = {"feedwright-ids 1": 1, "feedwright-ids 2": 2, HEADER: VERSION}
#: The line that ends each write: the file written whole, or one build's append.
END = "end"
_END_LINE = b"end\n"
_COMMENT = (
    "# path<TAB>content hash<TAB>entry id<TAB>CRC-32 of the line so far; a later line for a "
    "path replaces it, '-<TAB>-' removes it, 'end' ends a build's lines. Not to be edited: "
    "delete a post's lines to reset its id, or the file to reset every id."
)
#: The hash and id fields of a line that removes its path's row.
GONE = "-"
_HEX = re.compile(r"[0-9a-f]{32}\Z")
_CHECK = re.compile(r"[0-9a-f]{8}\Z")
#: An entry id: not empty, no white space.
_ID = re.compile(r"\S+\Z")
#: One line of a version-3 file as feedwright writes it, read in C (see :func:`_fast`): a
#: row or removal without escapes and with an ASCII id, ``end``, or a comment.
_LINE = re.compile(
    rb"^(?:(([^\t\n\\#][^\t\n\\]*)\t([0-9a-f]{32}|-)\t([\x21-\x5b\x5d-\x7e]+))"
    rb"\t([0-9a-f]{8})|end|#[^\n]*)\n",
    re.M,
)
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {**{v[1]: k for k, v in _ESCAPES.items()}, "#": "#"}
_ESCAPE = re.compile(r"[\\\t\n\r]")
_UNESCAPE = re.compile(r"\\(.?)")
#: What to do about a line feedwright did not write.
_FIX = (
    "restore the file from a backup, or delete the line (its post then gets its current "
    "permalink as id)"
)
#: What to do about a file cut short.
_CUT = (
    "Restore the file from a backup; or end it with a line 'end' after the last whole line "
    "you keep (posts without a line get their current permalink as id)"
)


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


class Dropped(NamedTuple):
    """Lines after the last ``end`` that an unfinished build was appending, left out."""

    #: The first one's line number.
    line: int
    #: How many.
    total: int


class Loaded(NamedTuple):
    """A ledger file as read: its rows by path, its shape, and what was left out."""

    rows: dict[str, Row]
    shape: Shape
    dropped: Dropped | None = None


def _escape(text: str) -> str:
    if "\\" not in text and "\t" not in text and "\n" not in text and "\r" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], text)


def _escape_path(path: str) -> str:
    escaped = _escape(path)
    return "\\" + escaped if escaped.startswith("#") else escaped  # not a comment


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


def load_ledger(data: bytes, where: str, *, unfinished: bool = False) -> Loaded:
    """The rows of a ledger file, by path, and its shape; :class:`LedgerError` (naming
    ``where`` and the line) for anything feedwright does not write. ``unfinished``: the
    last build that wrote the output folder did not finish, so the lines after the last
    ``end`` may be its torn append; if they are (whole lines, but the last may be cut),
    they are left out (:attr:`Loaded.dropped`). (Bytes that are not UTF-8 are kept as
    they are, as a file name may hold them.)"""
    if data.startswith(HEADER.encode() + b"\n"):
        fast = _fast(data)
        if fast is not None:
            return fast
    return _read(data, where, unfinished)


def _read(data: bytes, where: str, unfinished: bool) -> Loaded:
    """What :func:`load_ledger` reads, line by line (the fast reading, :func:`_fast`,
    answers the same or not at all)."""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    rest = lines.pop()  # what follows the last newline: nothing, unless the file was cut
    if rest:
        lines.append(rest)
    if not lines:
        raise LedgerError(where, 1, f"the file is empty; expected {HEADER!r} first")
    version = _HEADERS.get(lines[0])
    if version is None:
        raise LedgerError(
            where, 1, f"expected {HEADER!r}: this is not an id ledger feedwright wrote"
        )
    cut = len(lines) if rest else 0  # the number of the line without its newline
    if cut == 1:
        raise LedgerError(where, 1, "the line is cut short (the file was cut here)")
    if version < VERSION:
        return _parse_old(lines, version, where, cut)
    return _parse(lines, where, cut, unfinished)


def _fast(data: bytes) -> Loaded | None:
    """A version-3 file read in one pass in C, or ``None`` when it is not all plain lines
    (:data:`_LINE`) ending with ``end``, a checksum does not match, or its rows break a
    rule (then the line-by-line reading, :func:`_parse`, answers and names the line)."""
    body = data[len(HEADER) + 1 :]
    if not (body == _END_LINE or body.endswith(b"\n" + _END_LINE)):
        return None
    found = _LINE.findall(body)
    if len(found) != body.count(b"\n"):
        return None
    crc = zlib.crc32
    rows: dict[str, Row] = {}
    count = 0
    for line, raw_path, sha, entry_id, check in found:
        if not line:
            continue  # end, or a comment
        if crc(line) != int(check, 16):
            return None
        path = raw_path.decode("utf-8", "surrogateescape")
        if sha == b"-":
            if entry_id != b"-" or rows.pop(path, None) is None:
                return None
        else:
            row = Row(sha.decode(), entry_id.decode())
            if rows.get(path) == row:
                return None
            rows[path] = row
        count += 1
    return Loaded(rows, Shape(VERSION, len(rows), count - len(rows)))


def _parse(lines: list[str], where: str, cut: int, unfinished: bool) -> Loaded:
    """A version-3 file line by line, naming the line of the first problem; ``cut`` is
    the number of a last line without its newline (0: none)."""
    ends = [i for i, line in enumerate(lines) if i and line == END and i + 1 != cut]
    last_end = ends[-1] if ends else 0  # (0: the header)
    tail = range(last_end + 1, len(lines))
    open_tail = [i for i in tail if i + 1 == cut or _meaningful(lines[i])]
    dropped = None
    if open_tail and unfinished and ends and _torn_append(lines, tail, cut):
        dropped = Dropped(last_end + 2, len(lines) - last_end - 1)
        lines, cut, open_tail = lines[: last_end + 1], 0, []
    rows: dict[str, Row] = {}
    seen: dict[str, int] = {}  # the line of each path's row
    count = 0
    for number, line in enumerate(lines[1:], 2):
        if number == cut:
            raise LedgerError(where, number, f"the line is cut short (the file was cut). {_CUT}")
        if line == END or not _meaningful(line):
            continue
        path, row = _row(line, where, number)
        count += 1
        if row is None:
            if path not in rows:
                raise LedgerError(where, number, f"{path} has no row to remove")
            del rows[path]
        elif rows.get(path) == row:
            raise LedgerError(where, number, f"{path} has this row already (line {seen[path]})")
        else:
            rows[path] = row
            seen[path] = number
    if open_tail or not ends:
        last = open_tail[-1] + 1 if open_tail else len(lines)
        message = "the file ends here, without an 'end' line (it was cut)"
        raise LedgerError(where, last, f"{message}. {_CUT}")
    return Loaded(rows, Shape(VERSION, len(rows), count - len(rows)), dropped)


def _meaningful(line: str) -> bool:
    return bool(line.strip()) and not line.startswith("#")


def _torn_append(lines: list[str], tail: range, cut: int) -> bool:
    """Whether the lines of ``tail`` are a prefix of what a build appends: whole lines
    as feedwright writes them, the last one possibly cut short."""
    for i in tail:
        if i + 1 == cut:
            continue
        try:
            _row(lines[i], "", 0)
        except LedgerError:
            return False
    return True


def _row(line: str, where: str, number: int) -> tuple[str, Row | None]:
    """A version-3 line's path and row (``None``: a removal)."""
    body, tab, check = line.rpartition("\t")
    if not tab or not _CHECK.match(check):
        raise LedgerError(
            where,
            number,
            "expected a path, a content hash, an entry id and a checksum between tabs; " + _FIX,
        )
    if zlib.crc32(body.encode("utf-8", "surrogateescape")) != int(check, 16):
        raise LedgerError(
            where, number, f"the line is not as feedwright wrote it (wrong checksum); {_FIX}"
        )
    fields = body.split("\t")
    if len(fields) == 3 and fields[1] == fields[2] == GONE:
        return _unescape(fields[0], where, number), None
    path, sha, entry_id = _check(fields, where, number)
    return path, Row(sha, entry_id)


def _parse_old(lines: list[str], version: int, where: str, cut: int) -> Loaded:
    """A version-1 or -2 file, line by line, naming the line of the first problem."""
    rows: dict[str, Row] = {}
    seen: dict[str, int] = {}  # the line of each path's row
    count = 0
    for number, line in enumerate(lines[1:], 2):
        fields = line.split("\t")
        if number == cut:
            raise LedgerError(where, number, f"the line is cut short (the file was cut); {_FIX}")
        if not _meaningful(line) and not (len(fields) == 3 and _HEX.match(fields[1])):
            continue
        if version > 1 and len(fields) == 3 and fields[1] == fields[2] == GONE:
            path = _unescape(fields[0], where, number)
            if path not in rows:
                raise LedgerError(where, number, f"{path} has no row to remove")
            del rows[path]
            count += 1
            continue
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
    """A row's fields, unescaped and checked (:class:`LedgerError`)."""
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


def format_line(path: str, row: Row | None) -> bytes:
    """The line of ``path``'s row (``None``: a removal), newline included: made ahead of
    time (in a worker process) it is what :func:`format_lines` would write."""
    sha, entry_id = (GONE, GONE) if row is None else (row.sha, _escape(row.id))
    body = f"{_escape_path(path)}\t{sha}\t{entry_id}".encode("utf-8", "surrogateescape")
    return b"%s\t%08x\n" % (body, zlib.crc32(body))


def format_lines(
    items: Iterable[tuple[str, Row | None]],
    start: int = 0,
    made: Mapping[str, bytes] | None = None,
) -> tuple[bytes, list[int]]:
    """One write: the lines of ``items`` (a row, or ``None``: removed), in that order,
    then ``end``; and where each of the first begins in a file in which they begin at
    byte ``start``. ``made``: lines already formatted (:func:`format_line`) of some of
    these rows, by path."""
    if made:
        lines = [made.get(path) or format_line(path, row) for path, row in items]
    else:
        lines = [format_line(path, row) for path, row in items]
    offsets = list(accumulate(map(len, lines), initial=start))
    offsets.pop()  # (where the end line begins)
    lines.append(_END_LINE)
    return b"".join(lines), offsets


def _head() -> bytes:
    return f"{HEADER}\n{_COMMENT}\n".encode()


def format_ledger_at(
    rows: Mapping[str, Row], made: Mapping[str, bytes] | None = None
) -> tuple[bytes, list[tuple[str, Row, int]]]:
    """The file for ``rows`` (sorted by path: the same rows give the same bytes), and
    each row with where its line begins (``made``: as :func:`format_lines`)."""
    paths = sorted(rows)  # (each path once: no row is compared)
    found = list(map(rows.__getitem__, paths))
    head = _head()
    body, offsets = format_lines(zip(paths, found, strict=True), len(head), made)
    return head + body, list(zip(paths, found, offsets, strict=True))


def format_ledger(rows: Mapping[str, Row]) -> bytes:
    """The file for ``rows`` (sorted by path: the same rows give the same bytes)."""
    head = _head()
    return head + format_lines(sorted(rows.items()), len(head))[0]


def format_changes(changes: Mapping[str, Row | None]) -> bytes:
    """What a build appends for ``changes`` (a row, or ``None``: removed), by path."""
    return format_lines(sorted(changes.items()))[0]


def parse_line(raw: bytes) -> tuple[str, Row | None] | None:
    """One line as feedwright writes it (newline included): its path and row (``None``:
    a removal), or ``None`` if it is not such a line."""
    if not raw.endswith(b"\n"):
        return None
    try:
        return _row(raw[:-1].decode("utf-8", "surrogateescape"), "", 0)
    except LedgerError:
        return None
