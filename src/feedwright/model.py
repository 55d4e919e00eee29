"""Typed data passed between the pipeline's stages. No logic lives here.

Every ``datetime`` in these types is timezone-aware and keeps the offset it was
written with (or, for naive input, the site time zone's offset at that instant).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

GroupKind = Literal["site", "category", "tag"]
#: Stands for "N posts" in a warning that each post it concerns gives in the same words:
#: a report says it once, with the count (:attr:`BuildReport.distinct_warnings`).
COUNTED = "{posts}"
Format = Literal["atom", "rss", "json"]


class GroupKey(NamedTuple):
    """What identifies a group: its kind and its slug (``""`` for the site)."""

    kind: str
    slug: str


@dataclass(frozen=True, slots=True)
class Author:
    """A person credited for a post or a site."""

    #: Display name; never empty.
    name: str
    #: E-mail address, if known.
    email: str | None = None
    #: Home page (an absolute URI), if known.
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class RawPost:
    """A post file as discovered: where it is and what its name says."""

    #: Path relative to the source folder, with ``/`` separators.
    relpath: str
    #: Absolute filesystem path.
    abspath: str
    #: Categories taken from the folders above ``_posts``.
    dir_categories: tuple[str, ...]
    #: The ``YYYY-MM-DD`` of the file name.
    name_date: tuple[int, int, int]
    #: The slug part of the file name (between the date and the extension).
    slug: str
    #: The extension, lower-cased, without the dot (``md``, ``markdown``, ``html``, ``htm``).
    ext: str
    #: Size in bytes when discovered.
    size: int = 0
    #: Modification time (ns) when discovered.
    mtime_ns: int = 0

    def __reduce__(self) -> tuple[type[RawPost], tuple[object, ...]]:
        """Pickle as the constructor's arguments: many times faster to send to a worker
        process than the generic state of a slotted dataclass."""
        return (
            RawPost,
            (
                self.relpath,
                self.abspath,
                self.dir_categories,
                self.name_date,
                self.slug,
                self.ext,
                self.size,
                self.mtime_ns,
            ),
        )


@dataclass(frozen=True, slots=True)
class Post:
    """A parsed, valid post. Its body is kept as written; see :mod:`feedwright.content`.

    ``published`` and ``updated`` are aware and keep the offset written in the post.
    """

    #: Path relative to the source folder (used in messages and as a tie-breaker).
    relpath: str
    #: Plain-text title.
    title: str
    #: The instant the post was published.
    published: datetime
    #: The instant it was last updated (``published`` unless the post says otherwise).
    updated: datetime
    #: Absolute permalink, percent-encoded (a URI, not an IRI).
    url: str
    #: Entry id: ``url`` unless the post has its own ``id``.
    id: str
    #: Display names of the post's categories, in order, without duplicates.
    categories: tuple[str, ...]
    #: Display names of the post's tags, in order, without duplicates.
    tags: tuple[str, ...]
    #: The post's own author, if it names one.
    author: Author | None
    #: ``excerpt``/``description`` from the front matter, if any (plain text or HTML).
    excerpt: str | None
    #: ``markdown`` or ``html``.
    markup: Literal["markdown", "html"]
    #: ``lang`` from the front matter, if any.
    lang: str | None = None
    #: Absolute URL of the post's ``image``, if any.
    image: str | None = None
    #: The post says ``future: true`` (published even if dated in the future).
    future: bool = False
    #: Where the body starts in the decoded, newline-normalised file text.
    body_offset: int = 0
    #: The body as written (Markdown or HTML), XML-illegal characters removed. Empty
    #: until loaded (:func:`feedwright.posts.with_body`): only posts in a feed need it.
    body: str = ""

    @property
    def id_is_permalink(self) -> bool:
        return self.id == self.url


@dataclass(frozen=True, slots=True)
class EntryContent:
    """What a post's body renders to in a feed."""

    #: Sanitised HTML with absolute URLs.
    html: str
    #: Plain-text summary.
    summary: str


@dataclass(frozen=True, slots=True)
class Group:
    """The posts of one feed: the whole site, one category or one tag."""

    #: ``site``, ``category`` or ``tag``.
    kind: GroupKind
    #: Jekyll slug (Unicode kept); empty for the site group.
    slug: str
    #: Display name (the first spelling seen, in sorted order); empty for the site.
    name: str
    #: The newest posts, newest first, ties by URL ascending, at most ``feeds.limit``.
    posts: tuple[Post, ...]
    #: Every distinct spelling that slugified to ``slug``.
    spellings: tuple[str, ...] = ()
    #: How many visible posts the group holds in all (``posts`` is only the newest).
    count: int = 0

    @property
    def key(self) -> GroupKey:
        return GroupKey(self.kind, self.slug)


@dataclass(frozen=True, slots=True)
class Listing:
    """A group as the page of the output folder lists it."""

    #: Display name (``""`` for the site).
    name: str
    #: How many visible posts it holds.
    count: int
    #: When its newest post was published (ISO 8601, with the post's offset), or ``""``.
    newest: str


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """Where a document sits in its group's RFC 5005 archive chain."""

    #: The archive's period (``2022/03`` or ``2022``); ``None`` for the subscription feed.
    period: str | None
    #: The next older archive's period (``prev-archive``), if any.
    older: str | None = None
    #: The next newer archive's period (``next-archive``), if any (never for the feed).
    newer: str | None = None


@dataclass(frozen=True, slots=True)
class Fragments:
    """One entry serialized once per format, as every document that holds it (the site's
    feed, its category's, each tag's, their archives) writes it: bytes, so that they
    travel cheaply from worker processes (:func:`feedwright.render.entry_fragments`)."""

    #: Each rendered format's bytes: an Atom ``<entry>`` or RSS ``<item>`` indented for
    #: its place in a document, with its newline; a JSON Feed item indented for ``items``.
    data: dict[Format, bytes]
    #: The entry has a picture: a document holding it declares Media RSS at its root.
    picture: bool


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One output file: its path under the output folder and its bytes."""

    #: Path relative to the output folder, with ``/`` separators (Unicode kept).
    relpath: str
    #: The file's content.
    data: bytes
    #: Public, percent-encoded URL of the file.
    url: str
    #: The group it was rendered from (``None`` for ``feeds.opml``).
    group: tuple[str, str] | None = None
    #: Source paths of the posts in it.
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """What feedwright knows about a file it wrote (its manifest lists them)."""

    #: Source paths of the posts in it (relative to the source folder).
    sources: tuple[str, ...] = ()
    #: Display name of its group (so a kept feed can stay in the OPML).
    name: str = ""
    #: How many posts its group held, and when the newest was published (ISO 8601 or
    #: ``""``): what the folder's page lists for a group whose files were not rewritten.
    count: int = 0
    newest: str = ""


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """A rejected post, for machines: ``str()`` of its error is ``path:line: message``."""

    #: Path of the post relative to the source folder.
    path: str
    #: Line of the post the error is about, if known.
    line: int | None
    #: What is wrong.
    message: str


@dataclass(frozen=True, slots=True)
class EntryRef:
    """A post as a group's feeds show it (or showed it)."""

    #: Path of the post relative to the source folder.
    path: str
    #: Its permalink (``None`` for a post that left: only its path is remembered).
    url: str | None = None
    #: Its title (``None`` for a post that left).
    title: str | None = None


@dataclass(frozen=True, slots=True)
class GroupChange:
    """Which posts entered and left a group's feeds (its newest ``feeds.limit`` posts)."""

    kind: GroupKind
    #: Jekyll slug; empty for the site.
    slug: str
    #: Display name; empty for the site.
    name: str
    #: Posts in the feeds now that were not before, in feed order.
    entered: tuple[EntryRef, ...]
    #: Posts in the feeds before that are not now, by path.
    left: tuple[EntryRef, ...]
    #: The group's feeds were removed (it has no visible post any more).
    removed: bool = False


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    #: Posts published (valid, not excluded).
    posts: int
    #: Posts rejected, one error each.
    errors: tuple[str, ...]
    #: Warnings (slug collisions, truncations, kept feeds).
    warnings: tuple[str, ...]
    #: Output paths written (new or changed), relative to the output folder.
    written: tuple[str, ...]
    #: Output paths whose bytes did not change (but ``unlisted``).
    unchanged: tuple[str, ...]
    #: Output paths removed because their group no longer exists.
    removed: tuple[str, ...]
    #: Output paths kept as they were because some of their posts were rejected.
    kept: tuple[str, ...]
    #: Wall seconds.
    seconds: float
    #: Public URLs of the feeds written (for WebSub pings).
    written_urls: tuple[str, ...] = field(default=())
    #: No earlier build's cache was used (a first build, ``--full``, a new config):
    #: every post was read.
    cold: bool = False
    #: ``errors`` as records (path, line, message), in the same order.
    error_records: tuple[ErrorRecord, ...] = ()
    #: Groups whose feeds gained or lost posts, in group order.
    groups: tuple[GroupChange, ...] = ()
    #: With ``explain``: each group the feed policy leaves without feeds, and why.
    excluded: tuple[str, ...] = ()
    #: With ``explain``: each post whose permalink moved away from its (fixed) entry id.
    moved: tuple[str, ...] = ()
    #: With ``explain``: each entry id that more than one post claims, and the posts.
    claimed: tuple[str, ...] = ()
    #: Archive files unchanged that ``unchanged`` does not list: those of the groups the
    #: build did not look at (counted, not listed: a big site has a hundred thousand).
    unlisted: int = 0

    @property
    def unchanged_count(self) -> int:
        """Every file unchanged: those listed and those counted."""
        return len(self.unchanged) + self.unlisted

    @property
    def changed(self) -> bool:
        """The build wrote or removed a file."""
        return bool(self.written or self.removed)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def distinct_warnings(self) -> tuple[str, ...]:
        """``warnings`` without repeats: many posts may give the same one (e.g. no zone set);
        one that says :data:`COUNTED` says instead how many posts gave it."""
        counts = Counter(self.warnings)
        return tuple(
            w.replace(COUNTED, f"{n} post{'' if n == 1 else 's'}") if COUNTED in w else w
            for w, n in counts.items()
        )
