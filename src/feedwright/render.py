"""Pure: a group's documents (its subscription feed and its RFC 5005 archives, in Atom,
RSS and JSON Feed) from its entries, and its page for people (:mod:`feedwright.pages`).

One path for every document: **its header, its entries' fragments, its footer**.

- :func:`entry_fragments` serializes an entry once per format into
  :class:`~feedwright.model.Fragments` (bytes: they pickle cheaply). A post's entry is the
  same in every group, so every document that holds it (the site's feed, its category's,
  each tag's, their archives) puts in the same bytes.
- :func:`render_document` writes one document: its header (feedgen's document without
  entries, :mod:`feedwright.feedxml`; the JSON Feed members but ``items``,
  :mod:`feedwright.jsonfeed`), the fragments in feed order, its footer. Namespaces are
  declared at the root: Media RSS only when an entry of the document has a picture (so
  feeds without pictures keep their bytes), RFC 5005's in archives. Where the header ends
  and the footer starts is documented in those two modules; no serialized XML is searched
  or rewritten.
- What the formats say alike (an entry's text and picture, a document's links) is decided
  once, in :mod:`feedwright.feedfacts`.

The engine's entry points are thin over these: :func:`render_group` (a group's feeds and
page), :func:`render_archive` (one archive) and :class:`EntryXml` (the fragments of a
task's entries, shared by its documents).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import feedxml, jsonfeed
from .config import Config
from .feedfacts import document_url, entry_image, is_archive
from .feedxml import looks_like_markup as looks_like_markup  # where the tests look for it
from .layout import archive_formats, archive_relpath, feed_relpath, page_relpath, page_url
from .model import (
    ArchiveLinks,
    EntryContent,
    FeedFile,
    Format,
    Fragments,
    Group,
    GroupKey,
    Listing,
    Post,
)


def entry_fragments(
    config: Config, post: Post, content: EntryContent, formats: Iterable[Format] | None = None
) -> Fragments:
    """The post's entry in each of ``formats`` (default: ``feeds.formats``), serialized as
    every document that holds it writes it."""
    formats = config.feeds.formats if formats is None else tuple(formats)
    data: dict[Format, bytes] = {}
    fe = None
    for fmt in formats:
        if fmt == "json":
            data[fmt] = jsonfeed.item_bytes(jsonfeed.json_item(config, post, content))
            continue
        if fe is None:  # one feedgen entry for Atom and RSS
            fe = feedxml.new_entry()
            feedxml.fill_entry(fe, config, post, content)
        data[fmt] = feedxml.entry_bytes(fe, fmt)
    return Fragments(data=data, picture=bool(entry_image(config, post, content)))


def render_document(
    config: Config,
    group: Group,
    fragments: Mapping[str, Fragments],
    links: ArchiveLinks | None,
    fmt: Format,
) -> bytes:
    """One document of the group in ``fmt``: its header, the fragments of ``group.posts``
    (by source path) in feed order, its footer. ``links`` places it in the group's RFC 5005
    chain: with a ``period``, that period's archive; without, the subscription feed (its
    ``older``: the newest archive)."""
    mine = [fragments[p.relpath] for p in group.posts]
    entries = [f.data[fmt] for f in mine]
    if fmt == "json":
        head = jsonfeed.head_bytes(jsonfeed.json_head(config, group, links))
        return jsonfeed.assemble(head, entries)
    picture = any(f.picture for f in mine)
    fg = feedxml.feed_head(config, group, fmt, links, picture=picture)
    return b"".join([feedxml.head_bytes(fg, fmt), *entries, feedxml.FOOTERS[fmt]])


class EntryXml:
    """The entries' fragments, each rendered once (in the formats first asked for, more
    when asked) however many documents hold it: one per task of documents (or per build,
    forgetting each post after the last document that holds it). Also the posts' items
    on the groups' pages, where they were rendered beforehand (:meth:`keep`)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.done: dict[str, Fragments] = {}
        #: Posts' items on pages (:func:`feedwright.pages.entry_item`), by source path.
        self.items: dict[str, str] = {}

    def keep(self, relpath: str, fragments: Fragments, item: str | None) -> None:
        """A post's fragments (and page item) rendered elsewhere: a worker process."""
        self.done[relpath] = fragments
        if item is not None:
            self.items[relpath] = item

    def fragments(self, post: Post, content: EntryContent, formats: Iterable[Format]) -> Fragments:
        have = self.done.get(post.relpath)
        if have is None:
            have = self.done[post.relpath] = entry_fragments(self.config, post, content, formats)
        elif missing := [f for f in formats if f not in have.data]:
            more = entry_fragments(self.config, post, content, missing).data
            have = self.done[post.relpath] = Fragments({**have.data, **more}, have.picture)
        return have

    def of(
        self, group: Group, contents: Mapping[str, EntryContent], formats: Iterable[Format]
    ) -> dict[str, Fragments]:
        """The fragments of a group's posts, by source path (``contents`` is read only for
        posts whose fragments in ``formats`` are not here yet)."""
        formats = tuple(formats)
        out = {}
        for p in group.posts:
            have = self.done.get(p.relpath)
            if have is None or any(f not in have.data for f in formats):
                have = self.fragments(p, contents[p.relpath], formats)
            out[p.relpath] = have
        return out

    def forget(self, relpath: str) -> None:
        """Let a post's fragments go (the last document that holds it is rendered)."""
        self.done.pop(relpath, None)
        self.items.pop(relpath, None)


def _documents(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None,
    formats: tuple[Format, ...],
    xml: EntryXml | None,
) -> list[FeedFile]:
    fragments = (xml or EntryXml(config)).of(group, contents, formats)
    sources = tuple(p.relpath for p in group.posts)
    files = []
    for fmt in formats:
        if links is not None and links.period is not None:
            relpath = archive_relpath(group.key, links.period, fmt)
        else:
            relpath = feed_relpath(group.key, fmt)
        data = render_document(config, group, fragments, links, fmt)
        url = document_url(config, group.key, fmt, links)
        files.append(
            FeedFile(relpath=relpath, data=data, url=url, group=group.key, sources=sources)
        )
    return files


def render_archive(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks,
    xml: EntryXml | None = None,
) -> list[FeedFile]:
    """One archive document of the group, in the formats its archives are written in
    (:func:`feedwright.layout.archive_formats`); its entries come from ``xml`` (shared by
    the archives of one task)."""
    assert links.period is not None
    return _documents(config, group, contents, links, archive_formats(config, group.key), xml)


def render_group(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    links: ArchiveLinks | None = None,
    xml: EntryXml | None = None,
) -> list[FeedFile]:
    """The configured formats of one group's feed, and its page (with ``feeds.pages``).

    ``links`` places it in the group's RFC 5005 archive chain: with a ``period`` it is that
    period's archive document (:func:`render_archive`); without, the subscription feed,
    linked ``prev-archive`` to the newest archive (``older``) in each format the group's
    archives are written in. ``xml`` shares entries' fragments between calls."""
    if is_archive(links):
        assert links is not None
        return render_archive(config, group, contents, links, xml)
    files = _documents(config, group, contents, links, config.feeds.formats, xml)
    if config.feeds.pages and group.kind != "site":  # the site's lists every group: see apply
        files.append(render_page_file(config, group, contents, items=xml.items if xml else None))
    return files


def render_page_file(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    listed: Mapping[GroupKey, Listing] | None = None,
    items: Mapping[str, str] | None = None,
) -> FeedFile:
    """A group's page for people (:mod:`feedwright.pages`) as an output file; ``items``:
    its posts' items already rendered."""
    from .pages import render_page

    return FeedFile(
        relpath=page_relpath(group.key),
        data=render_page(config, group, contents, listed, items),
        url=page_url(config, group.key),
        group=group.key,
        sources=tuple(p.relpath for p in group.posts),
    )
