"""Groups and their members: which posts each group holds (stored once, in ``members``),
what each group's feeds and archives were last rendered from.

The visible members of a group are one query (:func:`members_query`): memberships of posts
visible at the build's clock, the losers of duplicate entry ids left out. Every count, feed
and archive reads them through it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..chunking import batched
from ..codec import NAME_SEPARATOR
from ..rows import GroupRow
from .schema import PARAMETERS, Store, marks, visible


def members_query(
    select: str, where: str = "m.gid = :gid", then: str = "", *, posts: bool = False
) -> str:
    """``SELECT select`` over the visible members ``m`` of the groups ``where`` picks
    (duplicate-id losers left out), then ``then`` (``GROUP BY``, ``ORDER BY``); with
    ``posts``, each member's post is ``p``."""
    join = " JOIN posts p ON p.id = m.post" if posts else ""
    return (
        f"SELECT {select} FROM members m{join} WHERE {where} AND {visible('m.visible')} "
        f"AND m.post NOT IN (SELECT post FROM losers) {then}"
    )


class Groups:
    """The ``groups``, ``members`` and ``archives`` tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._gids = self._load()

    def _load(self) -> dict[tuple[str, str], int]:
        rows = self.store.db.execute("SELECT gid, kind, slug FROM groups")
        return {(kind, slug): gid for gid, kind, slug in rows}

    def reload(self) -> None:
        """After the database was emptied."""
        self._gids = self._load()

    def gid(self, kind: str, slug: str) -> int:
        """The id of a group, created on first sight."""
        gid = self._gids.get((kind, slug))
        if gid is None:
            cur = self.store.db.execute(
                "INSERT INTO groups (kind, slug) VALUES (?, ?) RETURNING gid", (kind, slug)
            )
            gid = int(cur.fetchone()[0])
            self._gids[(kind, slug)] = gid
        return gid

    def all_gids(self) -> set[int]:
        return set(self._gids.values())

    def rows(self) -> dict[int, GroupRow]:
        """Every group as the last build left it."""
        rows = self.store.db.execute(
            "SELECT gid, kind, slug, published, spellings, signature FROM groups"
        )
        return {
            r[0]: GroupRow(r[0], r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")), r[5])
            for r in rows
        }

    def record(
        self, gid: int, published: str | None, spellings: Iterable[str], signature: bytes | None
    ) -> None:
        """Record a group's feeds: the name they carry (``None``: it has none), every
        spelling, what they were rendered from (``None``: look again next build)."""
        self.store.db.execute(
            "UPDATE groups SET published=?, spellings=?, signature=? WHERE gid=?",
            (published, json.dumps(list(spellings), ensure_ascii=False), signature, gid),
        )

    # -- members ----------------------------------------------------------------------------
    def link(
        self, rows: Iterable[tuple[int, int, int, Iterable[tuple[str, str, str]]]]
    ) -> set[int]:
        """Put posts in their groups: ``(post, rank, visible, [(kind, slug, names)…])``
        each; the groups they are in."""
        gids = self._gids
        members = [
            (gids.get((kind, slug)) or self.gid(kind, slug), rank, post, when, names)
            for post, rank, when, groups in rows
            for kind, slug, names in groups
        ]
        self.store.db.executemany(f"INSERT INTO {self.store.members} VALUES (?,?,?,?,?)", members)
        return {m[0] for m in members}

    def unlink(self, where: str) -> None:
        """Take the posts ``where`` selects (a subquery of ids) out of their groups."""
        self.store.db.execute(f"DELETE FROM members WHERE post IN {where}")

    def of_posts(self, where: str) -> set[int]:
        """The groups the posts ``where`` selects (a subquery of ids) are in."""
        rows = self.store.db.execute(f"SELECT DISTINCT gid FROM members WHERE post IN {where}")
        return {r[0] for r in rows}

    def newest(self, gid: int, now: int, limit: int) -> list[int]:
        """The group's first ``limit`` visible members by rank (and every one that ties
        with the last): :func:`feedwright.group.newest` puts them in feed order."""
        chosen: list[int] = []
        last = None
        # Walks the primary key (gid, rank, post): SQL only reads ranks Python computed.
        rows = self.store.db.execute(
            members_query("m.rank, m.post", then="ORDER BY m.rank"), {"gid": gid, "now": now}
        )
        for rank, post in rows:
            if len(chosen) >= limit and rank != last:
                break
            chosen.append(post)
            last = rank
        return chosen

    def spellings(self, gid: int, now: int) -> set[str]:
        """Every spelling the group's visible members give it."""
        rows = self.store.db.execute(
            members_query("DISTINCT m.names"), {"gid": gid, "now": now}
        ).fetchall()
        return {name for r in rows if r[0] for name in r[0].split(NAME_SEPARATOR)}

    def counts(self, gids: set[int], now: int) -> dict[int, int]:
        """How many visible members each group holds."""
        if not gids:
            return {}
        found: dict[int, int] = dict.fromkeys(gids, 0)
        if len(gids) > 50:  # one pass over every membership (a cold build)
            where, args = "1", {"now": now}
        else:
            ordered = sorted(gids)
            where = f"m.gid IN ({','.join(f':g{i}' for i in range(len(ordered)))})"
            args = {"now": now, **{f"g{i}": gid for i, gid in enumerate(ordered)}}
        rows = self.store.db.execute(
            members_query("m.gid, COUNT(*)", where, "GROUP BY m.gid"), args
        )
        for gid, n in rows:
            if gid in found:
                found[gid] = n
        return found

    def periods(self, gid: int, now: int) -> list[tuple[str, str, bytes]]:
        """``(period, path, sha)`` of the group's visible members."""
        rows = self.store.db.execute(
            members_query("p.period, p.path, p.sha", posts=True), {"gid": gid, "now": now}
        )
        return [(r[0], r[1], r[2]) for r in rows]

    # -- archives ---------------------------------------------------------------------------
    def archives(self, gids: Iterable[int]) -> dict[int, dict[str, bytes | None]]:
        """The archives the last build published for these groups: each period's signature."""
        out: dict[int, dict[str, bytes | None]] = {}
        for chunk in batched(sorted(set(gids)), PARAMETERS):
            rows = self.store.db.execute(
                f"SELECT gid, period, signature FROM archives WHERE gid IN ({marks(chunk)})",
                chunk,
            )
            for gid, period, sig in rows:
                out.setdefault(gid, {})[period] = sig
        return out

    def unsettled_archives(self) -> set[int]:
        """Groups with an archive to look at again (kept as it was, or not rendered)."""
        rows = self.store.db.execute("SELECT DISTINCT gid FROM archives WHERE signature IS NULL")
        return {r[0] for r in rows}

    def set_archives(self, rows: Iterable[tuple[int, str, bytes | None]]) -> None:
        """Archives as this build leaves them: ``(gid, period, signature)`` rows (the
        signature ``None``: look again next build)."""
        self.store.db.executemany("INSERT OR REPLACE INTO archives VALUES (?, ?, ?)", rows)

    def drop_archive(self, gid: int, period: str) -> None:
        self.store.db.execute("DELETE FROM archives WHERE gid = ? AND period = ?", (gid, period))
