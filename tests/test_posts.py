"""Front matter → post: categories, tags, authors, ids and permalinks, as Jekyll builds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedwright.slug import slugify, slugify_pretty

DATE = "2022-03-07 08:30:46 +0800"


def entry(site, feed: str = "atom.xml", index: int = 0):
    return site.feed(feed).entries[index]


def terms(e) -> list[str]:
    return [t.term for t in e.get("tags", [])]


def group_dirs(site, kind: str) -> list[str]:
    folder = site.out / kind
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- categories and tags ------------------------------------------------------------------


def test_categories_come_from_folders_above_posts_and_front_matter(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"date": DATE, "categories": ["Extra"]}, folder="Tech/新闻/_posts")
    site.post("2022-03-06-b.md", {"date": "2022-03-06"}, folder="_posts/sub/deeper")
    report = site.build()
    assert report.errors == ()
    a, b = site.feed("atom.xml").entries
    assert terms(a) == ["Tech", "新闻", "Extra"]
    assert a.link == "https://news.example/tech/%E6%96%B0%E9%97%BB/extra/2022/03/07/a.html"
    assert terms(b) == []
    assert b.link == "https://news.example/2022/03/06/b.html"
    assert group_dirs(site, "categories") == ["extra", "tech", "新闻"]
    assert [e.title for e in site.feed("categories/新闻/atom.xml").entries] == ["A"]


def test_singular_category_wins_and_is_never_split(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        {"date": DATE, "category": "Daily News", "categories": ["ignored", "too"]},
    )
    site.post("2022-03-06-b.md", {"date": "2022-03-06", "tag": "株洲 日报", "tags": "x y"})
    assert site.build().errors == ()
    a, b = site.feed("atom.xml").entries
    assert terms(a) == ["Daily News"]
    assert a.link == "https://news.example/daily%20news/2022/03/07/a.html"
    assert terms(b) == ["株洲 日报"]
    assert group_dirs(site, "categories") == ["daily-news"]
    assert group_dirs(site, "tags") == ["株洲-日报"]


@pytest.mark.parametrize("key", ["categories", "tags"])
def test_plural_string_splits_on_ascii_whitespace_only(make_site, key):
    site = make_site()
    value = "株洲\u3000日报 新闻\u00a0x\tthird\n  fourth "
    site.post("2022-03-07-a.md", f"date: {DATE}\n{key}: {json.dumps(value)}\n")
    assert site.build().errors == ()
    expected = ["株洲\u3000日报", "新闻\u00a0x", "third", "fourth"]
    assert terms(entry(site)) == expected
    assert site.feed("feed.json")["items"][0]["tags"] == expected
    assert group_dirs(site, key) == ["fourth", "third", "新闻-x", "株洲-日报"]


def test_list_values_are_kept_as_written(make_site):
    site = make_site()
    site.post(
        "2022-03-07-a.md",
        "date: 2022-03-07\ntags: [株洲日报新闻, 2022, 1.5, true, null, 株洲日报新闻, 'a b']\n",
    )
    assert site.build().errors == ()
    assert terms(entry(site)) == ["株洲日报新闻", "2022", "1.5", "true", "a b"]


WRONG_TYPES = [
    ("title: [a, b]\n", "title: expected text, got a list"),
    ("title: {a: 1}\n", "title: expected text, got a mapping"),
    ("tags: [a, [b, c]]\n", "tags: expected names, got a nested list"),
    ("tags: [a, {b: c}]\n", "tags: expected names, got a nested mapping"),
    ("categories: {a: 1}\n", "categories: expected a list of names or a string"),
    ("category: [a, [b]]\n", "category: expected names, got a nested list"),
    ("author: [a, b]\n", "author: expected a name or a mapping"),
    ("author: {email: a@b.example}\n", "author: a mapping needs a 'name'"),
    ("permalink: [a]\n", "permalink: expected a path"),
]


@pytest.mark.parametrize("front, message", WRONG_TYPES, ids=[m for _, m in WRONG_TYPES])
def test_wrong_types_are_rejected_with_the_line_and_the_rest_publishes(make_site, front, message):
    site = make_site()
    site.post("2022-03-01-good.md", {"title": "好", "date": "2022-03-01", "tags": ["t"]})
    site.post("2022-03-07-bad.md", f"date: {DATE}\n\n# the bad key:\n{front}lang: zh\n")
    report = site.build()
    assert report.errors == (f"_posts/2022-03-07-bad.md:5: {message}",)
    assert report.posts == 1
    assert [e.title for e in site.feed("atom.xml").entries] == ["好"]
    assert [e.title for e in site.feed("tags/t/rss.xml").entries] == ["好"]


# --- authors, publishing, ids -------------------------------------------------------------


def test_author_string_mapping_and_default(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"date": DATE, "author": "记者甲"})
    site.post(
        "2022-03-06-b.md",
        {
            "date": "2022-03-06",
            "author": {"name": "记者乙", "email": "b@news.example", "uri": "https://b.example/我"},
        },
    )
    site.post("2022-03-05-c.md", {"date": "2022-03-05"})
    assert site.build().errors == ()
    a, b, c = site.feed("atom.xml").entries
    assert a.author_detail == {"name": "记者甲"}
    assert b.author_detail == {
        "name": "记者乙",
        "email": "b@news.example",
        "href": "https://b.example/%E6%88%91",
    }
    assert c.author_detail == {"name": "编辑部", "email": "ed@news.example"}
    rss = etree.fromstring(site.read("rss.xml"))
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    assert [i.findtext(dc) for i in rss.iter("item")] == ["记者甲", "记者乙", "编辑部"]
    items = site.feed("feed.json")["items"]
    assert items[0]["authors"] == [{"name": "记者甲"}]
    assert items[1]["authors"] == [{"name": "记者乙", "url": "https://b.example/%E6%88%91"}]
    assert "authors" not in items[2]


def test_published_false_is_left_out(make_site):
    site = make_site()
    site.post("2022-03-07-draft.md", {"date": DATE, "published": False, "tags": ["草稿"]})
    site.post("2022-03-06-yes.md", {"date": "2022-03-06", "published": True})
    report = site.build()
    assert (report.errors, report.posts) == ((), 1)
    assert [e.title for e in site.feed("atom.xml").entries] == ["Yes"]
    assert group_dirs(site, "tags") == []


@pytest.mark.parametrize(
    "own, entry_id",
    [
        (None, "https://news.example/2022/03/07/a.html"),
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", None),
        ("tag:news.example,2022:株洲/1", "tag:news.example,2022:%E6%A0%AA%E6%B4%B2/1"),
        ("/archive/42", "https://news.example/archive/42"),
        (12345, "https://news.example/12345"),
    ],
)
def test_entry_id_is_the_permalink_or_the_posts_own_id(make_site, own, entry_id):
    site = make_site()
    front = {"date": DATE} if own is None else {"date": DATE, "id": own}
    site.post("2022-03-07-a.md", front)
    assert site.build().errors == ()
    entry_id = entry_id or own
    url = "https://news.example/2022/03/07/a.html"
    atom = entry(site)
    assert (atom.id, atom.link) == (entry_id, url)
    guid = etree.fromstring(site.read("rss.xml")).find("channel/item/guid")
    assert guid.text == entry_id
    assert guid.get("isPermaLink") == ("true" if own is None else "false")
    item = site.feed("feed.json")["items"][0]
    assert (item["id"], item["url"]) == (entry_id, url)


# --- permalinks -----------------------------------------------------------------------------

PERMALINKS = [
    # (config permalink, folder, file name, front matter, expected URL)
    (None, "新闻/_posts", "2022-03-07-abc.md", {}, "/%E6%96%B0%E9%97%BB/2022/03/07/abc.html"),
    ("date", "_posts", "2022-03-07-abc.htm", {}, "/2022/03/07/abc.htm"),
    ("date", "_posts", "2022-03-07-abc.html", {}, "/2022/03/07/abc.html"),
    ("date", "_posts", "2022-03-07-abc.markdown", {}, "/2022/03/07/abc.html"),
    (
        None,
        "_posts",
        "2022-03-07-abc.md",
        {"categories": ["Tech", "News"]},
        "/tech/news/2022/03/07/abc.html",
    ),
    (None, "Tech/_posts", "2022-03-07-abc.md", {"categories": "tech"}, "/tech/2022/03/07/abc.html"),
    (
        None,
        "_posts",
        "2022-03-07-株洲新闻.md",
        {},
        "/2022/03/07/%E6%A0%AA%E6%B4%B2%E6%96%B0%E9%97%BB.html",
    ),
    (None, "_posts", "2022-03-07-Hello World!.md", {}, "/2022/03/07/Hello-World!.html"),
    (
        None,
        "_posts",
        "2022-03-07-abc.md",
        {"date": "2022-03-07 01:00:00 +0800"},
        "/2022/03/07/abc.html",
    ),
    (
        None,
        "_posts",
        "2022-03-07-abc.md",
        {"date": "2022-03-06 23:00:00 -0500"},  # 2022-03-07 12:00 in Shanghai, the site's zone
        "/2022/03/07/abc.html",
    ),
    (
        None,
        "_posts",
        "2022-03-07-abc.md",
        {"slug": "其他 Name"},
        "/2022/03/07/%E5%85%B6%E4%BB%96-Name.html",
    ),
    ("pretty", "Tech/_posts", "2022-03-07-abc.md", {}, "/tech/2022/03/07/abc/"),
    ("none", "Tech/_posts", "2022-03-07-abc.md", {}, "/tech/abc.html"),
    ("ordinal", "_posts", "2022-03-07-abc.md", {}, "/2022/066/abc.html"),
    ("weekdate", "_posts", "2022-03-07-abc.md", {}, "/2022/W10/Mon/abc.html"),
    (
        "/:year/:i_month/:i_day/:title:output_ext",
        "_posts",
        "2022-03-07-abc.md",
        {},
        "/2022/3/7/abc.html",
    ),
    (
        "/blog/:categories/:slug/",
        "新闻/_posts",
        "2022-03-07-Hello World!.md",
        {},
        "/blog/%E6%96%B0%E9%97%BB/hello-world/",
    ),
    ("/:short_year/:month/:title.html", "_posts", "2022-03-07-abc.md", {}, "/22/03/abc.html"),
    (
        "/p/:year:month:day-:hour:minute:second/",
        "_posts",
        "2022-03-07-abc.md",
        {},
        "/p/20220307-083046/",
    ),
    (
        None,
        "_posts",
        "2022-03-07-abc.md",
        {"permalink": "/special/页面/"},
        "/special/%E9%A1%B5%E9%9D%A2/",
    ),
    (None, "_posts", "2022-03-07-abc.md", {"permalink": "/:year/x.html"}, "/2022/x.html"),
    ("pretty", "_posts", "2022-03-07-abc.md", {"permalink": "about.html"}, "/about.html"),
]


@pytest.mark.parametrize("permalink, folder, name, front, path", PERMALINKS)
def test_permalinks_match_jekyll(make_site, permalink, folder, name, front, path):
    site = make_site() if permalink is None else make_site(permalink=permalink)
    site.post(name, {"date": DATE, **front}, folder=folder)
    assert site.build().errors == ()
    url = "https://news.example" + path
    atom = entry(site)
    assert (atom.link, atom.id) == (url, url)
    rss = etree.fromstring(site.read("rss.xml"))
    assert rss.findtext("channel/item/link") == url


def test_relative_links_in_the_body_resolve_against_the_permalink(make_site):
    site = make_site()
    site.post(
        "2022-03-07-abc.md",
        {"date": DATE},
        body='<p><a href="#x">x</a> <a href="y.html">y</a></p>\n',
        folder="新闻/_posts",
    )
    site.build()
    base = "https://news.example/%E6%96%B0%E9%97%BB/2022/03/07/"
    assert entry(site).content[0].value == (
        f'<p><a href="{base}abc.html#x">x</a> <a href="{base}y.html">y</a></p>'
    )


# --- slugs ----------------------------------------------------------------------------------


def test_slug_collisions_share_one_feed_with_a_warning(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"date": DATE, "categories": "Tech", "tags": ["株洲 News"]})
    site.post(
        "2022-03-06-b.md", {"date": "2022-03-06", "categories": "tech", "tags": ["株洲-news"]}
    )
    report = site.build()
    assert report.errors == ()
    assert "categories 'Tech', 'tech' share the slug 'tech': they are published as one feed" in (
        report.warnings
    )
    assert (
        "tags '株洲 News', '株洲-news' share the slug '株洲-news': they are published as one feed"
        in (report.warnings)
    )
    assert group_dirs(site, "categories") == ["tech"]
    assert group_dirs(site, "tags") == ["株洲-news"]
    assert [e.title for e in site.feed("categories/tech/atom.xml").entries] == ["A", "B"]
    assert [e.title for e in site.feed("tags/株洲-news/rss.xml").entries] == ["A", "B"]


@pytest.mark.parametrize(
    "name, slug",
    [
        ("株洲日报新闻", "株洲日报新闻"),
        ("Hello World!", "hello-world"),
        ("C++ & Rust", "c-rust"),
        ("株洲\u3000日报", "株洲-日报"),
        ("Ünïcödé Straße", "ünïcödé-straße"),
        ("  --x--  ", "x"),
        ("2022年 第3期", "2022年-第3期"),
        ("١٢٣ عربي", "١٢٣-عربي"),
        ("a😀b", "a-b"),
        ("x_y.z", "x-y-z"),
        ("Ⅻ", ""),
    ],
)
def test_slugify_keeps_unicode_letters_and_lowercases(name, slug):
    assert slugify(name) == slug


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_slugify_is_idempotent(text):
    slug = slugify(text)
    assert slugify(slug) == slug
    assert slug == slug.lower()
    assert not slug.startswith("-") and not slug.endswith("-") and "--" not in slug
    pretty = slugify_pretty(text)
    assert slugify_pretty(pretty) == pretty


def test_names_and_memberships_looked_up_again_are_the_same_and_warn_each_time() -> None:
    """Names and memberships a post repeats are looked up, not made again: the same
    values, lists of each post's own, and a warning said again for every post."""
    from datetime import UTC, datetime

    from feedwright.config import parse_config
    from feedwright.frontmatter import split
    from feedwright.group import memberships
    from feedwright.model import Post
    from feedwright.posts import _names

    doc = split("p.md", b"---\ncategories: a  b\ntags: x\n---\n")
    first = _names(doc, "p.md", "category", "categories")
    first.append("c")
    assert _names(doc, "p.md", "category", "categories") == ["a", "b"]
    assert _names(doc, "p.md", "tag", "tags") == ["x"]

    config = parse_config({"site": {"title": "t", "url": "https://e.example"}}, base=Path("."))
    when = datetime(2024, 1, 1, tzinfo=UTC)

    def post(relpath: str, categories: tuple[str, ...]) -> Post:
        return Post(relpath, "t", when, when, "u", "u", categories, (), None, None, "markdown")

    for relpath in ("a.md", "b.md"):
        members, warnings = memberships(post(relpath, ("新闻", "!!")), config)
        assert [m.slug for m in members] == ["", "新闻"]
        assert warnings == [
            f"{relpath}: category '!!' has an empty slug; no feed is published for it"
        ]
    once, _ = memberships(post("c.md", ("新闻",)), config)
    once.clear()
    again, _ = memberships(post("d.md", ("新闻",)), config)
    assert [m.slug for m in again] == ["", "新闻"]


def test_memberships_looked_up_follow_the_selection_of_each_config() -> None:
    """The same names under another ``feeds.tags`` selection give that selection's groups."""
    from datetime import UTC, datetime

    from feedwright.config import parse_config
    from feedwright.group import memberships
    from feedwright.model import Post

    when = datetime(2024, 1, 1, tzinfo=UTC)
    post = Post("a.md", "t", when, when, "u", "u", ("c",), ("x", "y"), None, None, "markdown")
    site = {"title": "t", "url": "https://e.example"}
    every = parse_config({"site": site}, base=Path("."))
    only_y = parse_config({"site": site, "feeds": {"tags": ["y"]}}, base=Path("."))
    for _ in range(2):
        assert [m.slug for m in memberships(post, every)[0]] == ["", "c", "x", "y"]
        assert [m.slug for m in memberships(post, only_y)[0]] == ["", "c", "y"]
