"""Pages for people (#10): an ``index.html`` in every group folder, the site's listing every
group; written, skipped and removed like feeds; ``feeds.pages: false``; ``feeds --html``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import parse_page
from test_cache import feed_tree

from feedwright.config import load_config
from feedwright.engine import build

SLUG_URL = "https://news.example/feeds/tags/%E6%A0%AA%E6%B4%B2/"
NASTY = 'Tom & "Jerry" <b>bold</b> </script><script>alert(1)</script>'


def text(doc: Any) -> str:
    """The text of a parsed page, as a browser without CSS would read it."""
    return " ".join("".join(doc.itertext()).split())


def alternates(doc: Any) -> list[tuple[str, str, str]]:
    return [
        (link.get("type"), link.get("title"), link.get("href"))
        for link in doc.iter("link")
        if link.get("rel") == "alternate"
    ]


def page(site: Any, relpath: str) -> Any:
    return parse_page(site.read(relpath), relpath)


@pytest.fixture
def site(make_site):
    site = make_site(feeds={"limit": 2})
    site.post(
        "2022-03-07-a.md",
        {"title": "甲", "categories": "news", "tags": ["株洲"], "excerpt": "甲的摘要"},
    )
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "news", "tags": ["株洲"]})
    site.post(
        "2022-03-09-c.md",
        {"title": "丙", "date": "2022-03-09 09:00:00 -0500", "tags": ["株洲", "体育"]},
    )
    report = site.build()
    assert report.errors == ()
    return site


def test_every_group_folder_has_a_page_with_title_entries_and_subscribe(site):
    tree = feed_tree(site.out)
    pages = sorted(p for p in tree if p.endswith("index.html"))
    assert pages == [
        "categories/news/index.html",
        "index.html",
        "tags/体育/index.html",
        "tags/株洲/index.html",
    ]
    doc = page(site, "tags/株洲/index.html")
    assert doc.find(".//title").text == "测试站 · 株洲"
    assert doc.find(".//h1").text == "测试站 · 株洲"
    # The newest feeds.limit entries, newest first, linked to the posts, in the site's zone.
    entries = doc.findall(".//ol/li")
    assert [e.find(".//h3/a").text for e in entries] == ["丙", "乙"]
    assert entries[0].find(".//h3/a").get("href") == "https://news.example/2022/03/09/c.html"
    when = entries[0].find(".//time")
    assert (when.get("datetime"), when.text) == ("2022-03-09T22:00:00+08:00", "2022-03-09 22:00")
    assert "Asia/Shanghai" in text(doc)
    # Subscribe: each format's URL as text to copy, readable (the IRI), linked by its URI;
    # and the OPML.
    names = ("atom.xml", "rss.xml", "feed.json")
    shown = [c.text for c in doc.iter("code")]
    assert shown == [f"https://news.example/feeds/tags/株洲/{name}" for name in names]
    linked = [a.get("href") for a in doc.iter("a") if a.find("code") is not None]
    assert linked == [SLUG_URL + name for name in names]
    opml = [a for a in doc.iter("a") if a.text == "feeds.opml"]
    assert [a.get("href") for a in opml] == ["../../feeds.opml"]
    # Autodiscovery: a reader given the folder's URL finds the group's feeds.
    assert alternates(doc) == [
        ("application/atom+xml", "测试站 · 株洲 (Atom)", SLUG_URL + "atom.xml"),
        ("application/rss+xml", "测试站 · 株洲 (RSS)", SLUG_URL + "rss.xml"),
        ("application/feed+json", "测试站 · 株洲 (JSON Feed)", SLUG_URL + "feed.json"),
    ]
    assert doc.find(".//meta[@name='viewport']") is not None
    # Summaries: the excerpt when the post has one.
    assert "甲的摘要" not in text(doc)  # limit 2: 甲 is not among the newest
    assert "甲的摘要" in text(page(site, "categories/news/index.html"))


def rows(site: Any, relpath: str) -> list[Any]:
    return [tr for tr in page(site, relpath).iter("tr") if tr.find("td/a") is not None]


def test_the_site_page_lists_every_group_with_its_post_count_and_newest_date(site):
    doc = page(site, "index.html")
    assert doc.find(".//title").text == "测试站"
    listed = {
        tr.find("td/a").text: [text(td) for td in tr.findall("td")]
        for tr in rows(site, "index.html")
    }
    # Counts are every post of the group, not only the newest feeds.limit.
    assert listed == {
        "测试站": ["测试站", "3", "2022-03-09 22:00", "Atom RSS JSON Feed"],
        "news": ["news", "2", "2022-03-08 00:00", "Atom RSS JSON Feed"],
        "体育": ["体育", "1", "2022-03-09 22:00", "Atom RSS JSON Feed"],
        "株洲": ["株洲", "3", "2022-03-09 22:00", "Atom RSS JSON Feed"],
    }
    links = {a.text: a.get("href") for a in doc.iter("a")}
    assert links["株洲"] == "tags/%E6%A0%AA%E6%B4%B2/"
    assert links["news"] == "categories/news/"
    assert [h.text for h in doc.iter("h2")] == ["订阅", "最新文章", "全部订阅源"]


def test_counts_follow_posts_outside_the_feed_and_cached_builds_equal_full_ones(site, tmp_path):
    # 甲 is beyond feeds.limit in 株洲: deleting it changes no feed of the tag, but its count.
    before = feed_tree(site.out)
    (site.src / "_posts" / "2022-03-07-a.md").unlink()
    report = site.build()
    assert [p for p in report.written if p.startswith("tags/")] == ["tags/株洲/index.html"]
    assert "index.html" in report.written
    counts = {tr.find("td/a").text: text(tr.find("td[2]")) for tr in rows(site, "index.html")}
    assert counts == {"测试站": "2", "news": "1", "体育": "1", "株洲": "2"}
    after = feed_tree(site.out)
    assert {p for p in after if after[p] != before.get(p)} == set(report.written)
    full = tmp_path / "full"
    build(load_config(site.config_path, output=str(full)), now=site_now(), full=True)
    assert feed_tree(full) == after
    assert site.build().written == ()  # and a no-op rebuild writes nothing


def site_now():
    from conftest import NOW

    return NOW


def test_pages_of_a_group_that_goes_are_removed_and_foreign_files_are_kept(site):
    (site.out / "tags" / "体育" / "notes.html").write_text(
        "<!DOCTYPE html>\n<title>mine</title>\n", "utf-8"
    )
    (site.src / "_posts" / "2022-03-09-c.md").unlink()
    report = site.build()
    assert "tags/体育/index.html" in report.removed
    assert (site.out / "tags" / "体育" / "notes.html").read_text("utf-8").endswith("mine</title>\n")
    assert "体育" not in text(page(site, "index.html"))


def test_a_changed_page_on_disk_is_written_again(site):
    path = site.out / "tags" / "株洲" / "index.html"
    good = path.read_bytes()
    path.write_bytes(b"<p>defaced</p>")
    assert site.build().written == ("tags/株洲/index.html",)
    assert path.read_bytes() == good


def test_titles_summaries_and_names_are_text_never_markup(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        {"title": NASTY, "excerpt": NASTY, "categories": [NASTY], "tags": ["R&D", '"q"']},
    )
    site.build()
    for relpath in sorted(p for p in feed_tree(site.out) if p.endswith(".html")):
        data = site.read(relpath)
        doc = parse_page(data, relpath)  # no parse error, no <script> element
        assert not [e for e in doc.iter() if e.tag in ("script", "b")], relpath
        assert NASTY in text(doc) or "R&D" in text(doc) or '"q"' in text(doc), relpath
    home = page(site, "index.html")
    assert NASTY in [a.text for a in home.iter("a")]
    assert {"R&D", '"q"'} <= {a.text for a in home.iter("a")}
    titles = [t for _type, t, _href in alternates(page(site, "tags/r-d/index.html"))]
    assert titles[0] == "测试站 · R&D (Atom)"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-CN", ["订阅", "最新文章", "全部订阅源"]),
        ("zh-TW", ["订阅", "最新文章", "全部订阅源"]),
        ("en-US", ["Subscribe", "Newest posts", "All feeds"]),
        (None, ["Subscribe", "Newest posts", "All feeds"]),
    ],
)
def test_labels_follow_the_site_language(make_site, language, words):
    site = make_site(site={"language": language})
    site.post("2022-03-07-a.md", {"title": "A", "tags": ["x"]})
    site.build()
    doc = page(site, "index.html")
    assert [h.text for h in doc.iter("h2")] == words
    assert doc.get("lang") == (language or "en")
    assert [h.text for h in page(site, "tags/x/index.html").iter("h2")] == words[:2]


def test_an_empty_site_still_has_a_page(make_site):
    site = make_site(site={"language": "en"})
    (site.src / "_posts").mkdir(parents=True)
    site.build()
    assert "No posts yet." in text(page(site, "index.html"))


def test_pages_false_writes_none_and_turning_them_off_removes_them(site):
    site.settings["feeds"] = {"limit": 2, "pages": False}
    site.save()
    report = site.build()
    assert sorted(p for p in report.removed if p.endswith(".html")) == [
        "categories/news/index.html",
        "index.html",
        "tags/体育/index.html",
        "tags/株洲/index.html",
    ]
    assert not [p for p in feed_tree(site.out) if p.endswith(".html")]
    assert site.build().written == ()


@pytest.mark.parametrize("value", ["yes", 1, [True]])
def test_feeds_pages_of_the_wrong_type_is_a_config_error(make_site, value):
    site = make_site(feeds={"pages": value})
    site.post("2022-03-07-a.md", {"title": "A"})
    r = run_cli("build", "--config", str(site.config_path))
    assert r.returncode == 2
    assert "feeds.pages: expected true or false" in r.stderr
    assert "Traceback" not in r.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedwright", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


# -- feedwright feeds --html -------------------------------------------------------------------
def test_feeds_html_prints_the_sites_autodiscovery_tags(site):
    r = run_cli("feeds", "--html", "--config", str(site.config_path))
    assert r.returncode == 0, r.stderr
    doc = parse_snippet(r.stdout)
    assert doc == [
        ("application/atom+xml", "测试站 (Atom)", "https://news.example/feeds/atom.xml"),
        ("application/rss+xml", "测试站 (RSS)", "https://news.example/feeds/rss.xml"),
        ("application/feed+json", "测试站 (JSON Feed)", "https://news.example/feeds/feed.json"),
    ]
    assert doc == alternates(page(site, "index.html"))


def test_feeds_html_for_one_group_escapes_its_title(make_site):
    site = make_site(feeds={"formats": ["atom", "rss"]})
    site.post("2022-03-07-a.md", {"title": "A", "categories": [NASTY], "tags": ["株洲"]})
    site.build()
    r = run_cli(
        "feeds", "--html", "--group", f"category/{NASTY}", "--config", str(site.config_path)
    )
    assert r.returncode == 0, r.stderr
    assert "<script>" not in r.stdout and "<b>" not in r.stdout
    [(kind, title, href), _rss] = parse_snippet(r.stdout)
    assert (kind, title) == ("application/atom+xml", f"测试站 · {NASTY} (Atom)")
    assert href.startswith("https://news.example/feeds/categories/") and href.endswith("/atom.xml")
    folder = unquote(href.removeprefix("https://news.example/feeds/").removesuffix("atom.xml"))
    assert parse_snippet(r.stdout) == alternates(page(site, folder + "index.html"))
    tag = run_cli("feeds", "--html", "--group", "tag/株洲", "--config", str(site.config_path))
    assert parse_snippet(tag.stdout)[0][2] == SLUG_URL + "atom.xml"


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ("tag/nope", "--group: no tag 'nope' is published (tags: 体育, 株洲)"),
        ("category/株洲", "--group: no category '株洲' is published (categories: news)"),
        ("author/x", "--group: expected site, category/NAME or tag/NAME, got 'author/x'"),
        ("tag/", "--group: expected site, category/NAME or tag/NAME, got 'tag/'"),
    ],
)
def test_feeds_html_for_an_unknown_group_exits_2(site, group, message):
    r = run_cli("feeds", "--html", "--group", group, "--config", str(site.config_path))
    assert r.returncode == 2
    assert r.stderr.strip() == f"Error: {message}"
    assert r.stdout == ""


def test_group_without_html_is_a_usage_error(site):
    r = run_cli("feeds", "--group", "tag/株洲", "--config", str(site.config_path))
    assert r.returncode == 2 and "--group: only with --html" in r.stderr


def parse_snippet(out: str) -> list[tuple[str, str, str]]:
    """The printed tags, parsed as the ``<head>`` of an HTML5 page they are pasted into."""
    lines = out.splitlines()
    assert lines and all(line.startswith('<link rel="alternate" ') for line in lines)
    head = "<!DOCTYPE html>\n<html><head><title>t</title>\n" + out + "</head><body></body></html>\n"
    return alternates(parse_page(head.encode("utf-8")))


def test_the_committed_example_has_a_page_per_folder() -> None:
    feeds = Path(__file__).resolve().parent.parent / "feeds"
    folders = {p.parent for p in feeds.rglob("atom.xml")}
    assert folders and all((f / "index.html").is_file() for f in folders)


def test_a_post_rejected_for_a_duplicate_id_is_not_counted(make_site, tmp_path):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "A", "id": "urn:x:1", "tags": ["t"]})
    site.post("2022-03-08-b.md", {"title": "B", "id": "urn:x:1", "tags": ["t"]})
    site.post("2022-03-09-c.md", {"title": "C", "tags": ["t"]})
    assert len(site.build().errors) == 1
    counts = {tr.find("td/a").text: text(tr.find("td[2]")) for tr in rows(site, "index.html")}
    assert counts == {"测试站": "2", "t": "2"}
    (site.src / "_posts" / "2022-03-08-b.md").unlink()  # A is published again
    site.build()
    counts = {tr.find("td/a").text: text(tr.find("td[2]")) for tr in rows(site, "index.html")}
    assert counts == {"测试站": "2", "t": "2"}
    full = tmp_path / "full"
    build(load_config(site.config_path, output=str(full)), now=site_now(), full=True)
    assert feed_tree(full) == feed_tree(site.out)


def test_characters_html_cannot_hold_are_left_out_of_pages(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "A\x85B\x7fC\ufdd0D\U0010ffffE", "tags": ["t\x9f"]})
    site.build()  # every page passes the HTML5 parser (check_tree)
    assert "ABCDE" in [a.text for a in page(site, "tags/t/index.html").iter("a")]


# -- the readable URL (IRI) shown beside each feed's URI -------------------------------------
@pytest.mark.parametrize(
    ("uri", "iri"),
    [
        (SLUG_URL + "atom.xml", "https://news.example/feeds/tags/株洲/atom.xml"),
        ("https://x.example/caf%C3%A9/%e6%a0%aa", "https://x.example/café/株"),
        # ASCII escapes keep their meaning: a space, a slash inside a segment, a percent
        ("https://x.example/a%20b/c%2Fd/100%25", "https://x.example/a%20b/c%2Fd/100%25"),
        # not UTF-8, or cut short: left as they are
        ("https://x.example/%FF%E6%A0/%C3", "https://x.example/%FF%E6%A0/%C3"),
        # what could mislead or vanish stays escaped: bidi mark, ideographic space, NBSP
        (
            "https://x.example/%E2%80%8Fa%E3%80%80b%C2%A0",
            "https://x.example/%E2%80%8Fa%E3%80%80b%C2%A0",
        ),
    ],
)
def test_uri_to_iri_shows_only_what_reads_back_as_the_same_uri(uri, iri):
    import re

    from feedwright.urls import iri_to_uri, uri_to_iri

    def upper(u: str) -> str:  # %e6 and %E6 are the same octet
        return re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), u)

    assert uri_to_iri(uri) == iri
    assert iri_to_uri(iri) == upper(uri)


def test_uri_to_iri_round_trips_any_path():
    from hypothesis import given
    from hypothesis import strategies as st

    from feedwright.urls import escape_path, iri_to_uri, uri_to_iri

    @given(st.text(min_size=1, max_size=20))
    def round_trip(segment: str) -> None:
        uri = iri_to_uri("https://x.example/tags/" + escape_path(segment) + "/atom.xml")
        assert iri_to_uri(uri_to_iri(uri)) == uri

    round_trip()
