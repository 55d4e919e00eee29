"""Whole builds on real folders: no-op rebuilds, minimal rewrites, pruning, rejected posts."""

from __future__ import annotations

import json
import os

import pytest
from conftest import mtimes

# Every file of a group: its feeds and its page (feeds.pages is on by default).
FEED_NAMES = ("atom.xml", "rss.xml", "feed.json", "index.html")
OLD = 1_600_000_000_000_000_000


def feeds_of(*dirs: str) -> set[str]:
    return {f"{d}{name}" for d in dirs for name in FEED_NAMES}


def age(out) -> dict[str, int]:
    """Set every output file's mtime far in the past (so a rewrite cannot hide in 1 tick)."""
    for path in out.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD, OLD))
    return mtimes(out)


def feed_bytes(out) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".feedwright" not in p.relative_to(out).parts
    }


@pytest.fixture
def site(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport", "tags": ["体育"]})
    report = site.build()
    assert report.errors == ()
    assert set(report.written) == feeds_of(
        "", "categories/news/", "categories/sport/", "tags/株洲/", "tags/体育/"
    ) | {"feeds.opml"}
    return site


def test_second_build_writes_nothing(site):
    before_bytes = feed_bytes(site.out)
    before = mtimes(site.out)
    report = site.build()
    assert (report.written, report.removed, len(report.unchanged)) == ((), (), 21)
    after = mtimes(site.out)
    cache = ".feedwright/cache.sqlite"  # the build cache may record the run; nothing else
    assert {k: v for k, v in after.items() if k != cache} == {
        k: v for k, v in before.items() if k != cache
    }
    # Files whose mtimes changed behind feedwright's back are compared, not rewritten.
    before = age(site.out)
    report = site.build()
    assert report.written == ()
    assert report.removed == ()
    assert len(report.unchanged) == 21
    assert feed_bytes(site.out) == before_bytes
    changed = {k for k, v in mtimes(site.out).items() if before.get(k) != v}
    assert not {k for k in changed if not k.startswith(".feedwright/")}


def test_full_rebuild_writes_nothing_either(site):
    before = age(site.out)
    assert site.build(full=True).written == ()
    after = mtimes(site.out)
    assert {k: v for k, v in after.items() if not k.startswith(".feedwright/")} == {
        k: v for k, v in before.items() if not k.startswith(".feedwright/")
    }


def test_a_new_post_rewrites_only_its_feeds(site):
    before = age(site.out)
    # Joins existing groups only: the OPML does not change.
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news", "tags": ["株洲"]})
    report = site.build()
    assert set(report.written) == feeds_of("", "categories/news/", "tags/株洲/")
    after = mtimes(site.out)
    touched = {k for k in after if after[k] != before.get(k) and not k.startswith(".feedwright/")}
    assert touched == set(report.written)
    assert [e.title for e in site.feed("categories/news/atom.xml").entries] == ["丙", "甲"]
    # A new tag: its feeds and the OPML are new too.
    before = age(site.out)
    site.post("2022-03-10-d.md", {"title": "丁", "categories": "sport", "tags": ["新标签"]})
    report = site.build()
    assert set(report.written) == feeds_of("", "categories/sport/", "tags/新标签/") | {"feeds.opml"}
    after = mtimes(site.out)
    touched = {k for k in after if after[k] != before.get(k) and not k.startswith(".feedwright/")}
    assert touched == set(report.written)


def test_editing_a_post_rewrites_the_feeds_it_is_in(site):
    age(site.out)
    site.post("2022-03-08-b.md", {"title": "乙（更新）", "categories": "sport", "tags": ["体育"]})
    report = site.build()
    assert set(report.written) == feeds_of("", "categories/sport/", "tags/体育/")
    assert site.feed("tags/体育/atom.xml").entries[0].title == "乙（更新）"


def test_a_vanished_group_is_removed_but_foreign_files_are_kept(site):
    (site.out / "index.html").unlink()  # feedwright's page, replaced by one of the user's
    (site.out / ".feedwright" / "manifest").write_text(
        site.read(".feedwright/manifest").decode().replace('"index.html"', '"other.html"')
    )
    (site.out / "index.html").write_bytes(b"<!DOCTYPE html>\n<title>mine</title>\n")
    (site.out / "tags" / "体育" / "notes.txt").write_bytes(b"mine")
    (site.out / "tags" / "manual").mkdir()
    foreign = site.read("atom.xml")  # a valid feed, so check_tree can parse it
    (site.out / "tags" / "manual" / "atom.xml").write_bytes(foreign)
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport"})  # tag 体育 dropped
    (site.src / "_posts" / "2022-03-07-a.md").unlink()  # category news and tag 株洲 gone
    report = site.build()
    assert report.errors == ()
    assert set(report.removed) == feeds_of("categories/news/", "tags/株洲/", "tags/体育/")
    assert not (site.out / "categories" / "news").exists()
    assert not (site.out / "tags" / "株洲").exists()
    assert sorted(p.name for p in (site.out / "tags" / "体育").iterdir()) == ["notes.txt"]
    assert (site.out / "index.html").read_bytes() == b"<!DOCTYPE html>\n<title>mine</title>\n"
    assert "index.html: not written: a file feedwright did not write is in its place" in (
        " ".join(report.warnings)
    )
    assert (site.out / "tags" / "manual" / "atom.xml").read_bytes() == foreign
    titles = {o.get("title") for o in site.feed("feeds.opml").iter("outline")}
    assert titles == {None, "测试站", "测试站 · sport"}


def test_a_removed_post_leaves_the_site_feed(site):
    (site.src / "_posts" / "2022-03-08-b.md").unlink()
    site.build()
    assert [e.title for e in site.feed("atom.xml").entries] == ["甲"]


def test_leftover_temporary_files_are_cleaned(site):
    leftovers = [
        site.out / ".atom.xml.0123456789abcdef.fwtmp",
        site.out / "tags" / "株洲" / ".rss.xml.fedcba9876543210.fwtmp",
    ]
    for path in leftovers:
        path.write_bytes(b"half a feed")
    (site.out / "keep.fwtmp").write_bytes(b"not ours")
    assert site.build().written == ()
    # the last build finished: nothing was left, so the output is not walked
    assert [p.exists() for p in leftovers] == [True, True]
    (site.out / ".feedwright" / "clean").unlink()  # as a killed build leaves it
    assert site.build().written == ()
    assert [p.exists() for p in leftovers] == [False, False]
    assert (site.out / "keep.fwtmp").exists()
    assert (site.out / ".feedwright" / "clean").exists()


BAD_DATE = {"title": "甲", "date": "2022-02-30 08:00:00 +0800", "categories": "news"}


def test_a_post_turning_bad_keeps_its_feeds_and_is_reported(site):
    before_bytes = feed_bytes(site.out)
    age(site.out)
    site.post("2022-03-07-a.md", BAD_DATE)
    report = site.build()
    assert len(report.errors) == 1
    assert report.errors[0].startswith("_posts/2022-03-07-a.md:3: date: ")
    held_a = feeds_of("", "categories/news/", "tags/株洲/")
    assert held_a <= set(report.kept)
    after_bytes = feed_bytes(site.out)
    for relpath in held_a:
        assert after_bytes[relpath] == before_bytes[relpath], relpath
    assert after_bytes == before_bytes
    # Good again: the feeds follow.
    site.post("2022-03-07-a.md", {"title": "甲（修正）", "categories": "news", "tags": ["株洲"]})
    report = site.build()
    assert report.errors == ()
    assert feeds_of("", "categories/news/", "tags/株洲/") <= set(report.written)
    assert [e.title for e in site.feed("tags/株洲/atom.xml").entries] == ["甲（修正）"]
    assert [e.title for e in site.feed("atom.xml").entries] == ["乙", "甲（修正）"]


def test_the_opml_keeps_listing_a_kept_feed(site):
    before = site.read("feeds.opml")
    site.post("2022-03-07-a.md", BAD_DATE)
    assert site.build().rejected == 1
    assert (site.out / "tags" / "株洲" / "atom.xml").exists()
    assert site.read("feeds.opml") == before


def test_a_group_whose_every_post_went_bad_keeps_its_feed(site):
    before_bytes = feed_bytes(site.out)
    # GBK bytes, not UTF-8: the only post of category sport and tag 体育 is rejected.
    (site.src / "_posts" / "2022-03-08-b.md").write_bytes(b"---\ntitle: \xd6\xd0\n---\n")
    report = site.build()
    assert [e.split(":")[0] for e in report.errors] == ["_posts/2022-03-08-b.md"]
    for relpath in feeds_of("categories/sport/", "tags/体育/"):
        assert (site.out / relpath).read_bytes() == before_bytes[relpath]
    assert report.removed == ()


def test_other_feeds_still_update_while_a_post_is_bad(site):
    site.post("2022-03-07-a.md", BAD_DATE)
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "culture"})
    report = site.build()
    assert report.rejected == 1
    assert feeds_of("categories/culture/") <= set(report.written)
    assert [e.title for e in site.feed("categories/culture/atom.xml").entries] == ["丙"]


@pytest.mark.parametrize("data", [b"garbage{", b'{"files": {"atom.xml": 5}}', b""])
def test_a_corrupt_manifest_does_not_crash_the_build(site, data):
    manifest = site.out / ".feedwright" / "manifest"
    good = manifest.read_bytes()
    manifest.write_bytes(data)
    before = feed_bytes(site.out)
    report = site.build()
    assert report.errors == ()
    assert any("manifest" in w for w in report.warnings)
    assert feed_bytes(site.out) == before
    # Rebuilt from the build cache: every file is owned again.
    assert json.loads(manifest.read_bytes())["files"].keys() == json.loads(good)["files"].keys()
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news"})
    report = site.build()
    assert report.errors == ()
    assert feeds_of("", "categories/news/") <= set(report.written)
    assert not any("manifest" in w for w in report.warnings)
    assert [e.title for e in site.feed("categories/news/atom.xml").entries] == ["丙", "甲"]


def test_a_manifest_naming_paths_outside_deletes_nothing(site, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "atom.xml").write_bytes(b"keep")
    (site.out / "evil").symlink_to(outside)
    (site.out / ".feedwright" / "manifest").write_text(
        '{"version": 1, "files": {"../victim.txt": {"sources": []},'
        ' "evil/atom.xml": {"sources": []}, "/etc/hostname": {"sources": []}}}',
        encoding="utf-8",
    )
    site.build()
    assert victim.read_bytes() == b"keep"
    assert (outside / "atom.xml").read_bytes() == b"keep"
