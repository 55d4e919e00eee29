"""Typed rows that cross the engine's module lines (workers → scan → cache → plan →
apply). No logic.

One shape per stage: a file as found (:class:`FileStat`) with what it turned out to be
(:data:`Outcome`); a post as the cache returns it (:class:`Candidate`); a post with the
content hash its entry is rendered from (:class:`Entry`), or, where only the hash
matters, its path with it (:class:`Source`).

They are NamedTuples: worker processes send thousands of them, and a tuple pickles
fastest.
"""

from __future__ import annotations

from typing import NamedTuple

from ..model import Post


class FileStat(NamedTuple):
    """A post file as found."""

    #: Path relative to the source folder.
    path: str
    #: Its bucket (:func:`.codec.bucket_of`).
    bucket: int
    #: Size and modification time (ns) when it was found.
    size: int
    mtime: int


class Good(NamedTuple):
    """A good post, as the cache stores it."""

    #: Content hash of the file.
    sha: bytes
    #: :func:`feedwright.group.rank` and :func:`~feedwright.group.visible_from`.
    rank: int
    visible: int
    #: A 64-bit hash of the entry id, to find duplicates quickly.
    eid: int
    #: The permalink and the entry id (the id ledger, :mod:`feedwright.ledger`, may fix
    #: another id than the post's own).
    url: str
    entry_id: str
    #: :func:`feedwright.group.archive_period` (when archives are on).
    period: str | None
    #: The post without its body, path, permalink and id: :func:`.codec.encode_post`.
    record: str
    #: The groups it is in: ``(kind, slug, names)`` each (:func:`.codec.encode_members`).
    members: tuple[tuple[str, str, str], ...]
    #: The post's warnings, one per line, or ``None``.
    warnings: str | None = None
    #: The id ledger's line for a new row of it (:func:`feedwright.ledger.format_line`,
    #: made in the worker), when its entry id is its permalink; ``None`` otherwise.
    line: bytes | None = None


class Bad(NamedTuple):
    """A file that is not a good post."""

    #: Content hash (empty when the file could not be read).
    sha: bytes
    #: The ``path:line: message`` line.
    error: str


class Skipped(NamedTuple):
    """A post that says ``published: false``."""

    sha: bytes


class Same(NamedTuple):
    """A file whose bytes are the ones the cache knows: only its stat changed."""

    sha: bytes


Outcome = Good | Bad | Skipped | Same


class ParsedFile(NamedTuple):
    """What one post file turned out to be."""

    stat: FileStat
    outcome: Outcome


class KnownFile(NamedTuple):
    """What the cache remembers of one post file."""

    #: The cache's id of the file (stable while the path exists).
    id: int
    path: str
    size: int
    mtime: int
    sha: bytes
    #: ``GOOD``, ``BAD`` or ``SKIPPED`` (:mod:`.cache.schema`).
    status: int


class Candidate(NamedTuple):
    """A post as the cache returns it (:func:`.codec.post_of` makes it a post)."""

    id: int
    path: str
    sha: bytes
    url: str
    #: ``None``: the permalink.
    entry_id: str | None
    record: str


class Entry(NamedTuple):
    """A post (without its body) and the content hash of the file it was parsed from:
    its entry is rendered from the body read again, which must still have that hash."""

    post: Post
    sha: bytes


class Source(NamedTuple):
    """A post file by path and content hash: what an archive's signature names."""

    path: str
    sha: bytes


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
