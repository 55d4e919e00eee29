"""Which archives exist (``feeds.archives_formats``, ``feeds.archives_groups``): Atom, for the
site and the categories, unless configured; the subscription feeds link only to archives
that exist; turning a format or a kind of group off removes the archives written for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import check_tree
from test_archives import POSTS, link, walk, write
from test_plan import (
    NEWS,
    TECH,
    A,
    B,
    archive_files,
    archive_kinds,
    archived_owned,
    now,
    period,
    settled,
    snapshot,
)

from feedwright.cli import cli
from feedwright.config import parse_config
from feedwright.engine.plan import ArchiveRender, plan

FORMATS = ("atom.xml", "rss.xml", "feed.json")


def written_archives(site) -> set[str]:
    return {
        p.relative_to(site.out).as_posix()
        for p in site.out.rglob("*")
        if p.is_file() and "archive" in p.relative_to(site.out).parts
    }


def kinds_and_names(files: set[str]) -> set[tuple[str, str]]:
    """(the kind of group: site, categories or tags; the file name) of archive files."""
    return {
        ("site" if p.startswith("archive/") else p.split("/")[0], p.rsplit("/", 1)[-1])
        for p in files
    }


@pytest.fixture
def site(make_site):
    site = make_site(feeds={"archives": "monthly", "limit": 2})
    for name, categories, tags in POSTS:
        write(site, name, categories, tags)
    return site


def test_the_default_archives_are_atom_for_the_site_and_the_categories(site):
    site.build()
    check_tree(site.out)
    files = written_archives(site)
    assert kinds_and_names(files) == {("site", "atom.xml"), ("categories", "atom.xml")}
    assert "categories/news/archive/2022/02/atom.xml" in files
    assert len(walk(site, "categories/news/atom.xml")) == 4  # the history, as before
    # the subscription feeds link only to archives that exist
    assert link(site.feed("atom.xml"), "prev-archive").endswith("/feeds/archive/2022/05/atom.xml")
    assert link(site.feed("rss.xml"), "prev-archive") is None
    assert "next_url" not in json.loads(site.read("feed.json"))
    assert link(site.feed("tags/株洲/atom.xml"), "prev-archive") is None
    # an Atom archive links only to Atom archives
    assert link(site.feed("archive/2022/03/atom.xml"), "current").endswith("/feeds/atom.xml")


def test_tags_and_other_formats_on_request(site):
    site.settings["feeds"] |= {"archives_formats": ["json"], "archives_groups": ["tags"]}
    site.save()
    site.build()
    files = written_archives(site)
    assert kinds_and_names(files) == {("tags", "feed.json")}
    doc = json.loads(site.read("tags/株洲/feed.json"))
    assert doc["next_url"].endswith("/tags/%E6%A0%AA%E6%B4%B2/archive/2022/05/feed.json")
    for relpath in ("atom.xml", "tags/株洲/atom.xml", "tags/株洲/rss.xml"):
        assert link(site.feed(relpath), "prev-archive") is None
    assert "next_url" not in json.loads(site.read("feed.json"))  # the site has none


def test_turning_a_format_or_a_kind_of_group_off_removes_its_archives(site):
    site.settings["feeds"] |= {
        "archives_formats": ["atom", "rss", "json"],
        "archives_groups": ["site", "categories", "tags"],
    }
    site.save()
    site.build()
    every = written_archives(site)
    assert {name for _kind, name in kinds_and_names(every)} == set(FORMATS)
    site.settings["feeds"] |= {"archives_formats": ["atom", "json"]}  # RSS off
    site.save()
    report = site.build()
    assert written_archives(site) == {p for p in every if not p.endswith("rss.xml")}
    assert set(report.removed) == {p for p in every if p.endswith("rss.xml")}
    assert link(site.feed("categories/news/rss.xml"), "prev-archive") is None
    assert link(site.feed("categories/news/atom.xml"), "prev-archive") is not None
    site.settings["feeds"] |= {"archives_groups": ["site", "categories"]}  # tags off
    site.save()
    report = site.build()
    assert not [p for p in written_archives(site) if p.startswith("tags/")]
    assert {p for p in report.removed if "archive" in p} == {
        p for p in every if p.startswith("tags/") and not p.endswith("rss.xml")
    }
    assert link(site.feed("tags/株洲/atom.xml"), "prev-archive") is None
    assert (site.out / "tags/株洲/atom.xml").is_file()  # the tag's feeds stay
    assert site.build().written == ()
    check_tree(site.out)


@pytest.mark.parametrize(
    ("feeds", "key", "message"),
    [
        ({"archives_formats": ["atom", "html"]}, "archives_formats", "got 'html'"),
        ({"archives_formats": "atom"}, "archives_formats", "expected a list"),
        ({"archives_formats": []}, "archives_formats", "at least one format"),
        ({"formats": ["rss"]}, "archives_formats", "atom is not among feeds.formats (rss)"),
        ({"archives_groups": ["site", "category"]}, "archives_groups", "got 'category'"),
        ({"archives_groups": [True]}, "archives_groups", "expected a list of strings"),
        ({"archives_groups": []}, "archives_groups", "at least one kind"),
        ({"archives_set": ["atom"]}, "archives_set", "unknown"),
    ],
)
def test_a_bad_archive_set_exits_2_naming_the_key(make_site, feeds, key, message):
    site = make_site(feeds={"archives": "monthly", **feeds})
    write(site, "2022-01-05-a.md", "news", [])
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 2, result.output
    assert f"feeds.{key}" in result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not site.out.exists()


# -- the planner ---------------------------------------------------------------------------
def monthly(**feeds) -> object:
    data = {"site": {"title": "站", "url": "https://news.example"}, "source": ".", "output": "o"}
    data["feeds"] = {"archives": "monthly", "pages": False, **feeds}
    return parse_config(data, base=Path("/nonexistent"))


def test_the_planner_gives_archives_only_to_the_kinds_of_group_named():
    periods = {"2022/01": period(B), "2022/03": period(A)}
    s = snapshot(
        groups={NEWS: now(NEWS, A, B), TECH: now(TECH, A, B)},
        archives={NEWS: periods, TECH: periods},
    )
    p = plan(s, monthly())
    assert {(d.key, d.links.period) for d in p.archives} == {(NEWS, "2022/01"), (NEWS, "2022/03")}
    assert {d.group.key: d.archive for d in p.render} == {NEWS: "2022/03", TECH: None}
    p = plan(s, monthly(archives_groups=["tags"]))
    assert {d.key for d in p.archives} == {TECH}


def test_the_planner_removes_the_archives_of_a_kind_left_out():
    periods = {"2022/01": period(B)}
    s = snapshot(
        groups={TECH: now(TECH, B)},
        owned=archived_owned(TECH, "2022/01"),
        archives={TECH: periods},
        archived={TECH: settled(TECH, periods, name="tech")},
    )
    assert archive_kinds(plan(s, monthly())) == [("ArchiveRemove", "2022/01")]
    every = monthly(archives_groups=["tags"], archives_formats=["atom", "rss", "json"])
    assert archive_kinds(plan(s, every)) == []  # settled: nothing to do


def test_the_planner_drops_the_files_of_a_format_left_out():
    periods = {"2022/01": period(B)}
    s = snapshot(
        groups={NEWS: now(NEWS, B)},
        owned=archived_owned(NEWS, "2022/01"),  # atom, rss and json
        archives={NEWS: periods},
        archived={NEWS: settled(NEWS, periods)},
    )
    (decision,) = plan(s, monthly()).archives
    assert isinstance(decision, ArchiveRender)
    assert set(decision.drop) == set(archive_files(NEWS, "2022/01")[1:])  # rss.xml, feed.json
