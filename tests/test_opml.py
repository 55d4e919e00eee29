"""``feeds.opml`` is a list a reader can import: each group once, in ``feeds.opml_format``
(Atom by default), read back by listparser and imported by a real reader (newsboat)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import listparser
import pytest
from click.testing import CliRunner

from feedwright.cli import cli
from feedwright.engine import list_feeds
from feedwright.layout import feed_relpath, feed_url, group_dir
from feedwright.model import GroupKey

TAG = "株洲日报新闻"
GROUPS = [
    GroupKey("site", ""),
    GroupKey("category", "news"),
    GroupKey("category", "sport"),
    GroupKey("tag", "体育"),  # groups by slug: 体 (U+4F53) before 株 (U+682A)
    GroupKey("tag", TAG),
]


@pytest.fixture
def site(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": [TAG]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport", "tags": ["体育", TAG]})
    return site


def subscriptions(site) -> list[tuple[str, str, list[str]]]:
    """What an OPML reader sees: (URL, title, folder) of each subscription."""
    parsed = listparser.parse(site.read("feeds.opml"))
    assert not parsed.bozo, parsed.bozo_exception
    return [(f.url, f.title, f.tags) for f in parsed.feeds]


def urls_of(site, fmt: str) -> list[str]:
    return [feed_url(site.config, feed_relpath(key, fmt)) for key in GROUPS]  # type: ignore[arg-type]


def test_each_group_is_listed_once_by_its_atom_feed(site):
    site.build()
    assert subscriptions(site) == [
        (urls_of(site, "atom")[0], "测试站", []),
        (urls_of(site, "atom")[1], "测试站 · news", ["Categories"]),
        (urls_of(site, "atom")[2], "测试站 · sport", ["Categories"]),
        (urls_of(site, "atom")[3], "测试站 · 体育", ["Tags"]),
        (urls_of(site, "atom")[4], f"测试站 · {TAG}", ["Tags"]),
    ]
    # every URL it lists is a file the build wrote
    for key in GROUPS:
        assert (site.out / group_dir(key) / "atom.xml").is_file()


def test_feeds_keeps_listing_every_file(site):
    """``feedwright feeds`` is the full list (every format); the OPML is one per group."""
    site.build()
    listed = [f.url for f in list_feeds(site.config)]
    assert len(listed) == 3 * len(GROUPS)
    assert set(listed) == {u for fmt in ("atom", "rss", "json") for u in urls_of(site, fmt)}


@pytest.mark.parametrize(
    ("formats", "opml_format", "listed"),
    [
        (None, "rss", "rss"),
        (None, "json", "json"),
        (["rss", "json"], None, "rss"),  # the first of atom, rss, json configured
        (["json", "rss"], None, "rss"),  # not the first written in feeds.formats
        (["json"], None, "json"),
    ],
)
def test_opml_format_picks_the_one_format_listed(make_site, formats, opml_format, listed):
    feeds = {} if formats is None else {"formats": formats}
    if opml_format is not None:
        feeds["opml_format"] = opml_format
    site = make_site(feeds=feeds)
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news"})
    site.build()
    keys = GROUPS[:2]
    assert [url for url, _title, _tags in subscriptions(site)] == [
        feed_url(site.config, feed_relpath(key, listed))  # type: ignore[arg-type]
        for key in keys
    ]


def test_a_new_opml_format_rewrites_the_opml(site):
    site.build()
    site.settings["feeds"] = {"opml_format": "rss"}
    site.save()
    report = site.build()
    assert "feeds.opml" in report.written
    assert [url for url, _t, _f in subscriptions(site)] == urls_of(site, "rss")


@pytest.mark.parametrize(
    ("feeds", "message"),
    [
        (
            {"formats": ["atom", "rss"], "opml_format": "json"},
            "feeds.opml_format: expected one of feeds.formats (atom, rss), got 'json'",
        ),
        (
            {"opml_format": "opml"},
            "feeds.opml_format: expected one of feeds.formats (atom, rss, json), got 'opml'",
        ),
        ({"opml_format": ["atom"]}, "feeds.opml_format: expected one of feeds.formats"),
        (
            {"formats": [], "opml_format": "atom"},
            "feeds.opml_format: feeds.formats is empty: no format to list",
        ),
    ],
)
def test_an_opml_format_that_is_not_published_is_a_config_error(make_site, feeds, message):
    site = make_site(feeds=feeds)
    site.post("2022-03-07-a.md", {"title": "甲"})
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "config.yaml: " in result.stderr
    assert not site.out.exists()


@pytest.mark.skipif(shutil.which("newsboat") is None, reason="newsboat is not installed")
def test_newsboat_imports_one_subscription_per_group(site, tmp_path: Path):
    """A real reader's OPML import (``newsboat -i``) subscribes to each group once (before
    #19 it subscribed to everything three times, once per format)."""
    site.build()
    urls = tmp_path / "newsboat-urls"
    done = subprocess.run(
        [
            "newsboat",
            "-u",
            str(urls),
            "-c",
            str(tmp_path / "newsboat-cache.db"),
            "-i",
            str(site.out / "feeds.opml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = urls.read_text("utf-8").splitlines()
    atom = urls_of(site, "atom")
    assert lines == [
        atom[0],
        f'{atom[1]} "Categories"',
        f'{atom[2]} "Categories"',
        f'{atom[3]} "Tags"',
        f'{atom[4]} "Tags"',
    ]
