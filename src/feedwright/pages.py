"""Pure: the page for people in each group's folder (``index.html``), and the
``<link rel="alternate">`` tags a site's templates paste in (``feedwright feeds --html``).

Browsers no longer style feeds (XSLT is on its way out), so each folder gets a static
page: the group's title and description, a subscribe block with every feed URL to copy
and a link to ``feeds.opml``, the newest entries (title linked to the post, date and
time in the site's zone, summary), and autodiscovery tags, so a feed reader given the
folder's URL finds its feeds. The site's page, at the top, also lists every group with
its post count and newest date. Labels are Chinese for a ``zh-*`` site, else English.

Plain HTML5 with a little inline CSS and no JavaScript; every piece of text is escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime

from .config import Config
from .dates import zone
from .layout import (
    LABELS,
    MEDIA_TYPES,
    OPML,
    SITE,
    feed_relpath,
    feed_url,
    group_dir,
    group_order,
    group_title,
)
from .model import EntryContent, Group, GroupKey, Listing, Post
from .urls import escape_path, uri_to_iri

#: What HTML forbids in text: controls other than whitespace, and noncharacters.
_NOT_HTML = re.compile(
    "[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(
        f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
    )
    + "]"
)


def escape(text: str) -> str:
    """Text as HTML: escaped (quotes too), without the characters HTML cannot hold."""
    return html.escape(_NOT_HTML.sub("", text), quote=True)


_EN = {
    "category": "Category",
    "tag": "Tag",
    "categories": "Categories",
    "tags": "Tags",
    "site": "Whole site",
    "subscribe": "Subscribe",
    "copy": "Copy a feed's address into your feed reader:",
    "opml": "Every feed of the site at once:",
    "newest": "Newest posts",
    "none": "No posts yet.",
    "count": "Posts in all: {count} (the newest {shown} below).",
    "zone": "Times are in {zone}.",
    "all": "All feeds",
    "back": "All feeds of {site}",
    "feed": "Feed",
    "posts": "Posts",
    "latest": "Newest post",
    "formats": "Formats",
}
_ZH = {
    "category": "分类",
    "tag": "标签",
    "categories": "分类",
    "tags": "标签",
    "site": "全站",
    "subscribe": "订阅",
    "copy": "将订阅地址复制到您的阅读器中：",
    "opml": "一次订阅全站所有源：",
    "newest": "最新文章",
    "none": "暂无文章。",
    "count": "共 {count} 篇文章，以下为最新 {shown} 篇。",
    "zone": "时间为 {zone} 时区。",
    "all": "全部订阅源",
    "back": "{site}的全部订阅源",
    "feed": "订阅源",
    "posts": "文章数",
    "latest": "最新文章时间",
    "formats": "格式",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:46rem;overflow-wrap:anywhere;"
    "margin:0 auto;padding:1rem;color:#222;background:#fff}"
    "h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.2rem;margin-top:2rem}"
    "h3{font-size:1.05rem;margin:0}a{color:#0645ad}"
    ".subscribe{background:#f4f6f8;border-radius:.5rem;padding:.5rem 1rem}"
    "code{font-size:.9em}"
    "ol.entries{list-style:none;padding:0}ol.entries li{margin:0 0 1.2rem}"
    ".meta{color:#555;font-size:.9em;margin:.1rem 0}.summary{margin:.3rem 0}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.3rem;border-bottom:1px solid #ddd;vertical-align:top}"
    "td.n{text-align:right}"
)


def labels(config: Config) -> Mapping[str, str]:
    """The page's words: Chinese for a ``zh`` or ``zh-*`` site, English otherwise."""
    language = (config.site.language or "").lower()
    return _ZH if language == "zh" or language.startswith("zh-") else _EN


def local_time(config: Config, moment: datetime) -> datetime:
    """An instant as wall time in the site's zone."""
    return moment.astimezone(zone(config.site.timezone))


def alternate_links(
    config: Config, key: tuple[str, str], name: str, urls: Mapping[str, str] | None = None
) -> list[str]:
    """``<link rel="alternate">`` tags for a group's feeds (public URLs, titles escaped);
    ``urls``: the feeds' URLs (:func:`feed_urls`) when known."""
    title = group_title(config, key[0], name)
    urls = urls or feed_urls(config, key)
    return [
        f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
        f'title="{escape(f"{title} ({LABELS[fmt]})")}" '
        f'href="{escape(urls[fmt])}">'
        for fmt in config.feeds.formats
    ]


def feed_urls(config: Config, key: tuple[str, str]) -> dict[str, str]:
    """The public URLs of a group's feeds, by format."""
    return {fmt: feed_url(config, feed_relpath(key, fmt)) for fmt in config.feeds.formats}


def render_page(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    listed: Mapping[GroupKey, Listing] | None = None,
    items: Mapping[str, str] | None = None,
) -> bytes:
    """A group's ``index.html``; the site's also lists ``listed`` (every published group).
    ``items``: posts' :func:`entry_item` already rendered, by source path."""
    words = labels(config)
    urls = feed_urls(config, group.key)
    title = group_title(config, group.kind, group.name)
    up = "../../" if group.kind != "site" else ""
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(config.site.language or "en")}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        *alternate_links(config, group.key, group.name, urls),
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
    ]
    if group.kind != "site":
        back = words["back"].format(site=config.site.title)
        out.append(f'<p><a href="{up}">{escape(back)}</a></p>')
        out.append(f'<p class="meta">{escape(words[group.kind])}</p>')
    out.append(f"<h1>{escape(title)}</h1>")
    if config.site.description:
        out.append(f"<p>{escape(config.site.description)}</p>")
    out.append("</header>")
    out += _subscribe(config, urls, words, up)
    out += _entries(config, group, contents, words, items)
    if listed is not None:
        out += _directory(config, listed, words)
    out += ["</body>", "</html>", ""]
    return "\n".join(out).encode("utf-8")


def _subscribe(
    config: Config, urls: Mapping[str, str], words: Mapping[str, str], up: str
) -> list[str]:
    out = ['<section class="subscribe">', f"<h2>{escape(words['subscribe'])}</h2>"]
    if config.feeds.formats:
        out.append(f"<p>{escape(words['copy'])}</p>")
        out.append("<ul>")
        for fmt in config.feeds.formats:
            uri = urls[fmt]
            # the href is the URI; the text is the IRI, which people can read (株洲, not
            # %E6%A0%AA%E6%B4%B2) and feed readers accept pasted
            shown = escape(uri_to_iri(uri))
            out.append(f'<li>{LABELS[fmt]}: <a href="{escape(uri)}"><code>{shown}</code></a></li>')
        out.append("</ul>")
    opml = escape(up + OPML)
    out.append(f'<p>{escape(words["opml"])} <a href="{opml}">{OPML}</a> (OPML)</p>')
    out.append("</section>")
    return out


def _entries(
    config: Config,
    group: Group,
    contents: Mapping[str, EntryContent],
    words: Mapping[str, str],
    items: Mapping[str, str] | None,
) -> list[str]:
    out = ["<section>", f"<h2>{escape(words['newest'])}</h2>"]
    if not group.posts:
        return [*out, f"<p>{escape(words['none'])}</p>", "</section>"]
    count = words["count"].format(count=group.count, shown=len(group.posts))
    zone_note = words["zone"].format(zone=config.site.timezone)
    out.append(f'<p class="meta">{escape(count)} {escape(zone_note)}</p>')
    out.append('<ol class="entries">')
    for post in group.posts:
        item = items.get(post.relpath) if items is not None else None
        out.append(item or entry_item(config, post, contents.get(post.relpath)))
    out += ["</ol>", "</section>"]
    return out


def entry_item(config: Config, post: Post, content: EntryContent | None) -> str:
    """A post's item in the list of a page: the same lines on every page that shows the
    post (its category's, each tag's, the site's), so a build renders it once."""
    when = local_time(config, post.published)
    out = [
        "<li>",
        f'<h3><a href="{escape(post.url)}">{escape(post.title)}</a></h3>',
        f'<p class="meta"><time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time></p>',
    ]
    if content is not None and content.summary:
        out.append(f'<p class="summary">{escape(content.summary)}</p>')
    out.append("</li>")
    return "\n".join(out)


def _directory(
    config: Config, listed: Mapping[GroupKey, Listing], words: Mapping[str, str]
) -> list[str]:
    out = ["<section>", f"<h2>{escape(words['all'])}</h2>"]
    for kind, label in (("site", "site"), ("category", "categories"), ("tag", "tags")):
        keys = sorted((k for k in listed if k.kind == kind), key=group_order)
        if not keys:
            continue
        out.append(f"<h3>{escape(words[label])}</h3>")
        out.append("<table>")
        out.append(
            f"<tr><th>{escape(words['feed'])}</th><th>{escape(words['posts'])}</th>"
            f"<th>{escape(words['latest'])}</th><th>{escape(words['formats'])}</th></tr>"
        )
        for key in keys:
            out.append(_row(config, key, listed[key]))
        out.append("</table>")
    out.append("</section>")
    return out


def _row(config: Config, key: GroupKey, item: Listing) -> str:
    name = item.name if key != SITE else config.site.title
    href = escape(escape_path(group_dir(key)) or "./")
    newest = ""
    if item.newest:
        when = local_time(config, datetime.fromisoformat(item.newest))
        newest = f'<time datetime="{when.isoformat()}">{when:%Y-%m-%d %H:%M}</time>'
    formats = " ".join(
        f'<a href="{escape(escape_path(feed_relpath(key, fmt)))}">{LABELS[fmt]}</a>'
        for fmt in config.feeds.formats
    )
    return (
        f'<tr><td><a href="{href}">{escape(name)}</a></td><td class="n">{item.count}</td>'
        f"<td>{newest}</td><td>{formats}</td></tr>"
    )


def snippet(config: Config, key: tuple[str, str], name: str) -> str:
    """The autodiscovery tags a site template pastes into ``<head>`` (one a line)."""
    return "\n".join(alternate_links(config, key, name)) + "\n"


__all__ = ["alternate_links", "entry_item", "labels", "local_time", "render_page", "snippet"]
