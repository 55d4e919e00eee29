"""The build cache: an SQLite file beside the output (``<output>/.feedwright/cache.sqlite``).

It remembers what every post file parsed to (keyed by path, size, mtime and a content
hash), which groups each post is in, what each entry rendered to, and what each feed
was last rendered from. It is only ever an optimisation: a build with it writes the
same bytes as ``--full``; a cache from another feedwright, another schema or another
config is emptied; a corrupt one is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from ..config import Config
from ..model import Author, Post, RawPost

SCHEMA_VERSION = 3
CACHE_NAME = "cache.sqlite"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    relpath TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha TEXT NOT NULL,
    status TEXT NOT NULL,          -- post | error | skip | dup
    id TEXT,                       -- entry id (status post/dup)
    ts REAL,                       -- published instant (status post/dup)
    url TEXT,
    record TEXT,                   -- the Post as JSON, without its body
    error TEXT,
    warnings TEXT
);
CREATE INDEX files_id ON files (id);
CREATE TABLE members (
    kind TEXT NOT NULL,
    slug TEXT NOT NULL,
    first INTEGER NOT NULL,        -- the post's first spelling of this slug
    ts REAL NOT NULL,
    url TEXT NOT NULL,
    relpath TEXT NOT NULL,
    name TEXT NOT NULL,
    always INTEGER NOT NULL,       -- visible even when dated in the future
    PRIMARY KEY (kind, slug, first, ts DESC, url, relpath, name)
) WITHOUT ROWID;
CREATE INDEX members_post ON members (relpath);
CREATE INDEX files_ts ON files (ts);
CREATE INDEX files_problems ON files (relpath) WHERE status IN ('error', 'dup');
CREATE INDEX files_warnings ON files (relpath) WHERE warnings IS NOT NULL;
CREATE TABLE entries (relpath TEXT PRIMARY KEY, sha TEXT NOT NULL, html TEXT NOT NULL,
                      summary TEXT NOT NULL);
CREATE TABLE groups (kind TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
                     spellings TEXT NOT NULL, signature TEXT, PRIMARY KEY (kind, slug));
CREATE TABLE feeds (relpath TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL);
"""


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of feedwright's own source: any code change invalidates the cache."""
    h = hashlib.sha256()
    package = Path(__file__).parent.parent
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
    )
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# -- Post <-> JSON -----------------------------------------------------------------------------
_RECORD_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def post_to_record(post: Post) -> str:
    """The post as JSON, without its body and path (hand-written: ``asdict`` is slow)."""
    a = post.author
    d = {
        "title": post.title,
        "published": post.published.isoformat(),
        "updated": post.updated.isoformat(),
        "url": post.url,
        "id": post.id,
        "categories": post.categories,
        "tags": post.tags,
        "author": None if a is None else {"name": a.name, "email": a.email, "uri": a.uri},
        "excerpt": post.excerpt,
        "markup": post.markup,
        "lang": post.lang,
        "image": post.image,
        "future": post.future,
        "body_offset": post.body_offset,
    }
    return _RECORD_JSON.encode(d)


def post_from_record(relpath: str, record: str) -> Post:
    d: dict[str, Any] = json.loads(record)
    d["published"] = datetime.fromisoformat(d["published"])
    d["updated"] = datetime.fromisoformat(d["updated"])
    d["categories"] = tuple(d["categories"])
    d["tags"] = tuple(d["tags"])
    if d["author"] is not None:
        d["author"] = Author(**d["author"])
    return Post(relpath=relpath, **d)


class CacheCorrupt(Exception):
    """The cache file cannot be used; the build starts again with an empty one."""


class Cache:
    """A connection to the cache database, emptied when it belongs to another config."""

    def __init__(self, path: Path | None, config: Config) -> None:
        self.path = path
        self.warnings: list[str] = []
        self.db = self._open(config)

    def _open(self, config: Config) -> sqlite3.Connection:
        if self.path is None:
            db = sqlite3.connect(":memory:", isolation_level=None)
            self._create(db, config)
            return db
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA cache_size=-65536")
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as e:
            with suppress(NameError):
                db.close()
            if "no such table" not in str(e):
                self.warnings.append(
                    f"{self.path}: the build cache is unreadable ({e}); it is rebuilt"
                )
            self._delete()
            db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA cache_size=-65536")
            rows = {}
        if rows.get("schema") != str(SCHEMA_VERSION) or rows.get("config") != config_key(config):
            self._reset(db, config)
        return db

    def _delete(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def reset(self, config: Config) -> None:
        """Forget everything (``--full``)."""
        self._reset(self.db, config)

    def discard(self) -> None:
        """Delete the cache file (after a failure); the next open starts empty."""
        if self.path is not None:
            self._delete()

    def _reset(self, db: sqlite3.Connection, config: Config) -> None:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        db.execute("BEGIN")
        for table in tables:
            db.execute(f'DROP TABLE "{table}"')
        db.execute("COMMIT")
        self._create(db, config)

    @staticmethod
    def _create(db: sqlite3.Connection, config: Config) -> None:
        db.execute("BEGIN")
        for statement in _SCHEMA.split(";"):
            sql = "\n".join(line.split("--")[0] for line in statement.splitlines()).strip()
            if sql:
                db.execute(sql)
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema", str(SCHEMA_VERSION)), ("config", config_key(config))],
        )
        db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- files ------------------------------------------------------------------------------
    def file_stats(self) -> dict[str, tuple[int, int]]:
        """relpath → (size, mtime_ns) of every file seen last time."""
        rows = self.db.execute("SELECT relpath, size, mtime_ns FROM files").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def sha(self, relpath: str) -> str | None:
        row = self.db.execute("SELECT sha FROM files WHERE relpath=?", (relpath,)).fetchone()
        return None if row is None else str(row[0])

    def problems(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(relpath, error) of rejected posts, and every stored warning, in path order."""
        errors = self.db.execute(
            "SELECT relpath, error FROM files INDEXED BY files_problems "
            "WHERE status IN ('error', 'dup') ORDER BY relpath"
        ).fetchall()
        warnings: list[str] = []
        for (text,) in self.db.execute(
            "SELECT warnings FROM files INDEXED BY files_warnings "
            "WHERE warnings IS NOT NULL ORDER BY relpath"
        ):
            warnings.extend(json.loads(text))
        return [(r[0], r[1]) for r in errors], warnings

    def count_posts(self, now_ts: float) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM members WHERE kind='site' AND (ts <= ? OR always)", (now_ts,)
        ).fetchone()
        return int(row[0])

    def groups_of(self, relpaths: Iterable[str]) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for relpath in relpaths:
            out.update(
                self.db.execute(
                    "SELECT kind, slug FROM members WHERE relpath=?", (relpath,)
                ).fetchall()
            )
        return out

    def touch(self, relpath: str, size: int, mtime_ns: int) -> None:
        self.db.execute(
            "UPDATE files SET size=?, mtime_ns=? WHERE relpath=?", (size, mtime_ns, relpath)
        )

    def forget(self, relpath: str) -> None:
        self.db.execute("DELETE FROM files WHERE relpath=?", (relpath,))
        self.db.execute("DELETE FROM members WHERE relpath=?", (relpath,))
        self.db.execute("DELETE FROM entries WHERE relpath=?", (relpath,))

    def bulk_begin(self) -> None:
        """Before loading a whole site into an empty cache: drop the secondary indexes and
        collect memberships unindexed; :meth:`bulk_end` sorts them in (much faster)."""
        for index in ("files_id", "files_ts", "members_post"):
            self.db.execute(f"DROP INDEX IF EXISTS {index}")
        self.db.execute("CREATE TEMP TABLE members_load AS SELECT * FROM members WHERE 0")

    def bulk_end(self) -> None:
        self.db.execute(
            "INSERT INTO members SELECT * FROM members_load "
            "ORDER BY kind, slug, first, ts DESC, url, relpath, name"
        )
        self.db.execute("DROP TABLE members_load")
        self.db.execute("CREATE INDEX files_id ON files (id)")
        self.db.execute("CREATE INDEX files_ts ON files (ts)")
        self.db.execute("CREATE INDEX members_post ON members (relpath)")

    def store(self, rows: list[FileRow], *, new: bool = False) -> None:
        """Replace what is known about these files (and their group memberships).

        ``new``: none of them is in the cache yet, and :meth:`bulk_begin` was called.
        """
        db = self.db
        if not new:
            db.executemany("DELETE FROM members WHERE relpath=?", [(r.relpath,) for r in rows])
        db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [r[:11] for r in rows],
        )
        db.executemany(
            f"INSERT INTO {'members_load' if new else 'members'} VALUES (?,?,?,?,?,?,?,?)",
            [
                (k, s, int(first), r.ts, r.url, r.relpath, n, int(r.always))
                for r in rows
                if r.status == "post"
                for k, s, n, first in r.members
            ],
        )

    def _insert_members(
        self,
        relpath: str,
        ts: float | None,
        url: str | None,
        always: bool,
        members: Iterable[tuple[str, str, str, bool]],
    ) -> None:
        self.db.executemany(
            "INSERT INTO members VALUES (?,?,?,?,?,?,?,?)",
            [(k, s, int(first), ts, url, relpath, n, int(always)) for k, s, n, first in members],
        )

    # -- duplicate ids ----------------------------------------------------------------------
    def duplicate_sets(self) -> list[list[tuple[str, str, float, str, str]]]:
        """Posts sharing an entry id: [(relpath, status, ts, url, record)], best first."""
        ids = [
            r[0]
            for r in self.db.execute(
                "SELECT id FROM files WHERE status IN ('post','dup') "
                "GROUP BY id HAVING COUNT(*) > 1"
            )
        ]
        out = []
        for entry_id in ids:
            rows = self.db.execute(
                "SELECT relpath, status, ts, url, record FROM files "
                "WHERE id=? AND status IN ('post','dup') ORDER BY ts DESC, url, relpath",
                (entry_id,),
            ).fetchall()
            out.append([tuple(r) for r in rows])
        return out

    def former_duplicates(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT relpath FROM files WHERE status='dup'")]

    def set_status(self, relpath: str, status: str, error: str | None) -> None:
        self.db.execute(
            "UPDATE files SET status=?, error=? WHERE relpath=?", (status, error, relpath)
        )

    def restore_members(
        self, relpath: str, members: Iterable[tuple[str, str, str, bool]], always: bool
    ) -> None:
        row = self.db.execute("SELECT ts, url FROM files WHERE relpath=?", (relpath,)).fetchone()
        self.db.execute("DELETE FROM members WHERE relpath=?", (relpath,))
        self._insert_members(relpath, row[0], row[1], always, members)

    def drop_members(self, relpath: str) -> None:
        self.db.execute("DELETE FROM members WHERE relpath=?", (relpath,))

    def record(self, relpath: str) -> str | None:
        row = self.db.execute("SELECT record FROM files WHERE relpath=?", (relpath,)).fetchone()
        return None if row is None else row[0]

    # -- groups -----------------------------------------------------------------------------
    def groups_crossing(self, lo: float, hi: float) -> set[tuple[str, str]]:
        """Groups with a post dated in (lo, hi] that is hidden while in the future."""
        rows = self.db.execute(
            "SELECT DISTINCT m.kind, m.slug FROM files f JOIN members m USING (relpath) "
            "WHERE f.ts > ? AND f.ts <= ? AND NOT m.always",
            (lo, hi),
        )
        return {(r[0], r[1]) for r in rows}

    def top_posts(
        self, kind: str, slug: str, now_ts: float, limit: int
    ) -> list[tuple[str, str, str]]:
        """(relpath, record, sha) of the group's newest visible posts, in feed order."""
        rows = self.db.execute(
            "SELECT m.relpath, f.record, f.sha FROM members m JOIN files f USING (relpath) "
            "WHERE m.kind=? AND m.slug=? AND m.first=1 AND (m.ts <= ? OR m.always) "
            "ORDER BY m.ts DESC, m.url LIMIT ?",
            (kind, slug, now_ts, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def spellings(self, kind: str, slug: str, now_ts: float) -> list[str]:
        rows = self.db.execute(
            "SELECT DISTINCT name FROM members WHERE kind=? AND slug=? AND (ts <= ? OR always) "
            "ORDER BY name",
            (kind, slug, now_ts),
        )
        return [r[0] for r in rows]

    def group_rows(self) -> dict[tuple[str, str], tuple[str, list[str], str | None]]:
        rows = self.db.execute("SELECT kind, slug, name, spellings, signature FROM groups")
        return {(r[0], r[1]): (r[2], json.loads(r[3]), r[4]) for r in rows}

    def put_group(
        self, kind: str, slug: str, name: str, spellings: list[str], signature: str | None
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO groups VALUES (?,?,?,?,?)",
            (kind, slug, name, json.dumps(spellings, ensure_ascii=False), signature),
        )

    def unsettled_groups(self) -> set[tuple[str, str]]:
        """Groups whose feeds were kept as they were last time: look at them again."""
        rows = self.db.execute("SELECT kind, slug FROM groups WHERE signature IS NULL")
        return {(r[0], r[1]) for r in rows}

    def drop_group(self, kind: str, slug: str) -> None:
        self.db.execute("DELETE FROM groups WHERE kind=? AND slug=?", (kind, slug))

    # -- entries ----------------------------------------------------------------------------
    def entries(self, wanted: dict[str, str]) -> dict[str, tuple[str, str]]:
        """relpath → (html, summary) for the wanted {relpath: sha} whose sha still matches."""
        out = {}
        for relpath, sha in wanted.items():
            row = self.db.execute(
                "SELECT sha, html, summary FROM entries WHERE relpath=?", (relpath,)
            ).fetchone()
            if row is not None and row[0] == sha:
                out[relpath] = (row[1], row[2])
        return out

    def put_entry(self, relpath: str, sha: str, html: str, summary: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?,?,?,?)", (relpath, sha, html, summary)
        )

    # -- feeds on disk ----------------------------------------------------------------------
    def feed_stats(self) -> dict[str, tuple[int, int]]:
        return {r[0]: (r[1], r[2]) for r in self.db.execute("SELECT * FROM feeds")}

    def put_feed(self, relpath: str, size: int, mtime_ns: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO feeds VALUES (?,?,?)", (relpath, size, mtime_ns))

    def drop_feed(self, relpath: str) -> None:
        self.db.execute("DELETE FROM feeds WHERE relpath=?", (relpath,))

    # -- transactions -----------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")


class FileRow(NamedTuple):
    """What one post file parsed to, ready to store.

    A plain tuple, so that worker processes send it back cheaply; its first eleven
    fields are the ``files`` table's columns.
    """

    relpath: str
    size: int
    mtime_ns: int
    sha: str
    status: str  # post | error | skip
    id: str | None = None
    ts: float | None = None
    url: str | None = None
    record: str | None = None
    error: str | None = None
    #: The post's warnings as a JSON list, ``None`` when there are none.
    warnings: str | None = None
    members: list[tuple[str, str, str, bool]] = []
    always: bool = False

    @classmethod
    def of_post(
        cls,
        raw: RawPost,
        sha: str,
        post: Post,
        warnings: list[str],
        members: list[tuple[str, str, str, bool]],
        always: bool,
    ) -> FileRow:
        """The row of a good post."""
        return cls(
            raw.relpath,
            raw.size,
            raw.mtime_ns,
            sha,
            "post",
            post.id,
            post.published.timestamp(),
            post.url,
            post_to_record(post),
            None,
            json.dumps(warnings, ensure_ascii=False) if warnings else None,
            members,
            always,
        )
