"""A feed policy for big archives (issue #9, point 3): ``feeds.categories`` / ``feeds.tags``
as ``{min_posts, only, except, max_feeds, limit}``. Real sites, real builds, feeds read
back with feedparser and the OPML with lxml."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from feedwright.cli import cli
from feedwright.config import load_config
from feedwright.group import excluded_groups


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def opml_urls(site) -> list[str]:
    return [o.get("xmlUrl") for o in site.feed("feeds.opml").iter("outline") if o.get("xmlUrl")]


def tag_dirs(site) -> list[str]:
    tags = site.out / "tags"
    return sorted(p.name for p in tags.iterdir()) if tags.exists() else []


def category_dirs(site) -> list[str]:
    folder = site.out / "categories"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_tag_gains_its_feeds_when_it_reaches_min_posts_and_loses_them_below(make_site):
    site = make_site(feeds={"tags": {"min_posts": 2}})
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["株洲", "经济"]})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["株洲"]})
    site.build()
    assert tag_dirs(site) == ["株洲"]
    assert not any("%E7%BB%8F%E6%B5%8E" in u for u in opml_urls(site))  # 经济
    site.post("2022-03-09-c.md", {"title": "丙", "tags": ["经济"]})
    report = site.build()
    assert tag_dirs(site) == ["株洲", "经济"]
    assert "tags/经济/atom.xml" in report.written
    assert [e.title for e in site.feed("tags/经济/atom.xml").entries] == ["丙", "甲"]
    assert sum("%E7%BB%8F%E6%B5%8E" in u for u in opml_urls(site)) == 1  # listed once
    (site.src / "_posts" / "2022-03-08-b.md").unlink()  # 株洲 falls to one post
    report = site.build()
    assert tag_dirs(site) == ["经济"]
    assert {"tags/株洲/atom.xml", "tags/株洲/rss.xml", "tags/株洲/feed.json"} <= set(report.removed)
    assert not any("%E6%A0%AA%E6%B4%B2" in u for u in opml_urls(site))


def test_only_and_except_name_groups_by_name_or_slug(make_site):
    site = make_site(
        feeds={"categories": {"only": ["News", "sport"]}, "tags": {"except": ["株洲 日报"]}}
    )
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲-日报"]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "Sport", "tags": ["体育"]})
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "tech"})
    site.build()
    assert category_dirs(site) == ["news", "sport"]
    assert tag_dirs(site) == ["体育"]
    assert [e.title for e in site.feed("atom.xml").entries] == ["丙", "乙", "甲"]


def test_max_feeds_keeps_the_largest_groups_and_limit_overrides_feeds_limit(make_site):
    site = make_site(feeds={"limit": 5, "tags": {"max_feeds": 2, "limit": 1}})
    for i, tags in enumerate([["a", "b", "c"], ["a", "b"], ["a", "c"], ["d"]]):
        site.post(f"2022-03-0{i + 1}-p{i}.md", {"title": f"p{i}", "tags": tags})
    site.build()
    # a has 3 posts; b and c have 2 (b first by slug); d has 1
    assert tag_dirs(site) == ["a", "b"]
    assert [e.title for e in site.feed("tags/a/atom.xml").entries] == ["p2"]
    assert len(site.feed("atom.xml").entries) == 4
    # c overtakes b
    site.post("2022-03-05-p4.md", {"title": "p4", "tags": ["c"]})
    site.build()
    assert tag_dirs(site) == ["a", "c"]


def test_verbose_says_why_each_group_has_no_feed(make_site):
    site = make_site(
        feeds={"categories": {"except": ["sport"]}, "tags": {"min_posts": 2, "max_feeds": 1}}
    )
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "sport", "tags": ["x", "y"]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "news", "tags": ["x", "y", "z"]})
    for _ in range(2):  # the first build, and a no-op build: both say it
        result = run("build", "-v", "--config", str(site.config_path))
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stderr.splitlines() if "no feed" in line]
        assert lines == [
            "categories/sport: no feed: in feeds.categories.except",
            "tags/y: no feed: not among the 1 largest tags (feeds.tags.max_feeds)",
            "tags/z: no feed: 1 post, fewer than feeds.tags.min_posts (2)",
        ]
    quiet = run("build", "--config", str(site.config_path))
    assert "no feed" not in quiet.output


def test_the_feeds_command_lists_only_what_the_policy_keeps(make_site):
    site = make_site(feeds={"tags": {"min_posts": 2}})
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["x", "y"]})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["x"]})
    result = run("feeds", "--config", str(site.config_path))
    assert result.exit_code == 0
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    urls = [url for _kind, _title, fmt, url in rows if fmt == "atom"]  # the OPML's format
    assert any("/tags/x/" in u for u in urls) and not any("/tags/y/" in u for u in urls)
    assert len(rows) == 3 * len(urls)
    site.build()
    assert urls == opml_urls(site)


BAD = [
    ({"tags": {"min_post": 2}}, "feeds.tags.min_post: unknown key (did you mean"),
    ({"tags": {"min_posts": 0}}, "feeds.tags.min_posts: expected an integer ≥ 1, got 0"),
    ({"categories": {"min_posts": -3}}, "feeds.categories.min_posts: expected an integer ≥ 1"),
    ({"tags": {"min_posts": "2"}}, "feeds.tags.min_posts: expected an integer, got '2'"),
    ({"tags": {"only": "x"}}, "feeds.tags.only: expected a list of strings"),
    ({"tags": {"except": [["x"]]}}, "feeds.tags.except: expected a list of strings"),
    ({"tags": {"max_feeds": True}}, "feeds.tags.max_feeds: expected an integer, got True"),
    ({"categories": {"limit": 0}}, "feeds.categories.limit: expected an integer ≥ 1, got 0"),
]


@pytest.mark.parametrize(("feeds", "message"), BAD, ids=[m.split(":")[0] for _f, m in BAD])
def test_a_bad_policy_exits_2_naming_the_key_and_writes_nothing(make_site, feeds, message):
    site = make_site(feeds=feeds)
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["x"]})
    for command in ("build", "check", "feeds"):
        result = run(command, "--config", str(site.config_path))
        assert result.exit_code == 2, result.output
        assert f"config.yaml: {message}" in result.stderr
        assert "Traceback" not in result.output
    assert not site.out.exists()


def test_the_policy_rule_is_one_pure_function(make_site):
    site = make_site(feeds={"tags": {"min_posts": 2, "max_feeds": 2, "except": ["e"]}})
    config = load_config(site.config_path)
    sizes = {("site", ""): 9, ("category", "c"): 1, ("tag", "a"): 3, ("tag", "b"): 3}
    sizes |= {("tag", "c"): 5, ("tag", "e"): 9, ("tag", "one"): 1}
    assert excluded_groups(config, sizes) == {
        ("tag", "b"): "not among the 2 largest tags (feeds.tags.max_feeds)",
        ("tag", "e"): "in feeds.tags.except",
        ("tag", "one"): "1 post, fewer than feeds.tags.min_posts (2)",
    }


def test_pages_follow_the_policy(make_site):
    site = make_site(feeds={"tags": {"min_posts": 2}})
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["kept", "alone"]})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["kept"]})
    site.build()
    assert (site.out / "tags/kept/index.html").exists()
    assert not (site.out / "tags/alone").exists()
    page = site.read("index.html").decode("utf-8")
    assert "tags/kept/" in page and "tags/alone/" not in page
    site.post("2022-03-09-c.md", {"title": "丙", "tags": ["alone"]})
    site.build()
    assert "tags/alone/" in site.read("index.html").decode("utf-8")
    assert (site.out / "tags/alone/index.html").exists()
