"""The engine's public face: ``list_feeds`` agrees with what the build published, and a
body that cannot be rendered at render time never empties an entry."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from conftest import NOW

from feedwright.cli import cli
from feedwright.engine import build, list_feeds

BAD = "title: [unclosed\n"  # raw front matter: invalid YAML


@pytest.fixture
def site(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport", "tags": ["体育"]})
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news"})
    return site


def opml_urls(site) -> list[str]:
    return [o.get("xmlUrl") for o in site.feed("feeds.opml").iter("outline") if o.get("xmlUrl")]


def listed_urls(site, fmt: str | None = "atom") -> list[str]:
    """The feeds ``list_feeds`` lists (of one format: the OPML lists each group's Atom feed)."""
    return [f.url for f in list_feeds(site.config, now=NOW) if fmt is None or f.format == fmt]


def test_list_feeds_is_what_the_opml_lists(site):
    site.build()
    assert listed_urls(site) == opml_urls(site)
    assert len(opml_urls(site)) == 5  # each group once
    every = listed_urls(site, None)  # list_feeds: every file of every group
    assert len(every) == 3 * 5
    assert {u.rsplit("/", 1)[0] for u in every} == {u.rsplit("/", 1)[0] for u in opml_urls(site)}


def test_list_feeds_includes_feeds_kept_because_a_post_turned_bad(site):
    site.build()
    site.post("2022-03-07-a.md", BAD)  # tag 株洲 had only this post: its feeds are kept
    report = site.build()
    assert report.rejected == 1 and "tags/株洲/atom.xml" in report.kept
    urls = listed_urls(site)
    assert urls == opml_urls(site)
    assert any("/tags/%E6%A0%AA%E6%B4%B2/" in u for u in urls)


def test_list_feeds_before_any_build_is_what_the_build_will_publish(site):
    before = listed_urls(site)
    assert not site.out.exists()  # a dry run writes nothing, not even a cache
    site.build()
    assert before == opml_urls(site)


def test_list_feeds_sees_changes_since_the_last_build(site):
    site.build()
    site.post("2022-03-10-d.md", {"title": "丁", "tags": ["新标签"]})
    urls = listed_urls(site)
    assert any("/tags/%E6%96%B0%E6%A0%87%E7%AD%BE/" in u for u in urls)  # (Atom: as the OPML)
    assert urls != opml_urls(site)  # not built yet
    site.build()
    assert urls == opml_urls(site)


def test_the_feeds_command_prints_what_the_opml_lists(site):
    site.build()
    site.post("2022-03-08-b.md", BAD)
    site.build()
    result = CliRunner().invoke(cli, ["feeds", "--config", str(site.config_path)])
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [url for _kind, _title, fmt, url in rows if fmt == "atom"] == opml_urls(site)
    assert len(rows) == 3 * len(opml_urls(site))  # every file, not only the OPML's


def test_a_body_that_changed_under_the_build_keeps_its_feeds(site):
    """The cache says a post is unchanged (same size and mtime), but its bytes are not what
    was parsed: its entry is not rendered from them, the feeds that need it stay as they
    were, and the next build (which reads the file again) publishes it."""
    site.build()
    news_before = site.read("categories/news/atom.xml")
    path = site.src / "_posts" / "2022-03-07-a.md"
    st = path.stat()
    data = path.read_bytes()
    swapped = data.replace("甲".encode(), "乙".encode())
    assert len(swapped) == len(data) and swapped != data
    path.write_bytes(swapped)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # what a scan cannot tell apart
    site.post("2022-03-11-e.md", {"title": "戊", "categories": "news"})  # news must render
    report = site.build()
    assert any(e.startswith("_posts/2022-03-07-a.md:") and "changed" in e for e in report.errors)
    assert site.read("categories/news/atom.xml") == news_before
    assert "categories/news/atom.xml" in report.kept
    assert [e.title for e in site.feed("categories/sport/atom.xml").entries] == ["乙"]
    os.utime(path)  # now the scan sees it
    report = site.build()
    assert report.errors == ()
    titles = [e.title for e in site.feed("categories/news/atom.xml").entries]
    assert titles == ["戊", "丙", "乙"]


def test_a_dry_run_changes_nothing_on_disk(site):
    site.build()
    cache = site.out / ".feedwright" / "cache.sqlite"
    before = {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file() and "-" not in p.name}
    site.post("2022-03-10-d.md", {"title": "丁", "categories": "news"})
    report = build(site.config, now=NOW, dry_run=True)
    assert report.posts == 4
    after = {p: p.read_bytes() for p in site.out.rglob("*") if p.is_file() and "-" not in p.name}
    assert after == before and cache in after
    assert build(site.config, now=NOW).written  # the real build still sees the change


def test_each_entry_is_serialized_once_a_build_however_many_feeds_hold_it(make_site, monkeypatch):
    """A post in the site's feed, its category's and three tags' is serialized once per
    format, and its item on the pages once (in the process that rendered its entry),
    and every feed and page holds those bytes."""
    from feedwright import pages, render

    site = make_site()
    names = [f"2022-03-0{i}-p{i}.md" for i in range(1, 7)]
    for i, name in enumerate(names):
        site.post(name, {"title": f"第{i}", "categories": "news", "tags": ["a", "b", "c"]})
    serialized: list[str] = []
    listed: list[str] = []
    real_fragments, real_item = render.entry_fragments, pages.entry_item

    def fragments(config, post, content, formats=None):  # the real serializer, counted
        serialized.append(post.relpath)
        return real_fragments(config, post, content, formats)

    def item(config, post, content):
        listed.append(post.relpath)
        return real_item(config, post, content)

    monkeypatch.setattr(render, "entry_fragments", fragments)
    monkeypatch.setattr(pages, "entry_item", item)
    site.build(full=True, jobs=1)
    paths = sorted(f"_posts/{n}" for n in names)
    assert sorted(serialized) == paths
    assert sorted(listed) == paths
    for feed in ("atom.xml", "categories/news/atom.xml", "tags/b/atom.xml"):
        assert len(site.feed(feed).entries) == 6
    assert site.read("tags/a/rss.xml").count(b"<item>") == 6
    for page in ("index.html", "categories/news/index.html", "tags/c/index.html"):
        assert site.read(page).count(b"<li>\n<h3>") == 6
