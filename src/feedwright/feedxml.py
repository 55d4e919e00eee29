"""Pure: Atom and RSS through feedgen: a document's head (the feed without its entries)
and each entry's bytes, which :mod:`feedwright.render` puts together.

feedgen writes both formats; its defaults are overridden where they break ordering
(entries are appended in our order), determinism (every ``updated`` is set from the
posts, never ``now()``), or validity (hub links added to RSS, alternate link added
last so RSS ``<channel><link>`` is the site page, authors always present). What feedgen
has no setter for is done by one feedgen extension, ``feedwright`` (:class:`FeedExtension`
for the feed, :class:`EntryExtension` for each entry), so that feedgen's document path
(``atom_str``/``rss_str`` with the entries added: the tests' reference) and its entry
path (``atom_entry``/``rss_entry``: each entry rendered once, here) apply it alike:

- the root's namespaces: Media RSS when an entry of the document has a picture (so feeds
  without pictures keep their bytes), RFC 5005's in an archive;
- RSS: the hub and archive links right after ``atom:link rel="self"`` (feedgen writes only
  ``self``), each item's one credit (``dc:creator``), its plain-text description escaped;
- ``<fh:archive/>`` after the feed's own elements, before the first entry (where RFC
  4287's RELAX NG schema accepts extension elements); ``xml:lang`` on Atom entries;
  pictures as ``media:thumbnail`` and ``media:content medium="image"``; a title a reader
  would take for markup written as HTML that reads as the text.

**The seam.** A document is its head, its entries' fragments, and its foot. The head is
feedgen's document without entries, pretty-printed, less its last bytes, the constant
:data:`FOOTERS` (``</feed>``; ``</channel></rss>``): feedgen appends entries after every
other child, exactly there. A fragment is what libxml2 writes for the entry in that
place: the entry is serialized inside an *envelope* (a root, and for RSS a channel, that
declares every namespace an entry may use, so that the entry declares none) at the depth
it has in a document, and taken from between the envelope's start and end tags, which
are constant. libxml2 writes an element the same way under any ancestors that declare
the namespaces it uses, so the fragment is byte for byte what the whole document holds:
``tests/test_serializer.py`` holds the two equal.
"""

from __future__ import annotations

import html
import html.entities
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from . import __version__
from .config import Config
from .feedfacts import (
    document_url,
    entry_image,
    entry_text,
    extra_links,
    feed_updated,
    has_html,
    is_archive,
)
from .layout import MEDIA_TYPES, group_page, group_title, project_home
from .model import ArchiveLinks, Author, EntryContent, Format, Group, Post

if TYPE_CHECKING:  # imported when rendering: a no-op build never pays for them
    from feedgen.entry import FeedEntry
    from feedgen.feed import FeedGenerator
    from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss): the entry's picture for feed readers.
MEDIA_NS = "http://search.yahoo.com/mrss/"
#: RFC 5005's namespace (``<fh:archive/>``).
FH_NS = "http://purl.org/syndication/history/1.0"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
#: The name of feedwright's feedgen extension (``fg.feedwright``, ``fe.feedwright``).
EXTENSION = "feedwright"

#: The end of a pretty-printed document after its last entry: the seam between its head
#: (and entries) and its foot.
FOOTERS: dict[Format, bytes] = {"atom": b"</feed>\n", "rss": b"  </channel>\n</rss>\n"}
# What feed readers (and the W3C validator: ContainsHTML) take for markup in a text title:
# a tag, or an entity or character reference.
_MARKUP_LIKE = re.compile(r"<[/A-Za-z]|&(?:#|(\w+))")
_ENTITIES = frozenset([*html.entities.name2codepoint, "apos"])
_HEX = {"&": "&#x26;", "<": "&#x3C;", ">": "&#x3E;"}


def looks_like_markup(text: str) -> bool:
    """Whether a reader would take plain ``text`` (a title: ``a </b> c``, ``&lt;b&gt;``)
    for HTML. Such a title is written as HTML that reads as the text: escaped, with Atom's
    ``type="html"``, and in RSS as character data; any other title is plain text."""
    for m in _MARKUP_LIKE.finditer(text):
        name = m.group(1)
        if name is None or name in _ENTITIES or not name.isalpha():
            return True
    return False


# -- feedgen's extension -----------------------------------------------------------------------
class FeedExtension:
    """What feedgen's feed cannot be told: the root's extra namespaces, RSS's links after
    ``self``, and the RFC 5005 archive mark (set by :func:`feed_head`)."""

    def __init__(self) -> None:
        #: Declared on the root, in this order (after ``dc`` in RSS).
        self.namespaces: dict[str, str] = {}
        #: ``(rel, href)`` of RSS's ``atom:link`` elements after ``self``.
        self.rss_links: list[tuple[str, str]] = []
        #: The document is an archive: ``<fh:archive/>``.
        self.archive = False

    def extend_ns(self) -> dict[str, str]:
        return self.namespaces

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        # feedgen calls this before it appends the entries: the mark precedes them
        if self.archive:
            _sub(feed, f"{{{FH_NS}}}archive")
        return feed

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = rss[0]
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        assert self_link is not None
        for rel, href in reversed(self.rss_links):
            attrib = {"href": href, "rel": rel}
            if rel != "hub":
                attrib["type"] = MEDIA_TYPES["rss"]
            self_link.addnext(_element(f"{{{ATOM_NS}}}link", attrib))
        if self.archive:
            _sub(channel, f"{{{FH_NS}}}archive")
        return rss


class EntryExtension:
    """What feedgen's entry cannot be told (set by :func:`fill_entry`)."""

    def __init__(self) -> None:
        #: The post's language: Atom ``xml:lang``.
        self.lang: str | None = None
        #: The entry's picture (Media RSS).
        self.image: str | None = None
        #: The entry's plain text (:func:`~.feedfacts.entry_text`), ``""`` if none.
        self.text = ""
        #: The title, when a reader would take it for markup (:func:`looks_like_markup`).
        self.markup_title: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        title = entry.find("title")
        if title is not None and self.markup_title is not None:
            title.set("type", "html")
            title.text = html.escape(self.markup_title, quote=False)
        if self.lang:
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", self.lang)
        self._picture(entry)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        """One credit per item: ``<dc:creator>`` always (a name needs no e-mail address);
        feedgen's ``<author>`` beside it is the same fact twice (W3C:
        DuplicateItemSemantics). ``<description>`` is HTML: when it holds the plain text,
        that is escaped once more (else ``R&D`` reaches readers as a broken entity; W3C:
        NotHtml); else it holds feedgen's copy of the HTML content, left alone. A title a
        reader would take for markup is HTML, escaped with hexadecimal references as the RSS
        Best Practices Profile has it (what the W3C validator accepts as declared markup in
        an RSS title), in a CDATA section."""
        from lxml import etree

        for author in item.findall("author"):
            item.remove(author)
        title = item.find("title")
        if title is not None and self.markup_title is not None:
            title.text = etree.CDATA("".join(_HEX.get(c, c) for c in self.markup_title))
        description = item.find("description")
        if description is not None and description.text and self.text:
            description.text = html.escape(description.text, quote=False)
        self._picture(item)
        return item

    def _picture(self, element: etree._Element) -> None:
        """``media:thumbnail`` and ``media:content medium="image"``, as jekyll-feed writes
        them (feedgen's media extension would wrap them in ``media:group``)."""
        if self.image:
            _sub(element, f"{{{MEDIA_NS}}}thumbnail", url=self.image)
            _sub(element, f"{{{MEDIA_NS}}}content", medium="image", url=self.image)


def _element(tag: str, attrib: dict[str, str]) -> etree._Element:
    from lxml import etree

    return etree.Element(tag, attrib)


def _sub(parent: etree._Element, tag: str, **attrib: str) -> None:
    from lxml import etree

    etree.SubElement(parent, tag, attrib)


# -- the head ----------------------------------------------------------------------------------
def feed_head(
    config: Config, group: Group, fmt: Format, links: ArchiveLinks | None, *, picture: bool
) -> FeedGenerator:
    """A document's feed in ``fmt`` without its entries (add them with ``add_entry`` and
    :func:`fill_entry` for the whole document); ``picture``: an entry has one."""
    from feedgen.feed import FeedGenerator  # first: it imports lxml.etree, which

    # isort: split
    from feedgen.ext.dc import DcEntryExtension, DcExtension  # feedgen.util needs imported

    site = config.site
    fg = FeedGenerator()
    # as load_extension("dc") would, without its failed import of feedgen.ext.dc_entry
    # (a search of sys.path each time)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.register_extension(EXTENSION, FeedExtension, EntryExtension)
    title = group_title(config, group.kind, group.name)
    fg.title(title)
    fg.description(site.description or title)
    fg.author(_author_dict(site.author))
    if site.language:
        fg.language(site.language)
    fg.generator("feedwright", version=__version__, uri=project_home())
    fg.updated(feed_updated(group))
    url = document_url(config, group.key, fmt, links)
    fg.id(url)
    fg.link(href=url, rel="self", type=MEDIA_TYPES[fmt])
    extra = extra_links(config, group.key, fmt, links)
    for rel, href in extra:  # in Atom: RSS takes them from the extension
        if rel == "hub":
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type=MEDIA_TYPES[fmt])
    # last: RSS <channel><link> is feedgen's last link
    fg.link(href=group_page(config, group.key), rel="alternate", type="text/html")
    _extend(getattr(fg, EXTENSION), fmt, is_archive(links), picture, extra)
    return fg


def _extend(
    ext: FeedExtension, fmt: Format, archive: bool, picture: bool, extra: list[tuple[str, str]]
) -> None:
    ext.archive = archive
    # feedgen declares RSS's atom and content after its extensions' namespaces unless
    # they are among them: named first, they keep the order feeds had before
    ext.namespaces = {"atom": ATOM_NS, "content": CONTENT_NS} if fmt == "rss" else {}
    if picture:
        ext.namespaces["media"] = MEDIA_NS
    if archive:
        ext.namespaces["fh"] = FH_NS
    ext.rss_links = extra


def head_bytes(fg: FeedGenerator, fmt: Format) -> bytes:
    """A document's head: feedgen's pretty-printed document (of a feed without entries)
    up to the seam (see the module)."""
    data: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    foot = FOOTERS[fmt]
    assert data.endswith(foot), data[-100:]
    return data[: -len(foot)]


def _author_dict(author: Author) -> dict[str, str]:
    out = {"name": author.name}
    if author.email:
        out["email"] = author.email
    if author.uri:
        out["uri"] = author.uri
    return out


# -- entries -----------------------------------------------------------------------------------
def new_entry() -> FeedEntry:
    """An entry outside any feed, with the extensions :func:`feed_head` gives its entries."""
    from feedgen.entry import FeedEntry
    from feedgen.ext.dc import DcEntryExtension

    fe = FeedEntry()
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    fe.register_extension(EXTENSION, EntryExtension)
    return fe


def fill_entry(fe: FeedEntry, config: Config, post: Post, content: EntryContent) -> None:
    """Everything a post's Atom entry and RSS item say."""
    fe.id(post.id)
    if post.id_is_permalink:
        fe.guid(post.url, permalink=True)
    fe.title(post.title)
    fe.link(href=post.url, rel="alternate")
    fe.published(post.published)
    fe.updated(post.updated)
    author = post.author or config.site.author
    fe.author(_author_dict(author))
    fe.dc.dc_creator(author.name)
    for name in dict.fromkeys([*post.categories, *post.tags]):
        fe.category(term=name)
    text = entry_text(config, post, content)
    if text:
        fe.summary(text)
    if has_html(config, content):
        fe.content(content.html, type="html")
    ext: EntryExtension = getattr(fe, EXTENSION)
    ext.lang = post.lang
    ext.image = entry_image(config, post, content)
    ext.text = text
    ext.markup_title = post.title if looks_like_markup(post.title) else None


def entry_bytes(fe: FeedEntry, fmt: Format) -> bytes:
    """The entry's fragment in ``fmt``: what the document holding it writes for it (see
    the module), indented for its depth, with its newline."""
    from lxml import etree

    root, parent = _envelope(fmt)
    parent.append(fe.atom_entry() if fmt == "atom" else fe.rss_entry())
    data: bytes = etree.tostring(root, pretty_print=True, encoding="UTF-8")
    start, end = _envelope_ends(fmt)
    assert data.startswith(start) and data.endswith(end), data[:300]
    return data[len(start) : -len(end)]


def _envelope(fmt: Format) -> tuple[etree._Element, etree._Element]:
    """A root (and its parent of entries) declaring every namespace an entry may use."""
    from lxml import etree

    if fmt == "atom":  # feedgen's Atom elements are in no namespace (xmlns is an attribute)
        root = etree.Element("feed", nsmap={"media": MEDIA_NS})
        return root, root
    nsmap = {"dc": DC_NS, "atom": ATOM_NS, "content": CONTENT_NS, "media": MEDIA_NS}
    root = etree.Element("rss", nsmap=nsmap)
    return root, etree.SubElement(root, "channel")


@lru_cache(maxsize=2)
def _envelope_ends(fmt: Format) -> tuple[bytes, bytes]:
    """What libxml2 writes before an entry in the envelope (its start tags, less the
    entry's indentation) and after it (its end tags)."""
    from lxml import etree

    root, parent = _envelope(fmt)
    etree.SubElement(parent, "x")
    data: bytes = etree.tostring(root, pretty_print=True, encoding="UTF-8")
    before, mark, after = data.partition(b"<x/>\n")
    assert mark, data
    return before.rstrip(b" "), after
