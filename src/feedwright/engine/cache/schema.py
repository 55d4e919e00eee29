"""The cache database: its schema and version, and opening, emptying and transactions.

The cache is only an optimisation: a cache from another feedwright, another config or
another schema is emptied, a corrupt one deleted and rebuilt. SQL reads only real
columns (a post's path, bucket, status, rank, visible-from, entry-id hash, url and entry
id, its archive period); the rest of a parsed post is one JSON record that only Python
reads (:mod:`..codec`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import suppress
from functools import lru_cache
from pathlib import Path

from ... import __version__
from ...config import Config
from ...errors import NO_SPACE, OutputError

#: 8: the ledger's line offsets; 9: archive folders; 10: url and entry id as columns, the
#: memberships only in ``members``; 11: ``posts_eid`` holds ``visible`` too (the duplicate-id
#: query reads the index alone).
SCHEMA_VERSION = 11
CACHE_NAME = "cache.sqlite"

#: Free space below which an I/O error of SQLite's is taken for a full disk (see
#: :func:`disk_full_error`).
_ROOM = 1 << 20

#: ``posts.status``: a good post, a file that is not one (its error line is kept), a post
#: that says ``published: false``.
GOOD, BAD, SKIPPED = 0, 1, 2


TABLES = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    bucket INTEGER NOT NULL,       -- codec.bucket_of
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    sha BLOB NOT NULL,             -- codec.content_hash
    status INTEGER NOT NULL,       -- {GOOD} good, {BAD} bad, {SKIPPED} skipped
    rank INTEGER,                  -- group.rank (good posts, as the columns below)
    visible INTEGER,               -- group.visible_from
    eid INTEGER,                   -- codec.id_hash of the entry id
    url TEXT,                      -- the permalink
    entry_id TEXT,                 -- the entry id, when it is not the permalink
    period TEXT,                   -- group.archive_period (with archives on)
    record TEXT,                   -- codec.encode_post: the rest, read only by Python
    error TEXT,                    -- the error line (bad files)
    warnings TEXT
);
CREATE TABLE groups (
    gid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    published TEXT,                -- the name its feeds carry (NULL: it has no feeds)
    spellings TEXT,                -- every spelling, JSON, when published
    signature BLOB,                -- what its feeds were rendered from (NULL: look again)
    UNIQUE (kind, slug)
);
CREATE TABLE members (             -- the groups of each good post: stored here only
    gid INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    post INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    names TEXT NOT NULL,           -- the post's spellings of the group (codec.NAME_SEPARATOR)
    PRIMARY KEY (gid, rank, post)  -- the walk a group query makes
) WITHOUT ROWID;
CREATE TABLE archives (
    gid INTEGER NOT NULL,
    period TEXT NOT NULL,          -- an archive the last build published
    signature BLOB,                -- what it was rendered from (NULL: look again)
    PRIMARY KEY (gid, period)
) WITHOUT ROWID;
CREATE TABLE losers (post INTEGER PRIMARY KEY, path TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    folder TEXT                    -- the archive folder that holds it (NULL: not an archive)
);
CREATE INDEX files_folder ON files (folder) WHERE folder IS NOT NULL;
CREATE TABLE folders (             -- archive folders, as the last build that wrote in them
    folder TEXT PRIMARY KEY,       -- left them: their mtime (ns)
    mtime INTEGER NOT NULL
);
CREATE TABLE buckets (bucket INTEGER PRIMARY KEY, digest INTEGER NOT NULL);
CREATE TABLE ledger (              -- where each row of the id ledger file is (meta 'ledger')
    at INTEGER PRIMARY KEY,        -- the byte offset of the row's line in the file
    path INTEGER NOT NULL,         -- ledger.path_key of its path
    sha INTEGER NOT NULL           -- ledger.sha_key of its content hash
);
"""
#: The ``ledger`` table's indexes: dropped while a build writes every row (a cold build
#: writes 100,000), built once after (:meth:`~.files.LedgerLines.change`).
LEDGER_INDEXES = """
CREATE INDEX ledger_path ON ledger (path);
CREATE INDEX ledger_sha ON ledger (sha);
"""
#: Secondary indexes: dropped while a cold build loads every post, built once at the end.
INDEXES = f"""
CREATE INDEX posts_bucket ON posts (bucket);
CREATE INDEX posts_visible ON posts (visible) WHERE status = {GOOD};
CREATE INDEX posts_eid ON posts (eid, visible) WHERE status = {GOOD};
CREATE INDEX posts_errors ON posts (path) WHERE status = {BAD};
CREATE INDEX posts_warned ON posts (path) WHERE warnings IS NOT NULL;
CREATE INDEX members_post ON members (post);
"""
_INDEX_NAMES = (
    "posts_bucket",
    "posts_visible",
    "posts_eid",
    "posts_errors",
    "posts_warned",
    "members_post",
)


def visible(column: str = "visible", bound: str = "now") -> str:
    """SQL's one test of visibility in time: a post's :func:`feedwright.group.visible_from`
    (``column``) against the bound :func:`feedwright.group.visible_bound` computed for the
    build's clock (the parameter ``:now``)."""
    return f"{column} <= :{bound}"


#: SQL parameters per query (SQLite takes only so many).
PARAMETERS = 500


def marks(items: Sequence[object]) -> str:
    """``?,?,…``: one parameter for each item."""
    return ",".join("?" * len(items))


def statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        sql = "\n".join(line.split("--")[0] for line in statement.splitlines()).strip()
        if sql:
            yield sql


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of feedwright's own source (every module): a code change empties the cache."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent.parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def config_key(config: Config) -> str:
    """What in the config changes parsed posts or rendered feeds (not server settings)."""
    parts = (
        config.site,
        str(config.source),
        config.feeds_url,
        config.permalink,
        config.future,
        config.feeds,
        config.websub,
        __version__,
        code_fingerprint(),
        SCHEMA_VERSION,
        sys.version_info[:2],
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def disk_full_error(e: sqlite3.DatabaseError, path: Path) -> OutputError | None:
    """``path: no space left on device`` if ``e`` is the cache at ``path`` meeting a full
    disk, else ``None``. SQLite says ``SQLITE_FULL`` when a write finds no room, but an I/O
    error when it cannot grow its shared-memory file (``SQLITE_IOERR_SHMSIZE``, the first
    thing a build's connection writes); an I/O error on a file system with (almost) no
    room left is taken for a full disk too."""
    code = getattr(e, "sqlite_errorcode", None)
    full = code == sqlite3.SQLITE_FULL
    if not full and code is not None and code & 0xFF == sqlite3.SQLITE_IOERR:
        try:
            st = os.statvfs(path.parent)
            full = st.f_bavail * st.f_frsize < _ROOM
        except OSError:
            pass
    return OutputError(str(path), NO_SPACE) if full else None


class Store:
    """The connection to the cache database (``path``), in the build's one transaction.

    ``dry_run``: the file is used only if it exists and belongs to this config, and is
    never emptied or rebuilt (an in-memory database stands in); the build rolls back.
    """

    def __init__(self, path: Path, config: Config, *, dry_run: bool = False) -> None:
        self.path: Path | None = path
        self.warnings: list[str] = []
        #: The cache knew nothing (new, emptied or rebuilt): every post is new.
        self.empty = False
        self.dry_run = dry_run
        #: Where memberships go: a temporary table while a cold build loads them.
        self.members = "members"
        try:
            self.db = self._open_dry(config) if dry_run else self._open(config)
        except sqlite3.DatabaseError as e:
            if (full := disk_full_error(e, path)) is not None:
                raise full from e
            raise

    # -- opening ----------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-65536")
        return db

    def _open_dry(self, config: Config) -> sqlite3.Connection:
        try:
            if self.path is not None and self.path.is_file():
                db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
                row = db.execute("SELECT value FROM meta WHERE key='config'").fetchone()
                if row is not None and row[0] == config_key(config):
                    return db
                db.close()
        except sqlite3.DatabaseError:
            pass
        self.path = None
        db = sqlite3.connect(":memory:", isolation_level=None)
        self._create(db, config)
        return db

    def _open(self, config: Config) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = self._connect()
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as e:
            with suppress(NameError):
                db.close()
            if disk_full_error(e, self.path) is not None:
                raise  # not a broken cache: nothing to rebuild
            if "no such table" not in str(e):
                self.warnings.append(f"{self.path}: the build cache is unreadable ({e}); rebuilt")
            self.discard()
            db = self._connect()
            meta = {}
        if meta.get("config") != config_key(config):
            self._reset(db, config)
        return db

    def reset(self, config: Config) -> None:
        """Forget everything (``--full``, a changed id ledger); a dry run's cache is left as
        it is on disk and an empty one in memory stands in."""
        if self.dry_run and self.path is not None:
            self.db.close()
            self.path = None
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self._create(self.db, config)
        else:
            self._reset(self.db, config)

    def discard(self) -> None:
        """Delete the cache file (after a failure); the next open starts empty."""
        if self.path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with suppress(FileNotFoundError):
                    os.unlink(f"{self.path}{suffix}")

    def _reset(self, db: sqlite3.Connection, config: Config) -> None:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        db.execute("BEGIN")
        for table in tables:
            db.execute(f'DROP TABLE "{table}"')
        db.execute("COMMIT")
        db.execute("VACUUM")
        self._create(db, config)

    def _create(self, db: sqlite3.Connection, config: Config) -> None:
        db.execute("BEGIN")
        for sql in statements(TABLES + LEDGER_INDEXES + INDEXES):
            db.execute(sql)
        db.execute("INSERT INTO meta VALUES ('config', ?)", (config_key(config),))
        db.execute("COMMIT")
        self.empty = True

    def close(self) -> None:
        self.db.close()

    # -- transactions -----------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def bulk_begin(self) -> None:
        """Before an empty cache loads a whole site: no secondary indexes, and group
        memberships collected unsorted, until :meth:`bulk_end` sorts them in (much faster)."""
        for name in _INDEX_NAMES:
            self.db.execute(f"DROP INDEX IF EXISTS {name}")
        self.db.execute("CREATE TEMP TABLE members_load AS SELECT * FROM members WHERE 0")
        self.members = "members_load"

    def bulk_end(self) -> None:
        self.db.execute("INSERT INTO members SELECT * FROM members_load ORDER BY 1, 2, 3")
        self.db.execute("DROP TABLE members_load")
        self.members = "members"
        for sql in statements(INDEXES):
            self.db.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def chosen(self, ids: Sequence[int]) -> str:
        """A subquery of the post ids ``ids`` (kept in a temporary table: any number)."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM chosen")
        self.db.executemany("INSERT OR IGNORE INTO chosen VALUES (?)", ((i,) for i in ids))
        return "(SELECT id FROM chosen)"
