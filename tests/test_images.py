"""Pictures in readers: a post's ``image`` (or its first ``<img>``) as Media RSS in Atom and
RSS, and as ``image`` in JSON Feed, read back with feedparser."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import ATOM
from lxml import etree

from feedwright.cli import cli
from feedwright.content import first_image

MEDIA = "{http://search.yahoo.com/mrss/}"
POST_URL = "https://news.example/2022/03/07/a.html"


def pictures(site, fmt: str = "atom", relpath: str = "") -> list[str | None]:
    """Each entry's picture as feed readers see it (feedparser), checked to agree with the
    other Media RSS element and the JSON Feed."""
    name = {"atom": "atom.xml", "rss": "rss.xml"}[fmt]
    parsed = site.feed(relpath + name)
    out = []
    for entry in parsed.entries:
        thumbs = [t["url"] for t in entry.get("media_thumbnail", [])]
        contents = [(c["url"], c.get("medium")) for c in entry.get("media_content", [])]
        assert contents == [(u, "image") for u in thumbs]
        assert len(thumbs) <= 1
        out.append(thumbs[0] if thumbs else None)
    items = json.loads(site.read(relpath + "feed.json"))["items"]
    assert [item.get("image") for item in items] == out
    return out


def test_front_matter_image_reaches_atom_rss_and_json(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "image": "/uploads/灯会 1.jpg"})
    site.post("2022-03-08-b.md", {"title": "乙", "image": {"path": "https://cdn.example/b.png"}})
    site.post("2022-03-09-c.md", {"title": "丙", "image": "//cdn.example/c.png"})
    site.post("2022-03-10-d.md", {"title": "丁"}, body='<p><img src="d.png"></p>')
    site.build()
    expected = [
        None,  # feeds.images is front_matter by default: the <img> is not used
        "https://cdn.example/c.png",
        "https://cdn.example/b.png",
        "https://news.example/uploads/" + quote("灯会 1.jpg"),
    ]
    assert pictures(site, "atom") == expected
    assert pictures(site, "rss") == expected
    root = etree.fromstring(site.read("atom.xml"))
    assert root.nsmap["media"] == MEDIA.strip("{}")
    entry = root.findall(ATOM + "entry")[1]
    assert [el.tag for el in entry if el.tag.startswith(MEDIA)] == [
        MEDIA + "thumbnail",
        MEDIA + "content",
    ]


def test_no_picture_no_media_namespace(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲"})
    site.build()
    for name in ("atom.xml", "rss.xml"):
        assert b"mrss" not in site.read(name)
    assert pictures(site) == [None]


def test_image_path_is_relative_to_the_site_with_its_baseurl(make_site):
    site = make_site(site={"baseurl": "/blog"})
    site.post("2022-03-07-a.md", {"title": "甲", "image": "img/a.jpg"})
    site.post("2022-03-08-b.md", {"title": "乙", "image": "/img/b.jpg"})
    site.build()
    assert pictures(site) == [
        "https://news.example/blog/img/b.jpg",
        "https://news.example/blog/img/a.jpg",
    ]


def test_images_first_uses_the_first_img_of_the_content(make_site):
    site = make_site(feeds={"images": "first"}, permalink="/news/:title.html")
    body = (
        '<p><img src="data:image/png;base64,AAAA" alt="x">'
        '<img alt="a > b" src="pics/株洲.jpg"><img src="/second.jpg"></p>'
    )
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["图"]}, body=body)
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["图"], "image": "/own.jpg"}, body=body)
    site.post("2022-03-09-c.md", {"title": "丙", "tags": ["图"]}, body="![图](/md.png)\n")
    site.post("2022-03-10-d.md", {"title": "丁", "tags": ["图"]}, body="<p>no picture</p>")
    site.build()
    expected = [
        None,
        "https://news.example/md.png",  # Markdown images count too
        "https://news.example/own.jpg",  # the post's own image wins
        "https://news.example/news/pics/" + quote("株洲.jpg"),  # relative to the permalink
    ]
    assert pictures(site, "atom") == expected
    assert pictures(site, "rss") == expected
    assert pictures(site, "atom", f"tags/{'图'}/") == expected


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<p><img src="https://a.example/x.jpg"></p>', "https://a.example/x.jpg"),
        ('<img alt="q &quot;src=&quot;" src="https://a.example/y.jpg">', "https://a.example/y.jpg"),
        ('<img src="https://a.example/a&amp;b.jpg">', "https://a.example/a&b.jpg"),
        ('<img src="https://a.example/图.jpg">', "https://a.example/%E5%9B%BE.jpg"),
        ('<img alt="no src"><img src="http://a.example/z.gif">', "http://a.example/z.gif"),
        ('<p>src="https://a.example/text.jpg"</p>', None),
        ('<img src="data:image/gif;base64,R0lGOD">', None),
        ("", None),
    ],
)
def test_first_image(fragment: str, expected: str | None) -> None:
    assert first_image(fragment) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("image: [a.jpg, b.jpg]", "image: expected a URL or a path, got a list"),
        ("image: 42", "image: expected a URL or a path, got a number"),
        ("image: true", "image: expected a URL or a path, got a boolean"),
        ("image: {url: a.jpg}", "image.path: expected a URL or a path, got nothing"),
        ("image: {path: [a]}", "image.path: expected a URL or a path, got a list"),
        ("image: 'javascript:alert(1)'", "image: expected an http(s) URL or a path"),
        ("image: 'ftp://files.example/a.jpg'", "image: expected an http(s) URL or a path"),
    ],
)
def test_a_bad_image_is_a_post_error_naming_the_key(make_site, value: str, message: str):
    site = make_site()
    site.post("2022-03-07-bad.md", f"title: 坏\n{value}\n")
    site.post("2022-03-08-good.md", {"title": "好", "image": "/ok.jpg"})
    report = site.build()
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"_posts/2022-03-07-bad.md:3: {message}")
    assert pictures(site) == ["https://news.example/ok.jpg"]


@pytest.mark.parametrize(("value", "shown"), [("last", "'last'"), ("[first]", "a list")])
def test_a_wrong_feeds_images_is_a_config_error(make_site, value: str, shown: str):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲"})
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text + f"feeds:\n  images: {value}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 2
    assert "config.yaml: feeds.images: expected" in result.output
    assert shown in result.output
    assert "Traceback" not in result.output
