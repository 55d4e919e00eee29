"""A clean record with the reference validator: every Atom and RSS feed of the example site
and of a rich test site goes through the W3C Feed Validation Service's own code
(``../shared/tools/feedvalidator``, which needs html5lib): no errors, and no warnings but
``DuplicateUpdated`` where two entries really share an instant. The validator is on neither
PyPI nor Debian: where ``../shared`` does not have it, these tests skip."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ATOM, NOW, ROOT, check_tree, shared_tool
from lxml import etree

from feedwright.config import load_config
from feedwright.engine import build

#: The one warning a feed may draw, when two of its entries share an instant.
ALLOWED = {"DuplicateUpdated"}


def _validator() -> Any:
    """The W3C validator's package (and its ``logging``, ``compatibility`` modules); the
    test skips where it is absent."""
    validator = shared_tool("tools/feedvalidator/feedvalidator/__init__.py").parent.parent
    if str(validator) not in sys.path:
        sys.path.insert(0, str(validator))
    import feedvalidator
    import feedvalidator.compatibility
    import feedvalidator.logging

    return feedvalidator


def w3c(data: bytes) -> tuple[list[str], list[str]]:
    """The validator's errors and warnings for one feed, as validator.w3.org/feed shows
    them (``Name (line N)``), validated at its ``rel="self"`` URL."""
    fv = _validator()
    root = etree.fromstring(data)
    base = next(
        (link.get("href") for link in root.iter(ATOM + "link") if link.get("rel") == "self"), ""
    )
    try:
        events = fv.validateString(data, firstOccurrenceOnly=1, base=base)["loggedEvents"]
    except fv.logging.ValidationFailure as failure:
        events = [failure.event]
    events = fv.compatibility.AA(events)

    def label(e: Any) -> str:
        return f"{type(e).__name__} (line {e.params.get('line', '?')})"

    errors = [label(e) for e in events if isinstance(e, fv.logging.Error)]
    warnings = [label(e) for e in events if isinstance(e, fv.logging.Warning)]
    return errors, warnings


def xml_feeds(out: Path) -> Iterator[Path]:
    for path in sorted(out.rglob("*.xml")):
        if ".feedwright" not in path.parts:
            yield path


def shared_instants(data: bytes) -> bool:
    """Two entries (items) of the feed have the same ``updated`` instant."""
    root = etree.fromstring(data)
    if root.tag == ATOM + "feed":
        values = [e.findtext(ATOM + "updated") for e in root.findall(ATOM + "entry")]
    else:
        values = [i.findtext("pubDate") for i in root.iter("item")]
    return len(values) != len(set(values))


def assert_clean(out: Path) -> int:
    checked = 0
    problems = []
    for path in xml_feeds(out):
        data = path.read_bytes()
        errors, warnings = w3c(data)
        allowed = ALLOWED if shared_instants(data) else set()
        unexpected = [w for w in warnings if w.split()[0] not in allowed]
        rel = path.relative_to(out).as_posix()
        problems += [f"{rel}: error {e}" for e in errors]
        problems += [f"{rel}: warning {w}" for w in unexpected]
        checked += 1
    assert problems == []
    return checked


def test_the_validator_finds_what_it_should(make_site):
    """The validator is live: the two warnings the example drew before are still found."""
    rss = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        b"<channel><title>t</title><link>https://a.example/</link><description>d</description>"
        b'<atom:link href="https://a.example/rss.xml" rel="self" type="application/rss+xml"/>'
        b"<item><title>x</title><link>https://a.example/x</link>"
        b"<description>R&amp;D &amp; more</description>"
        b"<author>a@a.example (A)</author><dc:creator>A</dc:creator>"
        b'<guid isPermaLink="true">https://a.example/x</guid>'
        b"<pubDate>Mon, 07 Mar 2022 08:30:46 +0800</pubDate></item></channel></rss>"
    )
    errors, warnings = w3c(rss)
    assert errors == []
    assert {w.split()[0] for w in warnings} == {"DuplicateItemSemantics", "NotHtml"}


def test_the_example_site_is_clean(tmp_path: Path):
    shutil.copytree(ROOT / "example", tmp_path / "example")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    config = load_config(tmp_path / "config.yaml")
    report = build(config, now=NOW)
    assert report.errors == ()
    check_tree(config.output)
    assert assert_clean(config.output) == 44  # the Atom and RSS feeds of 22 groups


def test_the_committed_example_feeds_are_clean():
    assert assert_clean(ROOT / "feeds") == 44


RICH_POSTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "2022-03-07-rd.md",
        {
            "title": "研发投入对比：1 < 2 & R&D",
            "date": "2022-03-07 08:30:46 +0800",
            "categories": ["长沙晚报"],
            "tags": ["株洲日报新闻", "R&D", "C++", '"引号"'],
            "excerpt": "企业研发（R&D）投入 <b>仍有</b> 1 < 2 & 提升空间 &amp;",
            "author": {"name": "记者 <李明>", "email": "li@news.example"},
            "image": "/uploads/研发 投入.jpg",
        },
        "<p>　　长沙晚报讯 R&amp;D <a href='/x?a=1&b=2'>链接</a></p>\n",
    ),
    (
        "2022-03-07-same-instant.md",
        {
            "title": "同一时刻",
            "date": "2022-03-07 08:30:46 +0800",
            "tags": ["株洲日报新闻"],
            "author": "只有名字",
            "lang": "zh-Hans",
        },
        "正文 *Markdown*，<http://finews.zning.xyz/a?b=1> 与 [返回](//finews.example/c.html)\n\n"
        '<p><img src="images/图 1.png" alt="图"></p>\n',
    ),
    (
        "2022-03-08-own-id.md",
        {
            "title": "Own id",
            "date": "2022-03-08T09:00:00-05:00",
            "updated": "2022-03-09 10:00:00 +0800",
            "id": "tag:news.example,2022:own-id",
            "tags": "民生 交通",
            "author": {"name": "Editor", "uri": "https://news.example/about/"},
            "image": {"path": "https://cdn.example/a.png"},
        },
        "Before<!--more-->After <script>alert(1)</script>"
        "<video src='v.mp4' poster='p.jpg'></video>",
    ),
    ("2022-03-09-plain.html", {"title": "纯 HTML"}, "<p>株洲日报讯 纯文本摘要。</p>"),
    ("2022-03-10-empty.md", {"title": "空 & <空>"}, ""),
]


@pytest.mark.parametrize("content", ["full", "summary"])
def test_a_rich_site_is_clean(make_site, content: str):
    site = make_site(
        site={"baseurl": "/blog", "description": "新闻 & R&D <聚合>"},
        feeds={"content": content, "images": "first", "tag_page": "/tag/:slug.html"},
        websub={"hubs": ["https://hub.example/"]},
    )
    for name, front_matter, body in RICH_POSTS:
        site.post(name, front_matter, body)
    report = site.build()
    assert report.errors == ()
    parsed = site.feed("rss.xml")
    by_title = {e.title: e for e in parsed.entries}
    rd = by_title["研发投入对比：1 < 2 & R&D"]
    # RSS <description> is HTML: the plain-text summary reads back as the text it was.
    assert rd.summary == "企业研发（R&amp;D）投入 仍有 1 &lt; 2 &amp; 提升空间 &amp;"
    assert rd.author == "记者 <李明>"
    assert by_title["同一时刻"].author == "只有名字"
    assert "href" not in rd.get("author_detail", {})
    # An empty post's entries carry its title as their text.
    assert by_title["空 & <空>"].summary == "空 &amp; &lt;空&gt;"
    atom = site.feed("atom.xml")
    assert [e.summary for e in atom.entries if e.title == "空 & <空>"] == ["空 & <空>"]
    assert assert_clean(site.out) > 10


ODD_POSTS: list[tuple[str, dict[str, Any], str]] = [
    ("2024-05-01-entity.md", {"title": "Fish &amp; Chips", "lang": "en_GB"}, "x"),
    ("2024-05-02-numeric.md", {"title": "&#x4E2D;文 &#20013;"}, "x"),
    ("2024-05-03-looks.md", {"title": "1 < 2 & 3 > 2"}, "x"),
    ("2024-05-04-tag.md", {"title": "a </b> c"}, "x"),
    ("2024-05-05-start.md", {"title": "x <b> y &amp;lt;i&amp;gt;"}, "x"),
    (
        "2024-05-06-odd urls.md",
        {
            "title": "奇怪的 URL",
            "permalink": "/odd/a b{c}|d^e`f\\g/",
            "image": '/uploads/a b{c}|"d".png',
            "author": {"name": "A", "uri": "https://a.example/a b<c>"},
            "categories": ["C++ <新闻>"],
        },
        '<p><a href="/x y<z>{a}|b^c`d">链接</a> <img src=\'/图 片/"c" d.png\' alt="x"></p>'
        '<p><a href="https://ext.example/a b?q=a b#x#y">外链</a></p>',
    ),
]


def test_entity_titles_zh_cn_and_odd_urls_are_clean(make_site):
    """#17 "done when": no errors, and no warnings but DuplicateUpdated, on a site with
    entity titles, ``lang: zh_CN`` and URLs full of characters a URI may not hold."""
    site = make_site(site={"language": "zh_CN"}, feeds={"images": "first"})
    for name, front_matter, body in ODD_POSTS:
        site.post(name, front_matter, body)
    report = site.build()
    assert report.errors == ()
    root = etree.fromstring(site.read("atom.xml"))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert b"<language>zh-CN</language>" in site.read("rss.xml")
    assert b'<html lang="zh-CN">' in site.read("index.html")
    items = json.loads(site.read("feed.json"))["items"]
    assert [i["title"] for i in items][-3:] == ["1 < 2 & 3 > 2", "中文 中", "Fish & Chips"]
    assert items[0]["url"] == "https://news.example/odd/a%20b%7Bc%7D%7Cd%5Ee%60f%5Cg/"
    assert assert_clean(site.out) == 4
