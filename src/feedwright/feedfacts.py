"""Pure: what every feed format says the same way, one rule each: an entry's text and
picture, a document's ``updated``, its URL and its links (hubs, RFC 5005).

:mod:`feedwright.feedxml` (Atom and RSS) and :mod:`feedwright.jsonfeed` (JSON Feed) write
these facts; neither decides them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .config import Config
from .content import first_image
from .layout import archive_formats, archive_relpath, feed_relpath, feed_url
from .model import ArchiveLinks, EntryContent, Format, Group, GroupKey, Post

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def feed_updated(group: Group) -> datetime:
    """The newest entry's ``updated``; the Unix epoch for an empty feed. Never the clock."""
    return max((p.updated for p in group.posts), key=lambda d: d.timestamp(), default=EPOCH)


def entry_text(config: Config, post: Post, content: EntryContent) -> str:
    """An entry's plain text, in every format (Atom ``<summary>``, RSS ``<description>``,
    JSON Feed ``summary``, and ``content_text`` where there is no ``content_html``): the
    post's summary; for an entry that would otherwise carry no text at all (no summary,
    and no HTML content in the feed) its title (W3C: MissingTextualContent). ``""`` when
    the HTML content is the entry's only text."""
    if content.summary or has_html(config, content):
        return content.summary
    return post.title


def has_html(config: Config, content: EntryContent) -> bool:
    """Whether the entry carries its HTML content (``feeds.content: full`` and a body)."""
    return config.feeds.content == "full" and bool(content.html)


def entry_image(config: Config, post: Post, content: EntryContent) -> str | None:
    """The post's picture: its ``image``, else (with ``feeds.images: first``) the first
    ``<img>`` of its content. Absolute and percent-encoded either way."""
    if post.image:
        return post.image
    if config.feeds.images == "first":
        return first_image(content.html)
    return None


def is_archive(links: ArchiveLinks | None) -> bool:
    """Whether a document is an archive (else the group's subscription feed)."""
    return links is not None and links.period is not None


def document_url(config: Config, key: GroupKey, fmt: Format, links: ArchiveLinks | None) -> str:
    """A document's own URL (its ``self`` link and Atom ``id``)."""
    if links is not None and links.period is not None:
        return feed_url(config, archive_relpath(key, links.period, fmt))
    return feed_url(config, feed_relpath(key, fmt))


def older_url(config: Config, key: GroupKey, fmt: Format, links: ArchiveLinks | None) -> str | None:
    """The next older archive in the same format (``prev-archive``; JSON Feed
    ``next_url``), if it exists: the group has archives in this format."""
    if links is None or links.older is None or fmt not in archive_formats(config, key):
        return None
    return feed_url(config, archive_relpath(key, links.older, fmt))


def extra_links(
    config: Config, key: GroupKey, fmt: Format, links: ArchiveLinks | None
) -> list[tuple[str, str]]:
    """``(rel, href)`` of an Atom or RSS document's links after ``self``: the hubs
    (subscription feeds only) or ``current`` (archives), then ``prev-archive`` and
    ``next-archive`` to the archives of the same format that exist."""
    if links is None or links.period is None:
        out = [("hub", hub) for hub in config.websub.hubs]
    else:
        out = [("current", feed_url(config, feed_relpath(key, fmt)))]
    older = older_url(config, key, fmt, links)
    if older is not None:
        out.append(("prev-archive", older))
    if links is not None and links.newer is not None and fmt in archive_formats(config, key):
        out.append(("next-archive", feed_url(config, archive_relpath(key, links.newer, fmt))))
    return out
