"""The id ledger's file as a build opens, reads and adds to it (:mod:`feedwright.ledger`
decides what its lines mean and when to append or write it whole).

The cache keeps where each row's line is in the file (table ``ledger``: offset, a key of
the path, a key of the content hash) and the stamp of the file it last left (size, mtime,
a hash of its last 4 KiB) with its :class:`~feedwright.ledger.Shape`. While the file has
that stamp, a build reads only the lines of the rows it looks up (each checked against its
checksum as it is read; a line that is not there or not whole sends the build back to
reading the file whole); any other file is read whole and checked first, and empties the
cache (whose records hold the old file's ids). When the last build did not finish (the
output folder's ``clean`` marker is gone), the lines after the file's last ``end`` may be
its torn append: they are dropped with a warning, and the file is written again whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO

from ..config import Config
from ..layout import IDS
from ..ledger import (
    NO_FILE,
    VERSION,
    Dropped,
    Ledger,
    Row,
    Shape,
    format_ledger_at,
    format_lines,
    load_ledger,
    parse_line,
    path_key,
    sha_key,
)
from ..output import Output
from .cache import Cache


class StaleLedger(Exception):
    """A line is not where the cache says (the file changed without its stamp changing):
    the build starts again, reading the file whole."""


class FileRows:
    """:class:`~feedwright.ledger.Rows` read from the file at the offsets the cache keeps."""

    def __init__(self, cache: Cache, file: BinaryIO, where: str) -> None:
        self.cache = cache
        self.file = file
        self.where = where
        self._found: dict[str, tuple[int, Row] | None] = {}

    def _read(self, at: int) -> tuple[str, Row]:
        """The row whose line begins at byte ``at``."""
        if at <= 0:
            raise StaleLedger(at)
        self.file.seek(at - 1)
        parsed = parse_line(self.file.readline()) if self.file.read(1) == b"\n" else None
        if parsed is None or parsed[1] is None:
            raise StaleLedger(at)
        return parsed[0], parsed[1]

    def find(self, path: str) -> tuple[int, Row] | None:
        """Where the row of ``path`` is, and the row."""
        if path not in self._found:
            found = None
            for at in self.cache.ledger.at(path=path_key(path)):
                other, row = self._read(at)
                if other == path:
                    found = (at, row)
                    break
            self._found[path] = found
        return self._found[path]

    def ledger_row(self, path: str) -> Row | None:
        found = self.find(path)
        return None if found is None else found[1]

    def ledger_paths(self, sha: str) -> list[str]:
        paths = []
        for at in self.cache.ledger.at(sha=sha_key(sha)):
            path, row = self._read(at)
            if row.sha == sha:
                paths.append(path)
        return paths

    def ledger_rows(self) -> Iterator[tuple[str, Row]]:
        """Every row: the file read whole (and checked)."""
        self.file.seek(0)
        yield from load_ledger(self.file.read(), self.where).rows.items()


@dataclass(frozen=True, slots=True)
class Opened:
    """The id ledger as a build opened it."""

    ledger: Ledger
    #: The file's shape when opened.
    shape: Shape
    #: Its rows are read from the file where the cache says they are (:class:`FileRows`).
    cached: FileRows | None
    #: The file's bytes, if it was read whole.
    data: bytes | None = None


def open_ledger(config: Config, cache: Cache, out: Output, files: ExitStack) -> Opened:
    """The id ledger (``files`` closes what it opens). A file the cache knows is not read;
    any other is read whole now, so a broken one stops the build before it writes
    anything (:class:`~feedwright.errors.LedgerError`), and a changed one (by hand, or
    deleted on purpose to reset every id) empties the cache: every post is read again."""
    where = str(out.state / IDS)
    stamp = out.state_stamp(IDS)
    shape = _shape(cache.get_meta("ledger_shape"))
    if not cache.empty and shape is not None and cache.get_meta("ledger") == stamp:
        if shape == NO_FILE:
            return Opened(Ledger(), shape, None)
        file = out.open_state(IDS)
        if file is None:
            raise StaleLedger(where)
        files.callback(file.close)
        rows = FileRows(cache, file, where)
        return Opened(Ledger(rows), shape, rows)
    data = out.read_state(IDS)
    unfinished = not out.finished()  # a build killed while appending may have torn it
    loaded = None if data is None else load_ledger(data, where, unfinished=unfinished)
    if not cache.empty:
        cache.reset(config)
    if loaded is None:
        return Opened(Ledger(), NO_FILE, None)
    if loaded.dropped is not None:
        out.warnings.append(_dropped(where, loaded.dropped, dry_run=cache.store.dry_run))
    return Opened(Ledger(loaded.rows), loaded.shape, None, data)


def _dropped(where: str, dropped: Dropped, *, dry_run: bool) -> str:
    """The warning for the lines of a torn append (see :func:`~feedwright.ledger.load_ledger`)."""
    lines = "1 line" if dropped.total == 1 else f"{dropped.total} lines"
    done = "the next build drops them" if dry_run else "dropped (the file is written again whole)"
    return (
        f"{where}:{dropped.line}: the last build stopped while adding {lines} here, "
        f"so no feed carries their ids: {done}"
    )


def _shape(text: str | None) -> Shape | None:
    try:
        version, live, dead = map(int, (text or "").split())
    except ValueError:
        return None
    return Shape(version, live, dead)


def save_ledger(cache: Cache, out: Output, opened: Opened, dry_run: bool) -> None:
    """Record the ids the scan fixed (before any feed carries them), and remember the file
    the cache's offsets and ids come from.

    The lines that changed are appended, unless the file would then be mostly superseded
    lines (or there is none yet): then it is written whole, one line a row. A build that
    read the file whole writes it whole if that changes its bytes (a change, superseded
    lines, version 1)."""
    ledger, rows_at = opened.ledger, opened.cached
    after = ledger.shape(opened.shape)
    if rows_at is not None and ledger.changed and after.appendable:
        if not dry_run:
            _append(cache, out, ledger, rows_at)
    elif rows_at is None or ledger.changed:
        after = _write(cache, out, ledger, opened.data if rows_at is None else b"", dry_run)
    cache.set_meta("ledger", out.state_stamp(IDS))
    cache.set_meta("ledger_shape", " ".join(map(str, after)))


def _append(cache: Cache, out: Output, ledger: Ledger, rows_at: FileRows) -> None:
    """Append the lines that changed and record where the new rows are."""
    items = sorted(ledger.changes.items())
    data, offsets = format_lines(items, made=ledger.made)
    dropped = [found[0] for path, _row in items if (found := rows_at.find(path)) is not None]
    start = out.append_state(IDS, data)
    added = [
        (start + at, path_key(path), sha_key(row.sha))
        for (path, row), at in zip(items, offsets, strict=True)
        if row is not None
    ]
    cache.ledger.change(added, dropped, every=False)


def _write(cache: Cache, out: Output, ledger: Ledger, before: bytes | None, dry_run: bool) -> Shape:
    """Write the file whole (when that changes it) and record where its rows are."""
    rows = ledger.rows
    if before is None and not rows:
        return NO_FILE
    data, placed = format_ledger_at(rows, ledger.made)
    if data != before and not dry_run:
        out.write_state(IDS, data)
    cache.ledger.change(
        ((at, path_key(path), sha_key(row.sha)) for path, row, at in placed), (), every=True
    )
    return Shape(VERSION, len(rows), 0)
