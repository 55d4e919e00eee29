"""One serializer: every document (subscription feed or archive; Atom, RSS, JSON Feed) is a
header, its entries' fragments rendered once, and a footer. Held byte-equal to the
reference's whole documents (feedgen's document path; ``json.dumps`` of the whole object)
over generated groups, and read back with real parsers."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
from conftest import atom_problems
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from reference import whole_documents

from feedwright.config import Config, parse_config
from feedwright.model import ArchiveLinks, Author, EntryContent, Group, Post
from feedwright.render import EntryXml, entry_fragments, render_group

MEDIA = "http://search.yahoo.com/mrss/"
FH = "http://purl.org/syndication/history/1.0"
SITE_URL = "https://news.example"

# What a post's text may hold once parsed (XML-illegal characters are removed by then).
chars = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in range(32) if c not in (9, 10, 13)] + ["\ufffe", "\uffff"],
) | st.sampled_from(list("株洲日报<>&\"' ]]>\u3000\n"))
texts = st.text(chars, max_size=30)
# Titles a reader would take for markup (written as HTML), and some it would not.
markup_titles = st.sampled_from(["a </b> c", "&lt;b&gt;", "&#x4E2D;", "1 < 2 & R&D", "R&D"])
offsets = st.integers(-12 * 4, 14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz, microsecond=0),
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2030, 1, 1)),
    offsets,
)
authors = st.none() | st.builds(
    Author,
    name=st.text(chars, min_size=1, max_size=10),
    email=st.none() | st.just("a@news.example"),
    uri=st.none() | st.just("https://news.example/me"),
)
htmls = st.sampled_from(
    ["", "<p>正文 &amp; R&amp;D</p>", '<p><img src="https://news.example/i.png"></p>']
) | texts.map(lambda t: f"<p>{t.replace('&', '&amp;').replace('<', '&lt;')}</p>")


@st.composite
def posts(draw: Any, i: int) -> tuple[Post, EntryContent]:
    published = draw(instants)
    url = f"{SITE_URL}/{i}.html"
    post = Post(
        relpath=f"_posts/p{i}.md",
        title=draw(st.text(chars, min_size=1, max_size=20) | markup_titles),
        published=published,
        updated=published + timedelta(hours=draw(st.integers(0, 3))),
        url=url,
        id=draw(st.sampled_from([url, f"urn:x-feedwright:{i}"])),
        categories=tuple(
            draw(st.lists(st.sampled_from(["news", "株洲"]), max_size=2, unique=True))
        ),
        tags=tuple(draw(st.lists(st.sampled_from(["R&D", "民生 新闻"]), max_size=2, unique=True))),
        author=draw(authors),
        excerpt=None,
        markup="html",
        lang=draw(st.sampled_from([None, "en", "zh-CN"])),
        image=draw(st.sampled_from([None, f"{SITE_URL}/uploads/{i}.jpg"])),
    )
    content = EntryContent(html=draw(htmls), summary=draw(texts))
    return post, content


@st.composite
def configs(draw: Any) -> Config:
    formats = draw(st.permutations(["atom", "rss", "json"]))[: draw(st.integers(1, 3))]
    feeds: dict[str, Any] = {
        "formats": formats,
        "content": draw(st.sampled_from(["full", "summary"])),
        "images": draw(st.sampled_from(["front_matter", "first"])),
        "archives": draw(st.sampled_from([False, "monthly"])),
        "archives_formats": draw(st.lists(st.sampled_from(formats), min_size=1, unique=True)),
        "archives_groups": draw(
            st.lists(st.sampled_from(["site", "categories", "tags"]), min_size=1, unique=True)
        ),
    }
    site: dict[str, Any] = {"title": "测试 & <站>", "url": SITE_URL, "author": {"name": "编辑部"}}
    if draw(st.booleans()):
        site |= {"description": "新闻 & R&D", "language": "zh-CN"}
    hubs = draw(st.sampled_from([[], ["https://hub.example/"]]))
    data = {"site": site, "source": ".", "feeds": feeds, "websub": {"hubs": hubs}}
    return parse_config(data, base=Path("/nonexistent"))


periods = st.sampled_from([None, "2021/12", "2022/01", "2022/03"])
links = (
    st.none()
    | st.builds(ArchiveLinks, st.none(), periods)
    | st.builds(ArchiveLinks, st.sampled_from(["2022/02", "2022/01"]), periods, periods)
)


@st.composite
def sites(draw: Any) -> tuple[Config, list[tuple[Group, ArchiveLinks | None]], dict[str, Any]]:
    """A config, posts, and groups (empty ones too) that share those posts."""
    config = draw(configs())
    pool = [draw(posts(i)) for i in range(draw(st.integers(0, 5)))]
    contents = {post.relpath: content for post, content in pool}
    groups = []
    for kind, slug, name in [("site", "", ""), ("category", "news", "News"), ("tag", "r-d", "R&D")]:
        mine = (
            draw(st.lists(st.sampled_from(pool), unique_by=lambda pc: pc[0].relpath))
            if pool
            else []
        )
        group = Group(kind, slug, name, tuple(p for p, _ in mine))
        groups.append((group, draw(links)))
    return config, groups, contents


@settings(max_examples=150, deadline=None)
@given(site=sites())
def test_documents_from_shared_fragments_equal_whole_documents(site):
    """Every group's documents, from fragments rendered once and shared by every group,
    are byte for byte what feedgen and json.dumps write for the whole document."""
    config, groups, contents = site
    xml = EntryXml(config)
    for group, where in groups:
        produced = render_group(config, group, contents, where, xml)
        expected = whole_documents(config, group, contents, where)
        pairs = zip([f for f in produced if not f.relpath.endswith(".html")], expected, strict=True)
        for made, whole in pairs:
            assert (made.relpath, made.url, made.sources) == (
                whole.relpath,
                whole.url,
                whole.sources,
            )
            assert made.data == whole.data, made.relpath
            _check(made.relpath, made.data)
    # each post's entry was rendered once, whatever the number of groups holding it
    assert set(xml.done) == {p.relpath for g, _ in groups for p in g.posts}


def _check(relpath: str, data: bytes) -> None:
    """A real parser reads it; Atom passes RFC 4287's schema; namespaces are the root's."""
    if relpath.endswith(".json"):
        assert json.loads(data)["version"] == "https://jsonfeed.org/version/1.1"
        return
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    if relpath.endswith("atom.xml"):
        assert atom_problems(data) == []
    root = etree.fromstring(data)
    declared = [el for el in root.iter() if el is not root and el.nsmap != root.nsmap]
    assert declared == [], "a namespace declared below the root"


def make_config(**feeds: Any) -> Config:
    data = {"site": {"title": "站", "url": SITE_URL}, "source": ".", "feeds": feeds}
    return parse_config(data, base=Path("/nonexistent"))


def one_post(**more: Any) -> Post:
    when = datetime(2022, 3, 7, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    fields: dict[str, Any] = {
        "relpath": "_posts/2022-03-07-a.md",
        "title": "甲 & <乙>",
        "published": when,
        "updated": when,
        "url": f"{SITE_URL}/a.html",
        "id": f"{SITE_URL}/a.html",
        "categories": ("news",),
        "tags": (),
        "author": None,
        "excerpt": None,
        "markup": "html",
    }
    return Post(**(fields | more))


def test_fragments_pickle_and_say_whether_the_entry_has_a_picture():
    config = make_config()
    post = one_post(image=f"{SITE_URL}/a.jpg")
    fragments = entry_fragments(config, post, EntryContent("<p>正文</p>", "正文"))
    assert pickle.loads(pickle.dumps(fragments)) == fragments
    assert sorted(fragments.data) == ["atom", "json", "rss"]
    assert fragments.picture
    assert b"media:thumbnail" in fragments.data["rss"] and b"xmlns" not in fragments.data["rss"]
    assert not entry_fragments(config, one_post(), EntryContent("<p>x</p>", "x")).picture


def test_media_rss_is_declared_at_the_root_only_with_a_picture():
    config = make_config(formats=["atom", "rss"])
    plain, pictured = one_post(), one_post(relpath="_posts/b.md", image=f"{SITE_URL}/b.jpg")
    contents = {p.relpath: EntryContent("<p>x</p>", "x") for p in (plain, pictured)}
    without = render_group(config, Group("site", "", "", (plain,)), contents)
    both = render_group(config, Group("site", "", "", (plain, pictured)), contents)
    for f in without:
        assert MEDIA.encode() not in f.data
    for f in both:
        root = etree.fromstring(f.data)
        assert root.nsmap["media"] == MEDIA
        assert f.data.count(b"xmlns:media") == 1


def test_an_archive_declares_rfc_5005_at_the_root():
    config = make_config(archives="monthly", archives_formats=["atom", "rss"])
    post = one_post()
    contents = {post.relpath: EntryContent("<p>x</p>", "x")}
    group = Group("category", "news", "news", (post,))
    for f in render_group(config, group, contents, ArchiveLinks("2022/03", "2022/02")):
        root = etree.fromstring(f.data)
        assert root.nsmap["fh"] == FH and f.data.count(b"xmlns:fh") == 1
        assert len(list(root.iter(f"{{{FH}}}archive"))) == 1


def test_a_post_with_no_text_has_its_title_as_text_in_every_format():
    """One entry_text rule: Atom summary, RSS description, JSON Feed summary and
    content_text all carry the title of a post that has no other text."""
    for mode, content in [("full", EntryContent("", "")), ("summary", EntryContent("<p/>", ""))]:
        config = make_config(content=mode)
        post = one_post()
        files = render_group(config, Group("site", "", "", (post,)), {post.relpath: content})
        data = {f.relpath: f.data for f in files}
        atom = feedparser.parse(data["atom.xml"]).entries[0]
        assert atom.summary == "甲 & <乙>"
        rss = etree.fromstring(data["rss.xml"]).find("channel/item")
        assert rss.findtext("description") == "甲 &amp; &lt;乙&gt;"  # HTML of the text
        item = json.loads(data["feed.json"])["items"][0]
        assert item["content_text"] == item["summary"] == "甲 & <乙>"


def test_entry_xml_renders_each_format_once_and_forgets():
    config = make_config()
    xml = EntryXml(config)
    post, content = one_post(), EntryContent("<p>x</p>", "x")
    atom = xml.fragments(post, content, ["atom"])
    assert list(atom.data) == ["atom"]
    both = xml.fragments(post, content, ["atom", "rss"])
    assert both.data["atom"] is atom.data["atom"]  # not rendered again
    assert both.data["rss"] == entry_fragments(config, post, content, ["rss"]).data["rss"]
    xml.forget(post.relpath)
    assert xml.done == {}
