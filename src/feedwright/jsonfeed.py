"""Pure: JSON Feed 1.1 (https://jsonfeed.org/version/1.1): a document's head (every member
but ``items``) and each entry's item, which :mod:`feedwright.render` puts together.

A document is ``json.dumps(document, ensure_ascii=False, indent=2)`` and a newline, with
``items`` its last member (as the tests' reference writes it, whole). The seam: the head
is the document without ``items``, its closing ``\\n}`` replaced by ``,\\n  "items": [``;
an item's fragment is the item as ``json.dumps`` writes it inside the list (indented four
spaces); the items are joined by ``,\\n`` between ``\\n`` and the foot
``\\n  ]\\n}\\n`` (no items: ``]\\n}\\n``, as ``json.dumps`` writes ``[]``).
"""

from __future__ import annotations

import json

from .config import Config
from .feedfacts import document_url, entry_image, entry_text, has_html, is_archive, older_url
from .layout import group_page, group_title
from .model import ArchiveLinks, Author, EntryContent, Group, Post

VERSION = "https://jsonfeed.org/version/1.1"
_ITEMS = b',\n  "items": ['


def json_head(config: Config, group: Group, links: ArchiveLinks | None) -> dict[str, object]:
    """A document's members but ``items``."""
    site = config.site
    doc: dict[str, object] = {
        "version": VERSION,
        "title": group_title(config, group.kind, group.name),
        "home_page_url": group_page(config, group.key),
        "feed_url": document_url(config, group.key, "json", links),
    }
    if site.description:
        doc["description"] = site.description
    doc["authors"] = [_json_author(site.author)]
    if site.language:
        doc["language"] = site.language
    if config.websub.hubs and not is_archive(links):
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in config.websub.hubs]
    older = older_url(config, group.key, "json", links)
    if older is not None:  # the next (older) page of the history
        doc["next_url"] = older
    return doc


def json_item(config: Config, post: Post, content: EntryContent) -> dict[str, object]:
    """A post's item: its text as Atom and RSS have it (:func:`~.feedfacts.entry_text`)."""
    item: dict[str, object] = {"id": post.id, "url": post.url, "title": post.title}
    text = entry_text(config, post, content)
    if has_html(config, content):
        item["content_html"] = content.html
    else:
        item["content_text"] = text
    if text:
        item["summary"] = text
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


def _json_author(author: Author) -> dict[str, str]:
    out = {"name": author.name}
    if author.uri:
        out["url"] = author.uri
    return out


def head_bytes(head: dict[str, object]) -> bytes:
    """The document up to its first item (see the module)."""
    data = json.dumps(head, ensure_ascii=False, indent=2).encode("utf-8")
    assert data.endswith(b"\n}"), data[-100:]
    return data[:-2] + _ITEMS


def item_bytes(item: dict[str, object]) -> bytes:
    """An item's fragment: as ``json.dumps(indent=2)`` writes it in ``items``."""
    text = json.dumps(item, ensure_ascii=False, indent=2)
    return ("    " + text.replace("\n", "\n    ")).encode("utf-8")


def assemble(head: bytes, fragments: list[bytes]) -> bytes:
    """Head, items and foot (see the module)."""
    if not fragments:
        return head + b"]\n}\n"
    return b"".join([head, b"\n", b",\n".join(fragments), b"\n  ]\n}\n"])
