"""Pure: a group and its entries' content → the bytes of its Atom, RSS and JSON feeds (and
of its page for people, :mod:`feedwright.pages`).

feedgen writes Atom and RSS; its defaults are overridden where they break ordering
(entries are appended in our order), determinism (every ``updated`` is set from the
posts, never ``now()``), or validity (hub links added to RSS, alternate link added
last so RSS ``<channel><link>`` is the site page, authors always present).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from . import __version__
from .config import Config
from .content import first_image
from .layout import (
    MEDIA_TYPES,
    feed_relpath,
    feed_url,
    group_page,
    group_title,
    page_relpath,
    page_url,
    project_home,
)
from .model import Author, EntryContent, FeedFile, Format, Group, GroupKey, Listing, Post

if TYPE_CHECKING:  # imported when rendering: a no-op build never pays for them
    from feedgen.feed import FeedGenerator
    from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Media RSS (https://www.rssboard.org/media-rss): the entry's picture for feed readers.
MEDIA_NS = "http://search.yahoo.com/mrss/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _feedgen(config: Config, group: Group, contents: Mapping[str, EntryContent]) -> FeedGenerator:
    """The group's feed with its entries, for both Atom and RSS (see :func:`_links`)."""
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
    for post in group.posts:
        _entry(fg, config, post, contents[post.relpath])
    return fg


def _links(fg: FeedGenerator, config: Config, group: Group, self_url: str, fmt: Format) -> None:
    """The feed's id and links for one format: self, hubs, and the alternate page last
    (RSS ``<channel><link>`` is feedgen's last link)."""
    fg.id(self_url)
    fg.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt], replace=True)
    for hub in config.websub.hubs:
        fg.link(href=hub, rel="hub")
    fg.link(href=group_page(config, group.key), rel="alternate", type="text/html")


def _entry(fg: FeedGenerator, config: Config, post: Post, content: EntryContent) -> None:
    fe = fg.add_entry(order="append")
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
    tree: etree._ElementTree, elements: list[etree._Element], images: list[str | None]
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
    if found:
        etree.cleanup_namespaces(tree, top_nsmap={"media": MEDIA_NS})


def render_atom(
    fg: FeedGenerator,
    config: Config,
    group: Group,
    self_url: str,
    contents: Mapping[str, EntryContent],
) -> bytes:
    _links(fg, config, group, self_url, "atom")
    root, tree = fg._create_atom()
    entries = root.findall("entry")
    for element, post in zip(entries, group.posts, strict=True):
        if post.lang:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", post.lang)
    _add_media(tree, entries, _images(config, group, contents))
    return _serialize(tree)


def _images(config: Config, group: Group, contents: Mapping[str, EntryContent]) -> list[str | None]:
    return [entry_image(config, p, contents[p.relpath]) for p in group.posts]


def render_rss(
    fg: FeedGenerator,
    config: Config,
    group: Group,
    self_url: str,
    contents: Mapping[str, EntryContent],
) -> bytes:
    _links(fg, config, group, self_url, "rss")
    root, tree = fg._create_rss()
    channel = root.find("channel")
    assert channel is not None
    items = channel.findall("item")
    for item, post in zip(items, group.posts, strict=True):
        # One credit per item: <dc:creator> always (a name needs no e-mail address); an
        # <author> beside it is the same fact twice (W3C: DuplicateItemSemantics).
        for author in item.findall("author"):
            item.remove(author)
        # <description> is HTML; when it holds the plain-text summary, that is escaped once
        # more (else `R&D` reaches readers as a broken entity; W3C: NotHtml).
        description = item.find("description")
        summary = _summary(config, post, contents[post.relpath])
        if description is not None and description.text and summary:
            description.text = html.escape(description.text, quote=False)
    _add_media(tree, items, _images(config, group, contents))
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    assert self_link is not None
    # feedgen writes only rel=self into RSS; hubs go right after it, before any <item>.
    for hub in reversed(config.websub.hubs):
        link = _element(f"{{{ATOM_NS}}}link", href=hub, rel="hub")
        self_link.addnext(link)
    return _serialize(tree)


def render_json(
    config: Config, group: Group, contents: Mapping[str, EntryContent], self_url: str
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
    if config.websub.hubs:
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in config.websub.hubs]
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


def render_group(
    config: Config, group: Group, contents: Mapping[str, EntryContent]
) -> list[FeedFile]:
    """The configured formats of one group's feed (Atom and RSS from one feedgen feed)."""
    files = []
    sources = tuple(p.relpath for p in group.posts)
    fg = None
    for fmt in config.feeds.formats:
        relpath = feed_relpath(group.key, fmt)
        url = feed_url(config, relpath)
        if fmt == "json":
            data = render_json(config, group, contents, url)
        else:
            fg = fg or _feedgen(config, group, contents)
            render = render_atom if fmt == "atom" else render_rss
            data = render(fg, config, group, url, contents)
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
