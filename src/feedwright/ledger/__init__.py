"""Pure: the id ledger, which fixes each post's entry id the first time a build sees it.

Readers treat an entry whose id changed as a new post. A permalink moves for many reasons
(a new title in the file name, a category in a ``:categories`` permalink, ``http`` →
``https``, a new permalink style), so the id is not re-derived from it: the ledger, a file
of its own beside the output (``<output>/.feedwright/ids``, never the disposable cache),
remembers it, keyed by the post's source path. Its format, and how every line of it proves
itself, is :mod:`.file`.

A build appends only the lines that changed; when superseded lines outnumber the rows, or
a build reads the whole file anyway (a cold build, ``--full``) and that changes its bytes,
the file is written again with one line a row (an older version, too). Deleting the file
resets every id to the post's permalink.

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
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .file import (
    END,
    GONE,
    HEADER,
    NO_FILE,
    VERSION,
    Dropped,
    Loaded,
    Row,
    Shape,
    format_changes,
    format_ledger,
    format_ledger_at,
    format_line,
    format_lines,
    load_ledger,
    parse_ledger,
    parse_line,
)


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


def new_row(sha: bytes, entry_id: str, url: str) -> Row | None:
    """The row a post at a path without one gets, unless it was renamed (content hash
    ``sha``, parsed with ``entry_id`` and permalink ``url``): ``None`` when it has its own
    id. (A worker process formats its line ahead with it: see :meth:`Ledger.assign`.)"""
    return Row(sha.hex(), url) if entry_id == url else None


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
        #: It started without rows (no file): a path without a row is new, and only a row
        #: this build added can be the one a post was renamed from.
        self._none = rows is None or (isinstance(rows, Mapping) and not rows)
        if rows is None or isinstance(rows, Mapping):
            rows = MappingRows(rows or {})
        self._base: Rows = rows
        #: What the build changed: each path's new row, or ``None`` (removed).
        self.changes: dict[str, Row | None] = {}
        self._changed_by_sha: dict[str, set[str]] = {}  # the paths of changed rows, by hash
        self._added: dict[str, str] = {}  # (but those of the quick path's rows: one a hash)
        #: The lines of rows in :attr:`changes` formatted ahead, by path (each the line
        #: of the path's row there: :func:`.file.format_lines` takes them as they are).
        self.made: dict[str, bytes] = {}

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
        if self._none:  # (no row before: none to supersede)
            added = sum(row is not None for row in self.changes.values())
            return Shape(before.version, live + added, dead + len(self.changes) - added)
        for path, row in self.changes.items():
            had = self._base.ledger_row(path) is not None
            live += (row is not None) - had
            dead += had + (row is None)
        return Shape(before.version, live, dead)

    def _set(self, path: str, row: Row | None) -> None:
        self.made.pop(path, None)
        was = self.changes.pop(path, None)
        if was is not None:
            if self._added.get(was.sha) == path:
                del self._added[was.sha]
            else:
                self._changed_by_sha[was.sha].discard(path)
        if row != self._base.ledger_row(path):  # (else back to what the file says)
            self.changes[path] = row
            if row is not None:
                self._changed_by_sha.setdefault(row.sha, set()).add(path)

    def renamed_from(self, path: str, sha: str, gone: Callable[[str], bool]) -> str | None:
        """The path a new post at ``path`` was renamed from: a row with its content hash
        whose post is ``gone`` (the first in path order), or ``None``."""
        base = self._base.ledger_paths(sha)
        changed = self._changed_by_sha.get(sha)
        added = self._added.get(sha)
        if not base and not changed and added is None:  # (no row has its content)
            return None
        paths = {p for p in base if p not in self.changes}
        paths |= changed or set()
        if added is not None:
            paths.add(added)
        for old in sorted(paths):
            if old != path and gone(old):
                return old
        return None

    def assign(
        self,
        path: str,
        sha: bytes,
        entry_id: str,
        url: str,
        gone: Callable[[str], bool],
        line: bytes | None = None,
    ) -> str:
        """The entry id of the post at ``path`` (content hash ``sha``, parsed with
        ``entry_id`` and permalink ``url``), recording what it fixes (module rules).
        ``line``: the line of a new row for it, ``Row(sha.hex(), url)``, formatted ahead
        (:func:`.file.format_line`, in a worker process): the file is written with it
        when that is the row fixed (:attr:`made`)."""
        new = new_row(sha, entry_id, url)
        if new is None:
            return entry_id
        hexed = new.sha
        if (
            self._none
            and path not in self.changes
            and hexed not in self._added
            and hexed not in self._changed_by_sha
        ):
            # (what the rules below come to when no row has this path or this content:
            # a cold build's every post, so taken in as few steps as can be)
            self.changes[path] = new
            self._added[hexed] = path
            if line is not None:
                self.made[path] = line
            return url
        row = self.row(path)
        if row is None:
            old = self.renamed_from(path, hexed, gone)
            if old is not None:
                row = self.row(old)
                assert row is not None
                self._set(old, None)
            else:
                row = new
        self._set(path, Row(hexed, row.id))
        if line is not None and row.id == url and path in self.changes:
            self.made[path] = line
        return row.id

    def moved(self, path: str, entry_id: str, url: str) -> bool:
        """Whether a post published with ``entry_id`` has a permalink that moved away from
        the id its row fixed."""
        row = self.row(path)
        return row is not None and row.id == entry_id and entry_id != url


__all__ = [
    "END",
    "GONE",
    "HEADER",
    "NO_FILE",
    "VERSION",
    "Dropped",
    "Ledger",
    "Loaded",
    "MappingRows",
    "Row",
    "Rows",
    "Shape",
    "format_changes",
    "format_ledger",
    "format_ledger_at",
    "format_line",
    "format_lines",
    "ledger_id",
    "new_row",
    "load_ledger",
    "parse_ledger",
    "parse_line",
    "path_key",
    "sha_key",
]
