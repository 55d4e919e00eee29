"""The build cache: an SQLite file beside the output (``<output>/.feedwright/cache.sqlite``).

It remembers what every post file parsed to (keyed by path, size, mtime and a content
hash), which groups each post is in, what each group's feeds were last rendered from,
and the files it wrote. It only stores and looks up: every rule (order, visibility,
duplicates, names) is computed in Python (:mod:`feedwright.group`) and kept here as
plain numbers. It is only an optimisation: a build with it writes the same bytes as
``--full``; a cache from another feedwright or another config is emptied; a corrupt one
is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from .. import __version__
from ..config import Config
from .codec import NAME_SEPARATOR
from .rows import ERROR, Candidate, GroupRow, KnownFile, Loser, ParsedFile

SCHEMA_VERSION = 9  # 8: the ledger's line offsets; 9: archive folders
_T = TypeVar("_T")
CACHE_NAME = "cache.sqlite"

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    bucket INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    sha BLOB NOT NULL,
    status INTEGER NOT NULL,       -- rows.POST | rows.ERROR | rows.SKIP
    rank INTEGER,                  -- group.rank (POST)
    visible INTEGER,               -- group.visible_from (POST)
    eid INTEGER,                   -- codec.id_hash of the entry id (POST)
    record TEXT,                   -- codec.encode_post (POST): the post and its groups
    error TEXT,                    -- the error line (ERROR)
    warnings TEXT,
    period TEXT                    -- group.archive_period (POST, when archives are on)
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
CREATE TABLE members (
    gid INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    post INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    names TEXT NOT NULL,           -- the post's spellings of the group (codec.NAME_SEPARATOR)
    PRIMARY KEY (gid, rank, post)
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
CREATE INDEX ledger_path ON ledger (path);
CREATE INDEX ledger_sha ON ledger (sha);
"""
# Secondary indexes: dropped while a cold build loads every post, built once at the end.
_INDEXES = """
CREATE INDEX posts_bucket ON posts (bucket);
CREATE INDEX posts_visible ON posts (visible) WHERE status = 0;
CREATE INDEX posts_eid ON posts (eid) WHERE status = 0;
CREATE INDEX posts_errors ON posts (path) WHERE status = 1;
CREATE INDEX posts_warned ON posts (path) WHERE warnings IS NOT NULL;
"""
_INDEX_NAMES = ("posts_bucket", "posts_visible", "posts_eid", "posts_errors", "posts_warned")


def _statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        sql = "\n".join(line.split("--")[0] for line in statement.splitlines()).strip()
        if sql:
            yield sql


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of feedwright's own source (every module): a code change empties the cache."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
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


# The groups of posts: their ``members`` JSON joined to the groups table.
_MEMBERSHIPS = (
    "SELECT {select} FROM posts p, json_each(p.record, '$[14]') j "
    "JOIN groups g ON g.kind = j.value ->> 0 AND g.slug = j.value ->> 1 {where}"
)


def _chunks(items: list[_T], size: int = 500) -> Iterator[list[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class Cache:
    """A connection to the cache database.

    ``dry_run``: the file is used only if it exists and belongs to this config, and is
    never emptied or rebuilt (an in-memory cache stands in); the build rolls back.
    """

    def __init__(self, path: Path, config: Config, *, dry_run: bool = False) -> None:
        self.path: Path | None = path
        self.warnings: list[str] = []
        #: The cache knew nothing (new, emptied or rebuilt): every post is new.
        self.empty = False
        self.dry_run = dry_run
        self.db = self._open_dry(config) if dry_run else self._open(config)
        self._gids = self._load_gids()
        self._members = "members"

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
        self._gids = {}

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
        for sql in _statements(_TABLES + _INDEXES):
            db.execute(sql)
        db.execute("INSERT INTO meta VALUES ('config', ?)", (config_key(config),))
        db.execute("COMMIT")
        self.empty = True

    def _load_gids(self) -> dict[tuple[str, str], int]:
        rows = self.db.execute("SELECT gid, kind, slug FROM groups")
        return {(kind, slug): gid for gid, kind, slug in rows}

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
        self._members = "members_load"

    def bulk_end(self) -> None:
        self.db.execute("INSERT INTO members SELECT * FROM members_load ORDER BY 1, 2, 3")
        self.db.execute("DROP TABLE members_load")
        self._members = "members"
        for sql in _statements(_INDEXES):
            self.db.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files seen -------------------------------------------------------------------------
    def digests(self) -> dict[int, int]:
        """Each bucket's stat digest at the last build."""
        return dict(self.db.execute("SELECT bucket, digest FROM buckets").fetchall())

    def set_digests(self, digests: dict[int, int]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO buckets VALUES (?, ?)", digests.items())

    def known(self, buckets: Iterable[int] | None) -> dict[str, KnownFile]:
        """The files of these buckets (``None``: all) as the cache knows them, by path."""
        sql = "SELECT id, path, size, mtime, sha, status FROM posts"
        if buckets is None:
            rows = self.db.execute(sql).fetchall()
        else:
            rows = []
            for chunk in _chunks(sorted(buckets)):
                marks = ",".join("?" * len(chunk))
                rows += self.db.execute(f"{sql} WHERE bucket IN ({marks})", chunk).fetchall()
        return {r[1]: KnownFile(*r) for r in rows}

    def next_id(self) -> int:
        row = self.db.execute("SELECT MAX(id) FROM posts").fetchone()
        return (row[0] or 0) + 1

    def touch(self, post_id: int, size: int, mtime: int) -> None:
        self.db.execute("UPDATE posts SET size=?, mtime=? WHERE id=?", (size, mtime, post_id))

    def _select(self, ids: Iterable[int] | None) -> str:
        """``WHERE`` clause for the posts ``ids`` (``None``: all), kept in a temporary table."""
        if ids is None:
            return ""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM chosen")
        self.db.executemany("INSERT OR IGNORE INTO chosen VALUES (?)", ((i,) for i in ids))
        return "WHERE p.id IN (SELECT id FROM chosen)"

    def groups_of(self, post_ids: Iterable[int]) -> set[int]:
        """The groups these posts are in."""
        rows = self.db.execute(
            _MEMBERSHIPS.format(select="DISTINCT g.gid", where=self._select(post_ids))
        )
        return {r[0] for r in rows}

    def _unlink(self, post_ids: Iterable[int]) -> None:
        """Take these posts out of their groups."""
        where = self._select(post_ids)
        self.db.execute(
            "DELETE FROM members WHERE (gid, rank, post) IN ("
            + _MEMBERSHIPS.format(select="g.gid, p.rank, p.id", where=where)
            + ")"
        )

    def forget(self, post_ids: Iterable[int]) -> None:
        ids = list(post_ids)
        self._unlink(ids)
        self.db.executemany("DELETE FROM posts WHERE id=?", [(i,) for i in ids])

    def store(self, rows: list[tuple[int, ParsedFile]], *, new: bool) -> set[int]:
        """Replace what is known of these files (``(id, parsed)`` each); returns the groups
        the good ones are in. ``new``: a bulk load (:meth:`bulk_begin`) is going on."""
        ids = [i for i, _r in rows]
        if not new:
            self._unlink(ids)
        self.db.executemany(
            "INSERT OR REPLACE INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (i, r.path, r.bucket, r.size, r.mtime, r.sha, r.status, r.rank, r.visible)
                + (r.eid, r.record, r.error, r.warnings, r.period)
                for i, r in rows
            ],
        )
        gids = self._gids
        members = [
            (gids.get((kind, slug)) or self.gid(kind, slug), r.rank, i, r.visible, names)
            for i, r in rows
            for kind, slug, names in r.members
        ]
        self.db.executemany(f"INSERT INTO {self._members} VALUES (?,?,?,?,?)", members)
        return {m[0] for m in members}

    def gid(self, kind: str, slug: str) -> int:
        """The id of a group, created on first sight."""
        gid = self._gids.get((kind, slug))
        if gid is None:
            cur = self.db.execute(
                "INSERT INTO groups (kind, slug) VALUES (?, ?) RETURNING gid", (kind, slug)
            )
            gid = int(cur.fetchone()[0])
            self._gids[(kind, slug)] = gid
        return gid

    # -- time and duplicates ----------------------------------------------------------------
    def crossing(self, lo: int, hi: int) -> set[int]:
        """Groups with a post that becomes visible (or hidden) between ``lo`` and ``hi``."""
        rows = self.db.execute(
            "SELECT id FROM posts INDEXED BY posts_visible "
            "WHERE status = 0 AND visible > ? AND visible <= ?",
            (lo, hi),
        )
        ids = [r[0] for r in rows]
        return self.groups_of(ids) if ids else set()

    def shared_ids(self, now: int) -> list[Candidate]:
        """Visible posts whose entry id hash another visible post has too."""
        rows = self.db.execute(
            "SELECT id, path, sha, record FROM posts WHERE status = 0 AND visible <= ? "
            "AND eid IN (SELECT eid FROM posts INDEXED BY posts_eid WHERE status = 0 "
            "AND visible <= ? GROUP BY eid HAVING COUNT(*) > 1)",
            (now, now),
        )
        return [Candidate(*r) for r in rows]

    def other_ids(self) -> list[tuple[str, str, str]]:
        """``(path, permalink, entry id)`` of each good post whose id is not its permalink."""
        rows = self.db.execute(
            "SELECT path, record ->> '$[3]', record ->> '$[4]' FROM posts "
            "WHERE status = 0 AND record ->> '$[4]' IS NOT NULL ORDER BY path"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def losers(self) -> dict[int, Loser]:
        return {r[0]: Loser(*r) for r in self.db.execute("SELECT post, path, message FROM losers")}

    def set_losers(self, losers: Iterable[Loser]) -> None:
        self.db.execute("DELETE FROM losers")
        self.db.executemany("INSERT INTO losers VALUES (?,?,?)", losers)

    # -- groups -----------------------------------------------------------------------------
    def groups(self) -> dict[int, GroupRow]:
        rows = self.db.execute(
            "SELECT gid, kind, slug, published, spellings, signature FROM groups"
        )
        return {
            r[0]: GroupRow(r[0], r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")), r[5])
            for r in rows
        }

    def all_gids(self) -> set[int]:
        return set(self._gids.values())

    def candidates(self, gid: int, now: int, limit: int, exclude: set[int]) -> list[Candidate]:
        """The group's first ``limit`` visible posts by rank (and every post that ties with
        the last), skipping ``exclude``; :func:`feedwright.group.newest` orders them."""
        chosen: list[int] = []
        last = None
        # Walks the primary key (gid, rank, post): SQL only reads ranks Python computed.
        rows = self.db.execute(
            "SELECT rank, post FROM members WHERE gid = ? AND visible <= ? ORDER BY rank",
            (gid, now),
        )
        for rank, post in rows:
            if post in exclude:
                continue
            if len(chosen) >= limit and rank != last:
                break
            chosen.append(post)
            last = rank
        return self.posts_by_id(chosen)

    def posts_by_id(self, ids: list[int]) -> list[Candidate]:
        out: list[Candidate] = []
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT id, path, sha, record FROM posts WHERE id IN ({marks})", chunk
            )
            out += [Candidate(*r) for r in rows]
        return out

    def spellings(self, gid: int, now: int, exclude: set[int]) -> set[str]:
        """Every spelling visible posts (but ``exclude``) give the group."""
        if not exclude:
            rows = self.db.execute(
                "SELECT DISTINCT names FROM members WHERE gid = ? AND visible <= ?", (gid, now)
            ).fetchall()
        else:
            found = self.db.execute(
                "SELECT names, post FROM members WHERE gid = ? AND visible <= ?", (gid, now)
            )
            rows = [r for r in found if r[1] not in exclude]
        return {name for r in rows if r[0] for name in r[0].split(NAME_SEPARATOR)}

    def counts(self, gids: set[int], now: int) -> dict[int, int]:
        """How many visible posts each group holds, duplicate-id losers left out."""
        if not gids:
            return {}
        if len(gids) > 50:  # one pass over every membership (a cold build)
            where, args = "visible <= ?", [now]
        else:
            marks = ",".join("?" * len(gids))
            where, args = f"gid IN ({marks}) AND visible <= ?", [*sorted(gids), now]
        found: dict[int, int] = dict.fromkeys(gids, 0)
        rows = self.db.execute(
            f"SELECT gid, COUNT(*) FROM members WHERE {where} GROUP BY gid", args
        )
        for gid, n in rows:
            if gid in found:
                found[gid] = n
        if self.db.execute("SELECT 1 FROM losers LIMIT 1").fetchone() is None:
            return found
        lost = self.db.execute(
            f"SELECT gid, COUNT(*) FROM members WHERE {where} "
            "AND post IN (SELECT post FROM losers) GROUP BY gid",
            args,
        )
        for gid, n in lost:
            if gid in found:
                found[gid] -= n
        return found

    def set_group(
        self, gid: int, published: str | None, spellings: Iterable[str], signature: bytes | None
    ) -> None:
        self.db.execute(
            "UPDATE groups SET published=?, spellings=?, signature=? WHERE gid=?",
            (published, json.dumps(list(spellings), ensure_ascii=False), signature, gid),
        )

    # -- archives ---------------------------------------------------------------------------
    def archive_members(
        self, gid: int, now: int, exclude: set[int]
    ) -> list[tuple[str, str, bytes]]:
        """``(period, path, sha)`` of every visible post of the group (but ``exclude``)."""
        rows = self.db.execute(
            "SELECT p.period, p.path, p.sha, m.post FROM members m JOIN posts p ON p.id = m.post "
            "WHERE m.gid = ? AND m.visible <= ?",
            (gid, now),
        )
        return [(r[0], r[1], r[2]) for r in rows if r[3] not in exclude]

    def archives(self, gids: Iterable[int]) -> dict[int, dict[str, bytes | None]]:
        """The archives the last build published for these groups: each period's signature."""
        out: dict[int, dict[str, bytes | None]] = {}
        for chunk in _chunks(sorted(set(gids))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT gid, period, signature FROM archives WHERE gid IN ({marks})", chunk
            )
            for gid, period, sig in rows:
                out.setdefault(gid, {})[period] = sig
        return out

    def unsettled_archives(self) -> set[int]:
        """Groups with an archive to look at again (kept as it was, or not rendered)."""
        rows = self.db.execute("SELECT DISTINCT gid FROM archives WHERE signature IS NULL")
        return {r[0] for r in rows}

    def set_archive(self, gid: int, period: str, signature: bytes | None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO archives VALUES (?, ?, ?)", (gid, period, signature)
        )

    def drop_archive(self, gid: int, period: str) -> None:
        self.db.execute("DELETE FROM archives WHERE gid = ? AND period = ?", (gid, period))

    def posts_by_path(self, paths: list[str]) -> list[Candidate]:
        out: list[Candidate] = []
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT id, path, sha, record FROM posts WHERE path IN ({marks})", chunk
            )
            out += [Candidate(*r) for r in rows]
        return out

    # -- what the report says ---------------------------------------------------------------
    def count_posts(self, now: int) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM posts INDEXED BY posts_visible WHERE status = 0 AND visible <= ?",
            (now,),
        ).fetchone()
        return int(row[0])

    def errors(self) -> list[tuple[str, str]]:
        """``(path, line)`` of every file that is not a good post, in path order."""
        rows = self.db.execute(
            f"SELECT path, error FROM posts INDEXED BY posts_errors WHERE status = {ERROR} "
            "ORDER BY path"
        )
        return [(r[0], r[1]) for r in rows]

    def post_warnings(self) -> list[str]:
        rows = self.db.execute(
            "SELECT warnings FROM posts INDEXED BY posts_warned WHERE warnings IS NOT NULL "
            "ORDER BY path"
        )
        return [line for (text,) in rows for line in text.split("\n")]

    # -- files written ----------------------------------------------------------------------
    def files(self, archives: bool = False) -> dict[str, tuple[int, int]]:
        """Every file the last builds wrote, with its size and mtime (ns) then; archive
        files only with ``archives``."""
        where = "" if archives else " WHERE folder IS NULL"
        rows = self.db.execute(f"SELECT path, size, mtime FROM files{where}")
        return {r[0]: (r[1], r[2]) for r in rows}

    def archive_files(self, folders: Iterable[str] | None = None) -> dict[str, tuple[int, int]]:
        """The archive files in these folders (``None``: in every one), as :meth:`files`."""
        if folders is None:
            rows = self.db.execute(
                "SELECT path, size, mtime FROM files INDEXED BY files_folder "
                "WHERE folder IS NOT NULL"
            )
            return {r[0]: (r[1], r[2]) for r in rows}
        out: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(sorted(set(folders))):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT path, size, mtime FROM files WHERE folder IN ({marks})", chunk
            )
            out.update((r[0], (r[1], r[2])) for r in rows)
        return out

    def archive_paths(self) -> list[str]:
        """The paths of every archive file (quicker than :meth:`archive_files`)."""
        rows = self.db.execute(
            "SELECT path FROM files INDEXED BY files_folder WHERE folder IS NOT NULL"
        )
        return [r[0] for r in rows]

    def put_file(self, path: str, size: int, mtime: int, folder: str | None = None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?)", (path, size, mtime, folder)
        )

    def drop_file(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path=?", (path,))

    def folders(self) -> dict[str, int]:
        """Every archive folder, with its mtime (ns) when the last build left it."""
        return {r[0]: r[1] for r in self.db.execute("SELECT folder, mtime FROM folders")}

    def put_folder(self, folder: str, mtime: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO folders VALUES (?,?)", (folder, mtime))

    def drop_folder(self, folder: str) -> None:
        self.db.execute("DELETE FROM folders WHERE folder=?", (folder,))

    # -- where the id ledger's rows are in its file ------------------------------------------
    def ledger_lines(self, *, path: int | None = None, sha: int | None = None) -> list[int]:
        """The offsets of the rows with this path key (or content hash key)."""
        column, key = ("path", path) if path is not None else ("sha", sha)
        rows = self.db.execute(f"SELECT at FROM ledger WHERE {column} = ?", (key,))
        return [r[0] for r in rows]

    def set_ledger_lines(
        self, added: Iterable[tuple[int, int, int]], dropped: Iterable[int], *, every: bool
    ) -> None:
        """Forget the rows at offsets ``dropped`` (``every``: all rows), and add
        ``(offset, path key, hash key)`` rows."""
        if every:
            self.db.execute("DELETE FROM ledger")
        self.db.executemany("DELETE FROM ledger WHERE at = ?", ((at,) for at in dropped))
        self.db.executemany("INSERT INTO ledger VALUES (?, ?, ?)", added)


__all__ = ["CACHE_NAME", "Cache", "config_key"]
