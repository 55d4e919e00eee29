"""Files and folders feedwright wrote in the output folder (their stat as it left them),
and where each row of the id ledger's file is."""

from __future__ import annotations

from collections.abc import Iterable

from ..chunking import batched
from .schema import LEDGER_INDEXES, PARAMETERS, Store, marks, statements


class Files:
    """The ``files`` and ``folders`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def written(self, archives: bool = False) -> dict[str, tuple[int, int]]:
        """Every file the last builds wrote, with its size and mtime (ns) then; archive
        files only with ``archives``."""
        where = "" if archives else " WHERE folder IS NULL"
        rows = self.store.db.execute(f"SELECT path, size, mtime FROM files{where}")
        return {r[0]: (r[1], r[2]) for r in rows}

    def archives(self, folders: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """The archive files in these folders (``None``: in every one), as :meth:`written`."""
        if folders is None:
            rows = self.store.db.execute(
                "SELECT path, size, mtime FROM files INDEXED BY files_folder "
                "WHERE folder IS NOT NULL"
            )
            return {r[0]: (r[1], r[2]) for r in rows}
        out: dict[str, tuple[int, int]] = {}
        for chunk in batched(sorted(set(folders)), PARAMETERS):
            rows = self.store.db.execute(
                f"SELECT path, size, mtime FROM files WHERE folder IN ({marks(chunk)})", chunk
            )
            out.update((r[0], (r[1], r[2])) for r in rows)
        return out

    def archive_count(self) -> int:
        """How many archive files there are (quicker than listing them)."""
        row = self.store.db.execute(
            "SELECT count(*) FROM files INDEXED BY files_folder WHERE folder IS NOT NULL"
        ).fetchone()
        return int(row[0])

    def put(self, path: str, stat: tuple[int, int], folder: str | None = None) -> None:
        """A file as this build left it (``folder``: the archive folder that holds it)."""
        self.store.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?)", (path, *stat, folder)
        )

    def put_archives(self, rows: Iterable[tuple[str, int, int, str]]) -> None:
        """Archive files as this build left them: ``(path, size, mtime, folder)`` rows."""
        self.store.db.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?)", rows)

    def drop(self, path: str) -> None:
        self.store.db.execute("DELETE FROM files WHERE path=?", (path,))

    def folders(self) -> dict[str, int]:
        """Every archive folder, with its mtime (ns) when the last build left it."""
        return {r[0]: r[1] for r in self.store.db.execute("SELECT folder, mtime FROM folders")}

    def put_folder(self, folder: str, mtime: int) -> None:
        self.store.db.execute("INSERT OR REPLACE INTO folders VALUES (?,?)", (folder, mtime))

    def set_folders(self, mtimes: dict[str, int | None]) -> None:
        """Archive folders with their mtime now (``None``: gone, forgotten)."""
        db = self.store.db
        db.executemany(
            "INSERT OR REPLACE INTO folders VALUES (?,?)",
            [(f, m) for f, m in mtimes.items() if m is not None],
        )
        db.executemany(
            "DELETE FROM folders WHERE folder=?", [(f,) for f, m in mtimes.items() if m is None]
        )

    def drop_folder(self, folder: str) -> None:
        self.store.db.execute("DELETE FROM folders WHERE folder=?", (folder,))


class LedgerLines:
    """The ``ledger`` table: where each row of the id ledger file is."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def at(self, *, path: int | None = None, sha: int | None = None) -> list[int]:
        """The offsets of the rows with this path key (or content hash key)."""
        column, key = ("path", path) if path is not None else ("sha", sha)
        rows = self.store.db.execute(f"SELECT at FROM ledger WHERE {column} = ?", (key,))
        return [r[0] for r in rows]

    def change(
        self, added: Iterable[tuple[int, int, int]], dropped: Iterable[int], *, every: bool
    ) -> None:
        """Forget the rows at offsets ``dropped`` (``every``: all rows), and add
        ``(offset, path key, hash key)`` rows."""
        db = self.store.db
        if every:  # (faster: the indexes built once, from the rows)
            db.execute("DELETE FROM ledger")
            for sql in statements(LEDGER_INDEXES):  # CREATE INDEX name ON …
                db.execute(f"DROP INDEX IF EXISTS {sql.split()[2]}")
        db.executemany("DELETE FROM ledger WHERE at = ?", ((at,) for at in dropped))
        db.executemany("INSERT INTO ledger VALUES (?, ?, ?)", added)
        if every:
            for sql in statements(LEDGER_INDEXES):
                db.execute(sql)
