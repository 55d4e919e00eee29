"""How the cache spells things: posts as compact JSON, hashes, and stat buckets."""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import datetime
from sys import intern

from ..group import Membership
from ..model import Author, Post
from .rows import Candidate

#: Files are spread over this many buckets by path; a bucket whose stat digest is the one
#: the cache remembers holds no change, so a no-op build compares sums, not every file.
BUCKETS = 4096
_MASK64 = (1 << 64) - 1
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def content_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def id_hash(entry_id: str) -> int:
    """A signed 64-bit hash of an entry id (SQLite's INTEGER), to find duplicates."""
    digest = hashlib.blake2b(entry_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def bucket_of(path: str) -> int:
    """The bucket of a post file: by its name, so that it is known before its folder."""
    return zlib.crc32(path.rpartition("/")[2].encode("utf-8", "surrogateescape")) % BUCKETS


class Digests:
    """Each bucket's digest of ``(folder, name, size, mtime)`` of the files in it.

    A file's share is CPython's hash of the tuple ``(CRC-32 of its folder, CRC-32 of its
    name, size, mtime)``: integers only, so the hash is the same in every process (and
    the cache is emptied when the Python version changes); a bucket's digest is the sum of
    its files' shares modulo 2**64, so the order files are found in does not matter. It
    runs for a million files in a no-op build, so it is cheap rather than cryptographic:
    nothing here defends against anyone.
    """

    __slots__ = ("sums",)

    def __init__(self) -> None:
        self.sums = [0] * BUCKETS

    def add(self, folder: int, name: bytes, size: int, mtime: int) -> int:
        """Count one file in (``folder``: the CRC-32 of its folder's path); returns its
        bucket."""
        name_crc = zlib.crc32(name)
        bucket = name_crc % BUCKETS
        self.sums[bucket] += hash((folder, name_crc, size, mtime))
        return bucket

    def signed(self, bucket: int) -> int:
        """A bucket's digest as SQLite stores it (a signed 64-bit integer)."""
        value = self.sums[bucket] & _MASK64
        return value - (1 << 64) if value >= 1 << 63 else value


def folder_crc(rel: str) -> int:
    """What :meth:`Digests.add` takes for a folder."""
    return zlib.crc32(rel.encode("utf-8", "surrogateescape"))


def encode_post(post: Post) -> str:
    """What the cache keeps of a post besides its real columns (path, permalink, entry
    id): one JSON array, read only by :func:`decode_post` (SQL never reads inside it)."""
    a = post.author
    published, updated = post.published.isoformat(), post.updated.isoformat()
    return _JSON.encode(
        [
            post.title,
            published,
            None if updated == published else updated,
            post.categories,
            post.tags,
            None if a is None else [a.name, a.email, a.uri],
            post.excerpt,
            post.markup,
            post.lang,
            post.image,
            post.future,
            post.body_offset,
        ]
    )


#: Joins a post's spellings of a group in ``members.names``: never in a name, since it is
#: one of the control characters removed from every name.
NAME_SEPARATOR = "\x1f"


def encode_members(members: list[Membership]) -> tuple[tuple[str, str, str], ...]:
    """``(kind, slug, names)`` of each group, as a ``members`` row says them (interned: a
    worker's batch of posts pickles each group's slug and names once)."""
    return tuple((m.kind, intern(m.slug), intern(NAME_SEPARATOR.join(m.names))) for m in members)


def decode_post(path: str, url: str, entry_id: str | None, record: str) -> Post:
    """A post from its cache row (``entry_id`` ``None``: its permalink)."""
    (
        title,
        published,
        updated,
        categories,
        tags,
        author,
        excerpt,
        markup,
        lang,
        image,
        future,
        body_offset,
    ) = json.loads(record)
    when = datetime.fromisoformat(published)
    return Post(
        relpath=path,
        title=title,
        published=when,
        updated=when if updated is None else datetime.fromisoformat(updated),
        url=url,
        id=url if entry_id is None else entry_id,
        categories=tuple(categories),
        tags=tuple(tags),
        author=None if author is None else Author(*author),
        excerpt=excerpt,
        markup=markup,
        lang=lang,
        image=image,
        future=future,
        body_offset=body_offset,
    )


def post_of(found: Candidate) -> Post:
    """The post of a cache row."""
    return decode_post(found.path, found.url, found.entry_id, found.record)
