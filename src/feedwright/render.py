"""Pure: a group and its entries' content → the bytes of its Atom, RSS and JSON feeds (and
of its page for people, :mod:`feedwright.pages`).

feedgen writes Atom and RSS; its defaults are overridden where they break ordering
(entries are appended in our order), determinism (every ``updated`` is set from the
posts, never ``now()``), or validity (hub links added to RSS, alternate link added
last so RSS ``<channel><link>`` is the site page, authors always present).
"""

from __future__ import annotations

import html
import html.entities
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import __version__
from .config import Config
from .content import first_image
from .layout import (
    MEDIA_TYPES,
    archive_formats,
    archive_relpath,
    feed_relpath,
    feed_url,
    group_page,
    group_title,
    page_relpath,
    page_url,
    project_home,
)
from .model import (
    ArchiveLinks,
    Author,
    EntryContent,
    FeedFile,
    Format,
    Group,
    GroupKey,
    Listing,
    Post,
)

if TYPE_CHECKING:  # imported when rendering: a no-op build never pays for them
    from feedgen.entry import FeedEntry
    from feedgen.feed import FeedGenerator
    from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss): the entry's picture for feed readers.
MEDIA_NS = "http://search.yahoo.com/mrss/"
#: RFC 5005's namespace (``<fh:archive/>``).
FH_NS = "http://purl.org/syndication/history/1.0"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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


def feed_updated(group: Group) -> datetime:
    """The newest entry's ``updated``; the Unix epoch for an empty feed. Never the clock."""
    return max((p.updated for p in group.posts), key=lambda d: d.timestamp(), default=EPOCH)


def entry_image(config: Config, post: Post, content: EntryContent) -> str | None:
    """The post's picture: its ``image``, else (with ``feeds.images: first``) the first
    ``<img>`` of its content. Absolute and percent-encoded either way."""
    if post.image:
        return post.image
    if config.feeds.images == "first":
        return first_image(content.html)
    return None


def _author_dict(author: Author) -> dict[str, str]:
    out = {"name": author.name}
    if author.email:
        out["email"] = author.email
    if author.uri:
        out["uri"] = author.uri
    return out


def _feedgen(
    config: Config, group: Group, contents: Mapping[str, EntryContent], *, entries: bool = True
) -> FeedGenerator:
    """The group's feed with its entries (without, if not ``entries``), for both Atom and
    RSS (see :func:`_links`)."""
    site = config.site
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    title = group_title(config, group.kind, group.name)
    fg.title(title)
    fg.description(site.description or title)
    fg.author(_author_dict(site.author))
    if site.language:
        fg.language(site.language)
    fg.generator("feedwright", version=__version__, uri=project_home())
    fg.updated(feed_updated(group))
    for post in group.posts if entries else ():
        _entry(fg, config, post, contents[post.relpath])
    return fg


def _extra_links(
    config: Config, group: Group, fmt: Format, links: ArchiveLinks | None
) -> list[tuple[str, str]]:
    """``(rel, href)`` of the links after ``self``: the hubs (subscription feeds only) and
    the RFC 5005 links (``current``, ``prev-archive``, ``next-archive``)."""
    if links is None or links.period is None:
        out = [("hub", hub) for hub in config.websub.hubs]
    else:
        out = [("current", feed_url(config, feed_relpath(group.key, fmt)))]
    if links is None or fmt not in archive_formats(config, group.key):
        return out  # links only to archives that exist
    for rel, period in (("prev-archive", links.older), ("next-archive", links.newer)):
        if period:
            out.append((rel, feed_url(config, archive_relpath(group.key, period, fmt))))
    return out


def _links(
    fg: FeedGenerator,
    config: Config,
    group: Group,
    self_url: str,
    fmt: Format,
    links: ArchiveLinks | None,
) -> list[tuple[str, str]]:
    """The feed's id and links for one format: self, hubs, archive links, and the
    alternate page last (RSS ``<channel><link>`` is feedgen's last link). Returns the links
    feedgen leaves out of RSS (all but self and alternate)."""
    fg.id(self_url)
    fg.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt], replace=True)
    extra = _extra_links(config, group, fmt, links)
    for rel, href in extra:
        if rel == "hub":
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type=MEDIA_TYPES[fmt])
    fg.link(href=group_page(config, group.key), rel="alternate", type="text/html")
    return extra


def _entry(fg: FeedGenerator, config: Config, post: Post, content: EntryContent) -> None:
    _fill_entry(fg.add_entry(order="append"), config, post, content)


def _fill_entry(fe: FeedEntry, config: Config, post: Post, content: EntryContent) -> None:
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
    summary = _summary(config, post, content)
    if summary:
        fe.summary(summary)
    if config.feeds.content == "full" and content.html:
        fe.content(content.html, type="html")


def _summary(config: Config, post: Post, content: EntryContent) -> str:
    """An Atom or RSS entry's summary: the post's, else (an empty post: no text at all)
    its title, so that every entry has some text (W3C: MissingTextualContent)."""
    if content.summary or (config.feeds.content == "full" and content.html):
        return content.summary
    return post.title


def _element(tag: str, **attrib: str) -> etree._Element:
    from lxml import etree

    return etree.Element(tag, **attrib)


def _serialize(tree: etree._ElementTree) -> bytes:
    from lxml import etree

    data: bytes = etree.tostring(tree, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return data


def _add_media(
    tree: etree._ElementTree | None, elements: list[etree._Element], images: list[str | None]
) -> None:
    """Media RSS ``media:thumbnail`` and ``media:content medium="image"`` (as jekyll-feed
    writes them) for each entry or item with a picture; the namespace is declared on the
    root only when some entry has one."""
    from lxml import etree

    found = False
    for element, image in zip(elements, images, strict=True):
        if image:
            found = True
            element.append(_element(f"{{{MEDIA_NS}}}thumbnail", url=image))
            element.append(_element(f"{{{MEDIA_NS}}}content", medium="image", url=image))
    if found and tree is not None:
        etree.cleanup_namespaces(tree, top_nsmap={"media": MEDIA_NS})


def _mark_archive(parent: etree._Element, first: str) -> None:
    """``<fh:archive/>`` among the feed's own elements, before its first entry (the
    RELAX NG schema of RFC 4287 wants extension elements before the entries)."""
    from lxml import etree

    mark = etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})
    entry = parent.find(first)
    if entry is not None:
        entry.addprevious(mark)
    else:
        parent.append(mark)


def render_atom(
    fg: FeedGenerator,
    config: Config,
    group: Group,
    self_url: str,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None = None,
) -> bytes:
    _links(fg, config, group, self_url, "atom", links)
    root, tree = fg._create_atom()
    entries = root.findall("entry")
    for element, post in zip(entries, group.posts, strict=True):
        _fix_atom_entry(element, post)
    _add_media(tree, entries, _images(config, group, contents))
    if links is not None and links.period is not None:
        _mark_archive(root, "entry")
    return _serialize(tree)


def _fix_atom_entry(element: etree._Element, post: Post) -> None:
    title = element.find("title")
    if title is not None and looks_like_markup(post.title):
        title.set("type", "html")
        title.text = html.escape(post.title, quote=False)
    if post.lang:
        element.set("{http://www.w3.org/XML/1998/namespace}lang", post.lang)


def _images(config: Config, group: Group, contents: Mapping[str, EntryContent]) -> list[str | None]:
    return [entry_image(config, p, contents[p.relpath]) for p in group.posts]


def render_rss(
    fg: FeedGenerator,
    config: Config,
    group: Group,
    self_url: str,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None = None,
) -> bytes:
    extra = _links(fg, config, group, self_url, "rss", links)
    root, tree = fg._create_rss()
    channel = root.find("channel")
    assert channel is not None
    items = channel.findall("item")
    for item, post in zip(items, group.posts, strict=True):
        _fix_rss_item(item, config, post, contents[post.relpath])
    _add_media(tree, items, _images(config, group, contents))
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    assert self_link is not None
    # feedgen writes only rel=self into RSS; hubs and archive links go right after it,
    # before any <item>.
    for rel, href in reversed(extra):
        attrib = {"href": href, "rel": rel}
        if rel != "hub":
            attrib["type"] = MEDIA_TYPES["rss"]
        self_link.addnext(_element(f"{{{ATOM_NS}}}link", **attrib))
    if links is not None and links.period is not None:
        _mark_archive(channel, "item")
    return _serialize(tree)


def _fix_rss_item(item: etree._Element, config: Config, post: Post, content: EntryContent) -> None:
    """What feedgen's RSS item needs. One credit per item: ``<dc:creator>`` always (a name
    needs no e-mail address); an ``<author>`` beside it is the same fact twice (W3C:
    DuplicateItemSemantics). ``<description>`` is HTML; when it holds the plain-text
    summary, that is escaped once more (else `R&D` reaches readers as a broken entity;
    W3C: NotHtml)."""
    from lxml import etree

    for author in item.findall("author"):
        item.remove(author)
    title = item.find("title")
    if title is not None and looks_like_markup(post.title):
        # HTML, escaped with hexadecimal references as the RSS Best Practices Profile has it
        # (what the W3C validator accepts as declared markup in an RSS title).
        escaped = "".join(_HEX.get(c, c) for c in post.title)
        title.text = etree.CDATA(escaped)
    description = item.find("description")
    summary = _summary(config, post, content)
    if description is not None and description.text and summary:
        description.text = html.escape(description.text, quote=False)


def render_json(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    self_url: str,
    links: ArchiveLinks | None = None,
) -> bytes:
    site = config.site
    doc: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": group_title(config, group.kind, group.name),
        "home_page_url": group_page(config, group.key),
        "feed_url": self_url,
    }
    if site.description:
        doc["description"] = site.description
    doc["authors"] = [_json_author(site.author)]
    if site.language:
        doc["language"] = site.language
    archive = links is not None and links.period is not None
    if config.websub.hubs and not archive:
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in config.websub.hubs]
    if links is not None and links.older and "json" in archive_formats(config, group.key):
        # the next (older) page of the history
        doc["next_url"] = feed_url(config, archive_relpath(group.key, links.older, "json"))
    doc["items"] = [_json_item(config, post, contents[post.relpath]) for post in group.posts]
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _json_author(author: Author) -> dict[str, str]:
    out = {"name": author.name}
    if author.uri:
        out["url"] = author.uri
    return out


def _json_item(config: Config, post: Post, content: EntryContent) -> dict[str, object]:
    item: dict[str, object] = {"id": post.id, "url": post.url, "title": post.title}
    if config.feeds.content == "full" and content.html:
        item["content_html"] = content.html
    else:
        item["content_text"] = content.summary
    if content.summary:
        item["summary"] = content.summary
    image = entry_image(config, post, content)
    if image:
        item["image"] = image
    item["date_published"] = post.published.isoformat()
    item["date_modified"] = post.updated.isoformat()
    if post.author is not None:
        item["authors"] = [_json_author(post.author)]
    names = list(dict.fromkeys([*post.categories, *post.tags]))
    if names:
        item["tags"] = names
    if post.lang:
        item["language"] = post.lang
    return item


class EntryXml:
    """Each post's Atom ``<entry>``, RSS ``<item>`` and JSON Feed item, serialized once
    however many archives it is in: an archive document is its head (the feed without
    entries) with these spliced in, in feed order. A post's entry is the same in every
    group."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.done: dict[tuple[str, str], bytes] = {}

    def get(self, post: Post, content: EntryContent, fmt: Format) -> bytes:
        data = self.done.get((post.relpath, fmt))
        if data is None:
            data = self.done[post.relpath, fmt] = self._render(post, content, fmt)
        return data

    def _render(self, post: Post, content: EntryContent, fmt: Format) -> bytes:
        if fmt == "json":  # as json.dumps(indent=2) writes it in the "items" list
            text = json.dumps(_json_item(self.config, post, content), ensure_ascii=False, indent=2)
            return ("    " + text.replace("\n", "\n    ")).encode("utf-8")
        from feedgen.entry import FeedEntry
        from lxml import etree

        fe = FeedEntry()
        fe.load_extension("dc", atom=False, rss=True)
        _fill_entry(fe, self.config, post, content)
        image = entry_image(self.config, post, content)
        # under a parent that declares what the document's root declares (and Media RSS,
        # which the entry declares itself when it has a picture)
        nsmap = {**_NAMESPACES[fmt], **({"media": MEDIA_NS} if image else {})}
        parent = etree.Element("feed" if fmt == "atom" else "rss", nsmap=nsmap)
        if fmt == "atom":
            parent.append(fe.atom_entry())
            element = parent[0]
            _fix_atom_entry(element, post)
            level = 1
        else:
            parent.append(fe.rss_entry())
            element = parent[0]
            _fix_rss_item(element, self.config, post, content)
            level = 2
        _add_media(None, [element], [image])
        etree.indent(element, space="  ", level=level)
        data: bytes = etree.tostring(element, encoding="UTF-8")
        tag, _, rest = data.partition(b">")  # the root declares these: not its entries
        return b"".join([b"  " * level, _DECLARED.sub(b"", tag), b">", rest, b"\n"])


#: What the document's root declares (so its entries need not).
_NAMESPACES: dict[str, dict[str, str]] = {
    "atom": {},
    "rss": {
        "dc": "http://purl.org/dc/elements/1.1/",
        "atom": ATOM_NS,
        "content": "http://purl.org/rss/1.0/modules/content/",
    },
}
_DECLARED = re.compile(rb' xmlns:(?:dc|atom|content)="[^"]*"')
_NO_ITEMS = b"[]\n}\n"


def _splice(head: bytes, end: bytes, entries: list[bytes]) -> bytes:
    """``head`` (a document without entries) with ``entries`` put before its last ``end``."""
    at = head.rindex(b"\n", 0, head.rindex(end)) + 1  # the start of its line
    return b"".join([head[:at], *entries, head[at:]])


def render_archive(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks,
    xml: EntryXml | None = None,
) -> list[FeedFile]:
    """The configured formats of one archive document (see :func:`render_group`); its
    entries come from ``xml`` (shared by the archives of one period)."""
    assert links.period is not None
    xml = xml or EntryXml(config)
    files = []
    sources = tuple(p.relpath for p in group.posts)
    empty = replace(group, posts=())
    fg = None
    for fmt in archive_formats(config, group.key):
        relpath = archive_relpath(group.key, links.period, fmt)
        url = feed_url(config, relpath)
        entries = [xml.get(p, contents[p.relpath], fmt) for p in group.posts]
        if fmt == "json":
            head = render_json(config, empty, contents, url, links)
            assert head.endswith(_NO_ITEMS)
            items = b",\n".join(entries)
            data = b"".join([head[: -len(_NO_ITEMS)], b"[\n", items, b"\n  ]\n}\n"])
        else:
            if fg is None:  # the head's updated is the newest entry's
                fg = _feedgen(config, group, contents, entries=False)
            render = render_atom if fmt == "atom" else render_rss
            head = render(fg, config, empty, url, contents, links)
            data = _splice(head, b"</feed>" if fmt == "atom" else b"</channel>", entries)
        files.append(
            FeedFile(relpath=relpath, data=data, url=url, group=group.key, sources=sources)
        )
    return files


def render_group(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None = None,
) -> list[FeedFile]:
    """The configured formats of one group's feed (Atom and RSS from one feedgen feed).

    ``links`` places it in the group's RFC 5005 archive chain: with a ``period`` it is that
    period's archive document (``<fh:archive/>``, linked ``current``, ``prev-archive`` and
    ``next-archive``: :func:`render_archive`); without, the subscription feed, linked
    ``prev-archive`` to the newest archive (``older``)."""
    if links is not None and links.period is not None:
        return render_archive(config, group, contents, links)
    files = []
    sources = tuple(p.relpath for p in group.posts)
    fg = None
    for fmt in config.feeds.formats:
        relpath = feed_relpath(group.key, fmt)
        url = feed_url(config, relpath)
        if fmt == "json":
            data = render_json(config, group, contents, url, links)
        else:
            fg = fg or _feedgen(config, group, contents)
            render = render_atom if fmt == "atom" else render_rss
            data = render(fg, config, group, url, contents, links)
        files.append(
            FeedFile(relpath=relpath, data=data, url=url, group=group.key, sources=sources)
        )
    if config.feeds.pages and group.kind != "site":  # the site's lists every group: see apply
        files.append(render_page_file(config, group, contents))
    return files


def render_page_file(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    listed: Mapping[GroupKey, Listing] | None = None,
) -> FeedFile:
    """A group's page for people (:mod:`feedwright.pages`) as an output file."""
    from .pages import render_page

    return FeedFile(
        relpath=page_relpath(group.key),
        data=render_page(config, group, contents, listed),
        url=page_url(config, group.key),
        group=group.key,
        sources=tuple(p.relpath for p in group.posts),
    )
