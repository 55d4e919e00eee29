"""Post files: what each parsed to (keyed by path, size, mtime and a content hash), the
stat digest of each bucket of files, and the losers of duplicate entry ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..chunking import batched
from ..rows import Bad, Candidate, Good, KnownFile, Loser, ParsedFile, Skipped
from .groups import Groups
from .schema import BAD, GOOD, PARAMETERS, SKIPPED, Store, marks, visible

#: What a group query reads of a post (:class:`~..rows.Candidate`).
_CANDIDATE = "id, path, sha, url, entry_id, record"
#: The columns only a good post has (rank … record), for one that is not.
_NOT_GOOD = (None,) * 7


class Posts:
    """The ``posts``, ``buckets`` and ``losers`` tables."""

    def __init__(self, store: Store, groups: Groups) -> None:
        self.store = store
        self.groups = groups

    # -- files seen -------------------------------------------------------------------------
    def digests(self) -> dict[int, int]:
        """Each bucket's stat digest at the last build."""
        return dict(self.store.db.execute("SELECT bucket, digest FROM buckets").fetchall())

    def set_digests(self, digests: dict[int, int]) -> None:
        self.store.db.executemany("INSERT OR REPLACE INTO buckets VALUES (?, ?)", digests.items())

    def known(self, buckets: Iterable[int] | None) -> dict[str, KnownFile]:
        """The files of these buckets (``None``: all) as the cache knows them, by path."""
        sql = "SELECT id, path, size, mtime, sha, status FROM posts"
        if buckets is None:
            rows = self.store.db.execute(sql).fetchall()
        else:
            rows = []
            for chunk in batched(sorted(buckets), PARAMETERS):
                rows += self.store.db.execute(
                    f"{sql} WHERE bucket IN ({marks(chunk)})", chunk
                ).fetchall()
        return {r[1]: KnownFile(*r) for r in rows}

    def next_id(self) -> int:
        row = self.store.db.execute("SELECT MAX(id) FROM posts").fetchone()
        return (row[0] or 0) + 1

    def touch(self, post_id: int, size: int, mtime: int) -> None:
        self.store.db.execute("UPDATE posts SET size=?, mtime=? WHERE id=?", (size, mtime, post_id))

    def store_parsed(self, rows: list[tuple[int, ParsedFile]], *, new: bool) -> set[int]:
        """Replace what is known of these files (``(id, parsed)`` each: good, bad or
        skipped); the groups the good ones are in. ``new``: a bulk load
        (:meth:`Store.bulk_begin`) is going on."""
        if not new:
            self.groups.unlink(self.store.chosen([i for i, _r in rows]))
        values: list[tuple[object, ...]] = []
        links = []
        for i, (f, o) in rows:
            head = (i, f.path, f.bucket, f.size, f.mtime, o.sha)
            if isinstance(o, Good):
                entry_id = None if o.entry_id == o.url else o.entry_id
                good = (o.rank, o.visible, o.eid, o.url, entry_id, o.period, o.record)
                values.append((*head, GOOD, *good, None, o.warnings))
                links.append((i, o.rank, o.visible, o.members))
            elif isinstance(o, Bad):
                values.append((*head, BAD, *_NOT_GOOD, o.error, None))
            else:
                assert isinstance(o, Skipped), o
                values.append((*head, SKIPPED, *_NOT_GOOD, None, None))
        self.store.db.executemany(
            "INSERT OR REPLACE INTO posts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", values
        )
        return self.groups.link(links)

    def forget(self, post_ids: Sequence[int]) -> None:
        self.groups.unlink(self.store.chosen(post_ids))
        self.store.db.executemany("DELETE FROM posts WHERE id=?", [(i,) for i in post_ids])

    def groups_of(self, post_ids: Iterable[int]) -> set[int]:
        """The groups these posts are in."""
        ids = list(post_ids)
        return self.groups.of_posts(self.store.chosen(ids)) if ids else set()

    def by_id(self, ids: Sequence[int]) -> list[Candidate]:
        return self._where("id", ids)

    def by_path(self, paths: Sequence[str]) -> list[Candidate]:
        return self._where("path", paths)

    def _where(self, column: str, keys: Sequence[object]) -> list[Candidate]:
        out: list[Candidate] = []
        for chunk in batched(keys, PARAMETERS):
            rows = self.store.db.execute(
                f"SELECT {_CANDIDATE} FROM posts WHERE {column} IN ({marks(chunk)})", chunk
            )
            out += [Candidate(*r) for r in rows]
        return out

    # -- time and duplicates ----------------------------------------------------------------
    def crossing(self, lo: int, hi: int) -> set[int]:
        """Groups with a post that becomes visible (or hidden) between the bounds ``lo``
        and ``hi``: visible at one, not at the other."""
        rows = self.store.db.execute(  # not visible at lo (a range the index walks)
            "SELECT id FROM posts INDEXED BY posts_visible "
            f"WHERE status = {GOOD} AND visible > :lo AND {visible(bound='hi')}",
            {"lo": lo, "hi": hi},
        )
        return self.groups_of([r[0] for r in rows])

    def shared_ids(self, now: int) -> list[Candidate]:
        """Visible posts whose entry id hash another visible post has too."""
        rows = self.store.db.execute(
            f"SELECT {_CANDIDATE} FROM posts WHERE status = {GOOD} AND {visible()} "
            f"AND eid IN (SELECT eid FROM posts INDEXED BY posts_eid WHERE status = {GOOD} "
            f"AND {visible()} GROUP BY eid HAVING COUNT(*) > 1)",
            {"now": now},
        )
        return [Candidate(*r) for r in rows]

    def other_ids(self) -> list[tuple[str, str, str]]:
        """``(path, permalink, entry id)`` of each good post whose id is not its permalink."""
        rows = self.store.db.execute(
            f"SELECT path, url, entry_id FROM posts WHERE status = {GOOD} "
            "AND entry_id IS NOT NULL ORDER BY path"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def losers(self) -> dict[int, Loser]:
        rows = self.store.db.execute("SELECT post, path, message FROM losers")
        return {r[0]: Loser(*r) for r in rows}

    def set_losers(self, losers: Iterable[Loser]) -> None:
        self.store.db.execute("DELETE FROM losers")
        self.store.db.executemany("INSERT INTO losers VALUES (?,?,?)", losers)

    # -- what the report says ---------------------------------------------------------------
    def errors(self) -> list[tuple[str, str]]:
        """``(path, line)`` of every file that is not a good post, in path order."""
        rows = self.store.db.execute(
            f"SELECT path, error FROM posts INDEXED BY posts_errors WHERE status = {BAD} "
            "ORDER BY path"
        )
        return [(r[0], r[1]) for r in rows]

    def warnings(self) -> list[str]:
        rows = self.store.db.execute(
            "SELECT warnings FROM posts INDEXED BY posts_warned WHERE warnings IS NOT NULL "
            "ORDER BY path"
        )
        return [line for (text,) in rows for line in text.split("\n")]
