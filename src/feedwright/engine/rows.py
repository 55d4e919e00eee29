"""Typed rows that cross the engine's module lines (workers → scan → cache). No logic.

They are NamedTuples: worker processes send thousands of them, and a tuple pickles
fastest.
"""

from __future__ import annotations

from typing import NamedTuple

#: :attr:`ParsedFile.status` and :attr:`KnownFile.status` values.
POST, ERROR, SKIP, SAME = 0, 1, 2, 3


class ParsedFile(NamedTuple):
    """What one post file turned out to be."""

    #: Path relative to the source folder.
    path: str
    #: Its bucket (:func:`.codec.bucket_of`).
    bucket: int
    #: Size and modification time (ns) when it was found.
    size: int
    mtime: int
    #: Content hash (empty when the file could not be read).
    sha: bytes
    #: ``POST`` (a good post), ``ERROR``, ``SKIP`` (``published: false``) or ``SAME`` (its
    #: bytes are the ones the cache knows: only the stat changed).
    status: int
    #: :func:`feedwright.group.rank` and :func:`~feedwright.group.visible_from` (``POST``).
    rank: int | None = None
    visible: int | None = None
    #: A 64-bit hash of the entry id, to find duplicates quickly (``POST``).
    eid: int | None = None
    #: The post without its body (``POST``): :func:`.codec.encode_post`.
    record: str | None = None
    #: The ``path:line: message`` line (``ERROR``).
    error: str | None = None
    #: The post's warnings, one per line, or ``None``.
    warnings: str | None = None
    #: The groups it is in (``POST``): ``(kind, slug, names as a JSON list)`` each.
    members: tuple[tuple[str, str, str], ...] = ()
    #: The permalink and the entry id (``POST``): the id ledger
    #: (:mod:`feedwright.ledger`) may fix another id than the post's.
    url: str | None = None
    entry_id: str | None = None
    #: :func:`feedwright.group.archive_period` (``POST``, when archives are on).
    period: str | None = None


class KnownFile(NamedTuple):
    """What the cache remembers of one post file."""

    #: The cache's id of the file (stable while the path exists).
    id: int
    path: str
    size: int
    mtime: int
    sha: bytes
    status: int


class Candidate(NamedTuple):
    """A post as the cache returns it (:func:`.codec.decode_post` makes it a post)."""

    id: int
    path: str
    sha: bytes
    url: str
    #: ``None``: the permalink.
    entry_id: str | None
    record: str


class GroupRow(NamedTuple):
    """A group as the cache remembers it from the last build."""

    gid: int
    kind: str
    slug: str
    #: The name its feeds were published with, or ``None`` if it has no feeds.
    published: str | None
    #: Every spelling of its name when it was published.
    spellings: tuple[str, ...]
    #: What its feeds were rendered from; ``None`` means "look again next build".
    signature: bytes | None


class Loser(NamedTuple):
    """A post rejected because another post has its entry id."""

    id: int
    path: str
    #: The ``path:line: message`` line.
    message: str


class Written(NamedTuple):
    """A file a worker process wrote (or found already holding its bytes)."""

    relpath: str
    #: Its public URL.
    url: str
    #: Source paths of the posts in it.
    sources: tuple[str, ...]
    #: Whether its bytes changed (``False``: left untouched).
    changed: bool
    #: Its size and mtime (ns) after the write.
    size: int
    mtime: int
