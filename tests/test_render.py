"""What the Atom, RSS, JSON Feed and OPML files say, read back with real parsers."""

from __future__ import annotations

import email.utils
import json
import re
from datetime import timedelta
from urllib.parse import quote

from conftest import ATOM, NOW, atom_problems, check_tree
from lxml import etree

from feedwright.config import load_config
from feedwright.engine import build

ATOM_LINK = ATOM + "link"
CJK_TAG = "株洲日报新闻"
CJK_TAG_URI = quote(CJK_TAG)  # %E6%A0%AA%E6%B4%B2%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB


def xml(site, relpath):
    return etree.fromstring(site.read(relpath))


def jsonfeed(site, relpath="feed.json"):
    return json.loads(site.read(relpath))


def feed_files(out):
    """Every output file but feedwright's own bookkeeping (``.feedwright/``)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".feedwright" not in p.relative_to(out).parts
    }


def links(el, rel):
    return [
        link.get("href") for link in el.findall(ATOM_LINK) if link.get("rel", "alternate") == rel
    ]


def test_atom_has_authors_one_alternate_and_percent_encoded_uris(make_site):
    site = make_site(feeds={"tag_page": "/tag/:slug.html"})
    site.post("2022-03-07-a.md", {"title": "甲", "tags": CJK_TAG, "author": "记者"})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": [CJK_TAG]})
    site.build()
    data = site.read(f"tags/{CJK_TAG}/atom.xml")
    assert atom_problems(data) == []
    root = etree.fromstring(data)
    self_url = f"https://news.example/feeds/tags/{CJK_TAG_URI}/atom.xml"
    assert root.findtext(ATOM + "id") == self_url
    assert links(root, "self") == [self_url]
    assert links(root, "alternate") == [f"https://news.example/tag/{CJK_TAG_URI}.html"]
    entries = root.findall(ATOM + "entry")
    assert [e.findtext(f"{ATOM}author/{ATOM}name") for e in entries] == ["编辑部", "记者"]
    assert [links(e, "alternate") for e in entries] == [
        ["https://news.example/2022/03/08/b.html"],
        ["https://news.example/2022/03/07/a.html"],
    ]
    rss = xml(site, f"tags/{CJK_TAG}/rss.xml")
    assert links(rss.find("channel"), "self") == [self_url.replace("atom.xml", "rss.xml")]
    assert jsonfeed(site, f"tags/{CJK_TAG}/feed.json")["feed_url"] == self_url.replace(
        "atom.xml", "feed.json"
    )
    # The checker itself catches the IRI that feedwright avoids.
    assert atom_problems(data.replace(CJK_TAG_URI.encode(), CJK_TAG.encode())) != []


def test_entries_newest_first_and_equal_instants_by_url(make_site):
    site = make_site()
    site.post("2022-03-07-b.md", {"title": "B", "date": "2022-03-07 08:00:00 +0800"})
    site.post("2022-03-07-a.md", {"title": "A", "date": "2022-03-07 00:00:00 Z"})
    site.post("2022-03-06-c.md", {"title": "C", "date": "2022-03-06 20:00:00 -0400"})
    site.post("2022-03-08-d.md", {"title": "D", "date": "2022-03-08 09:00:00 +0800"})
    site.post("2021-12-31-e.md", {"title": "E", "date": "2021-12-31"})
    site.build()
    expected = [
        "https://news.example/2022/03/08/d.html",
        # the same instant three times: URL ascending (c, the 6th in its own offset, is
        # the 7th in the site's zone, as its URL says)
        "https://news.example/2022/03/07/a.html",
        "https://news.example/2022/03/07/b.html",
        "https://news.example/2022/03/07/c.html",
        "https://news.example/2021/12/31/e.html",
    ]
    assert [e.findtext(ATOM + "id") for e in xml(site, "atom.xml").findall(ATOM + "entry")] == (
        expected
    )
    assert [i.findtext("link") for i in xml(site, "rss.xml").iter("item")] == expected
    assert [i["id"] for i in jsonfeed(site)["items"]] == expected
    assert [e.link for e in site.feed("rss.xml").entries] == expected


def test_feeds_limit_keeps_the_newest_posts_of_each_group(make_site):
    site = make_site(feeds={"limit": 2})
    for day in (1, 2, 3, 4):
        site.post(f"2022-03-0{day}-p{day}.md", {"title": f"P{day}", "categories": "news"})
    site.post("2022-02-01-old.md", {"title": "Old", "categories": "old"})
    site.build()
    for relpath in ("atom.xml", "rss.xml", "categories/news/atom.xml"):
        assert [e.title for e in site.feed(relpath).entries] == ["P4", "P3"]
    assert [i["title"] for i in jsonfeed(site)["items"]] == ["P4", "P3"]
    assert [e.title for e in site.feed("categories/old/atom.xml").entries] == ["Old"]


def test_feed_updated_is_the_newest_entry_updated_never_the_build_time(make_site, tmp_path):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        {"title": "A", "date": "2022-03-07 08:00:00 +0800", "updated": "2022-04-01 10:00:00 +0800"},
    )
    site.post("2022-03-10-b.md", {"title": "B", "date": "2022-03-10 09:00:00 +0800"})
    site.build(now=NOW)
    atom = xml(site, "atom.xml")
    assert atom.findtext(ATOM + "updated") == "2022-04-01T10:00:00+08:00"
    assert [e.findtext(ATOM + "updated") for e in atom.findall(ATOM + "entry")] == [
        "2022-03-10T09:00:00+08:00",
        "2022-04-01T10:00:00+08:00",
    ]
    assert xml(site, "rss.xml").findtext("channel/lastBuildDate") == (
        "Fri, 01 Apr 2022 10:00:00 +0800"
    )
    first = feed_files(site.out)
    assert sorted(first) == ["atom.xml", "feed.json", "feeds.opml", "index.html", "rss.xml"]
    # Another build, a year later, into another folder: the same bytes.
    other = tmp_path / "other"
    build(load_config(site.config_path, output=str(other)), now=NOW + timedelta(days=365))
    check_tree(other)
    assert feed_files(other) == first
    assert site.build(now=NOW + timedelta(days=30)).written == ()


def test_rss_channel_link_is_the_site_page_not_the_feed(make_site):
    site = make_site(
        feeds={"category_page": "/c/:slug/"}, websub={"hubs": ["https://hub.example/"]}
    )
    site.post("2022-03-07-a.md", {"title": "A", "categories": "news"})
    site.build()
    assert xml(site, "rss.xml").findtext("channel/link") == "https://news.example/"
    assert site.feed("rss.xml").feed.link == "https://news.example/"
    assert (
        xml(site, "categories/news/rss.xml").findtext("channel/link")
        == "https://news.example/c/news/"
    )


def test_rss_weekday_matches_the_date_in_its_offset(make_site, process_tz):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "A", "date": "2022-03-07 01:00:00 +0800"})
    site.post("2022-03-06-b.md", {"title": "B", "date": "2022-03-06 23:30:00 -0500"})
    site.post("2024-02-29-c.md", {"title": "C", "date": "2024-02-29 12:00:00"})
    site.build()
    dates = [i.findtext("pubDate") for i in xml(site, "rss.xml").iter("item")]
    assert dates == [
        "Thu, 29 Feb 2024 12:00:00 +0800",
        "Sun, 06 Mar 2022 23:30:00 -0500",
        "Mon, 07 Mar 2022 01:00:00 +0800",
    ]
    for text in dates:
        parsed = email.utils.parsedate_to_datetime(text)
        assert text.startswith(parsed.strftime("%a, "))


def test_guid_is_not_a_permalink_when_the_post_has_its_own_id(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md", {"title": "A", "id": "urn:uuid:0d6e7a52-1c3e-4f3a-9d1b-6b1c1e1f0a01"}
    )
    site.post("2022-03-08-b.md", {"title": "B"})
    site.build()
    guids = [(g.get("isPermaLink"), g.text) for g in xml(site, "rss.xml").iter("guid")]
    assert guids == [
        ("true", "https://news.example/2022/03/08/b.html"),
        ("false", "urn:uuid:0d6e7a52-1c3e-4f3a-9d1b-6b1c1e1f0a01"),
    ]
    entry = site.feed("atom.xml").entries[1]
    assert entry.id == "urn:uuid:0d6e7a52-1c3e-4f3a-9d1b-6b1c1e1f0a01"
    assert entry.link == "https://news.example/2022/03/07/a.html"
    item = jsonfeed(site)["items"][1]
    assert (item["id"], item["url"]) == (entry.id, entry.link)


def test_websub_hubs_in_every_format(make_site):
    hubs = ["https://hub.example/", "https://pubsubhubbub.appspot.com/"]
    site = make_site(websub={"hubs": hubs})
    site.post("2022-03-07-a.md", {"title": "A"})
    site.post("2022-03-08-b.md", {"title": "B"})
    site.build()
    assert links(xml(site, "atom.xml"), "hub") == hubs
    channel = xml(site, "rss.xml").find("channel")
    children = list(channel)
    hub_links = [c for c in children if c.tag == ATOM_LINK and c.get("rel") == "hub"]
    assert [c.get("href") for c in hub_links] == hubs
    first_item = children.index(channel.find("item"))
    assert all(children.index(c) < first_item for c in hub_links)
    assert jsonfeed(site)["hubs"] == [{"type": "WebSub", "url": h} for h in hubs]


def test_no_hubs_means_no_hub_links(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "A"})
    site.build()
    assert links(xml(site, "atom.xml"), "hub") == []
    assert b'rel="hub"' not in site.read("rss.xml")
    assert "hubs" not in jsonfeed(site)


def test_summary_mode_omits_the_content(make_site):
    site = make_site(feeds={"content": "summary"})
    site.post("2022-03-07-a.md", {"title": "A"}, body="<p>第一段。</p>\n\n<p>第二段。</p>")
    site.build()
    entry = xml(site, "atom.xml").find(ATOM + "entry")
    assert entry.find(ATOM + "content") is None
    assert entry.findtext(ATOM + "summary") == "第一段。 第二段。"
    item = xml(site, "rss.xml").find("channel/item")
    assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is None
    assert item.findtext("description") == "第一段。 第二段。"
    json_item = jsonfeed(site)["items"][0]
    assert "content_html" not in json_item
    assert json_item["content_text"] == "第一段。 第二段。"


def test_title_with_markup_characters_round_trips(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "1 < 2 & R&D", "categories": ["R&D <实验室>"]})
    site.build()
    for relpath in ("atom.xml", "rss.xml", "categories/r-d-实验室/atom.xml"):
        assert site.feed(relpath).entries[0].title == "1 < 2 & R&D"
    assert jsonfeed(site)["items"][0]["title"] == "1 < 2 & R&D"
    assert site.feed("categories/r-d-实验室/atom.xml").feed.title == "测试站 · R&D <实验室>"


def test_cjk_is_written_as_utf8_never_as_character_references(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        {"title": "株洲　日报", "tags": ["株洲"]},
        body="<p>　　株洲日报讯&nbsp;正文</p>",
    )
    site.build()
    for relpath in ("atom.xml", "rss.xml", "tags/株洲/atom.xml", "feeds.opml"):
        data = site.read(relpath)
        assert "株洲".encode() in data
        assert re.search(rb"&#(x[0-9a-fA-F]+|[0-9]+);", data) is None, relpath
    assert b"\\u" not in site.read("feed.json")
    assert site.feed("atom.xml").entries[0].title == "株洲\u3000日报"  # U+3000 kept
    assert "<p>\u3000\u3000株洲日报讯&nbsp;正文</p>" in jsonfeed(site)["items"][0]["content_html"]


def test_xml_illegal_characters_are_removed(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        {"title": "标\x0b题\x00", "tags": ["标签\x1b"], "excerpt": "摘\x08要"},
        body="<p>正\x00文\x1b结束\ufffe</p>",
    )
    site.build()
    entry = xml(site, "atom.xml").find(ATOM + "entry")
    assert entry.findtext(ATOM + "title") == "标题"
    assert [c.get("term") for c in entry.findall(ATOM + "category")] == ["标签"]
    assert entry.findtext(ATOM + "summary") == "摘要"
    assert entry.findtext(ATOM + "content") == "<p>正文结束</p>"
    assert (site.out / "tags" / "标签" / "atom.xml").is_file()


def test_json_feed_1_1_shape(make_site):
    site = make_site(site={"description": "湖南新闻"}, websub={"hubs": ["https://hub.example/"]})
    site.post(
        "2022-03-07-a.md",
        {
            "title": "甲",
            "date": "2022-03-07 08:30:46 +0800",
            "updated": "2022-03-08 09:00:00 +0800",
            "categories": "zhuzhouribao",
            "tags": ["株洲", "民生"],
            "author": {"name": "记者", "uri": "https://news.example/about/"},
            "excerpt": "摘要。",
            "image": "/img/a.jpg",
            "lang": "zh-Hans",
        },
        body="<p>正文。</p>",
    )
    site.build()
    url = "https://news.example/zhuzhouribao/2022/03/07/a.html"
    assert jsonfeed(site) == {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "测试站",
        "home_page_url": "https://news.example/",
        "feed_url": "https://news.example/feeds/feed.json",
        "description": "湖南新闻",
        "authors": [{"name": "编辑部"}],
        "language": "zh-CN",
        "hubs": [{"type": "WebSub", "url": "https://hub.example/"}],
        "items": [
            {
                "id": url,
                "url": url,
                "title": "甲",
                "content_html": "<p>正文。</p>",
                "summary": "摘要。",
                "image": "https://news.example/img/a.jpg",
                "date_published": "2022-03-07T08:30:46+08:00",
                "date_modified": "2022-03-08T09:00:00+08:00",
                "authors": [{"name": "记者", "url": "https://news.example/about/"}],
                "tags": ["zhuzhouribao", "株洲", "民生"],
                "language": "zh-Hans",
            }
        ],
    }
    assert site.read("feed.json").endswith(b"}\n")


def test_opml_lists_each_group_once_in_one_of_the_configured_formats(make_site):
    site = make_site(feeds={"formats": ["atom", "json"]})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲", "R&D"]})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": "民生"})
    site.build()
    written = sorted(
        p.relative_to(site.out).as_posix()
        for p in site.out.rglob("*")
        if p.is_file() and p.suffix in (".xml", ".json") and ".feedwright" not in p.parts
    )
    assert not any(p.endswith("rss.xml") for p in written)
    assert len(written) == 5 * 2  # site, news, 株洲, r-d, 民生
    opml = xml(site, "feeds.opml")
    assert opml.get("version") == "2.0"
    urls = [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
    atom = [p for p in written if p.endswith("atom.xml")]  # each group once, Atom first
    assert sorted(urls) == sorted("https://news.example/feeds/" + quote(p) for p in atom)
    titles = {o.get("title") for o in opml.iter("outline") if o.get("xmlUrl")}
    assert titles == {"测试站", "测试站 · news", "测试站 · 株洲", "测试站 · R&D", "测试站 · 民生"}


def test_group_feeds_link_to_the_home_page_unless_a_page_template_is_set(make_site):
    site = make_site(site={"url": "https://news.example/站点/"})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "要闻", "tags": [CJK_TAG]})
    site.build()
    home = "https://news.example/%E7%AB%99%E7%82%B9/"
    for relpath in ("categories/要闻/atom.xml", f"tags/{CJK_TAG}/atom.xml"):
        assert links(xml(site, relpath), "alternate") == [home]
        assert site.feed(relpath.replace("atom.xml", "rss.xml")).feed.link == home
        assert jsonfeed(site, relpath.replace("atom.xml", "feed.json"))["home_page_url"] == home
    site.settings["feeds"] = {"category_page": "/c/:slug/"}
    site.save()
    site.build()
    category = "categories/要闻/atom.xml"
    assert links(xml(site, category), "alternate") == [f"{home}c/{quote('要闻')}/"]
    assert links(xml(site, f"tags/{CJK_TAG}/atom.xml"), "alternate") == [home]


def test_the_atom_generator_names_feedwright_and_points_nowhere_invented(make_site):
    """No placeholder URL: the project has no public home yet, so ``[project.urls]`` is
    empty and the generator carries its name and version but no ``uri`` (#19)."""
    import tomllib
    from pathlib import Path

    from feedwright import __version__
    from feedwright.layout import project_home

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    assert "urls" not in tomllib.loads(pyproject.read_text("utf-8"))["project"]
    assert project_home() is None  # the installed metadata says the same
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲"})
    site.build()
    generator = xml(site, "atom.xml").find(ATOM + "generator")
    assert generator is not None
    assert (generator.text, generator.get("version")) == ("feedwright", __version__)
    assert "uri" not in generator.attrib
    assert site.feed("atom.xml").feed.generator_detail == {
        "name": "feedwright",
        "version": __version__,
    }
    rss = etree.fromstring(site.read("rss.xml"))
    assert rss.findtext("channel/generator") == "feedwright"


def test_the_generator_home_is_read_from_the_distributions_project_urls(tmp_path, monkeypatch):
    """When the project gets a real home, ``Project-URL: Homepage`` (from
    ``[project.urls]``) is what the generator's ``uri`` becomes."""
    from feedwright.layout import project_home

    info = tmp_path / "feedwright_home_probe-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: feedwright-home-probe\nVersion: 1.0\n"
        "Project-URL: Source, https://code.example/probe\n"
        "Project-URL: Homepage, https://home.example/probe\n",
        "utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert project_home("feedwright-home-probe") == "https://home.example/probe"


def test_generator_home_falls_back_to_none_without_metadata():
    from feedwright.layout import project_home

    assert project_home("no-such-distribution-feedwright-test") is None
