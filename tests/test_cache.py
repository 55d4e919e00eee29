"""The build cache is invisible in the output: incremental builds write what --full writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import NOW, check_tree, mtimes
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reference import simple_build_files

from feedwright.config import load_config
from feedwright.engine import build
from feedwright.engine.cache import CACHE_NAME
from feedwright.errors import ConfigError
from feedwright.ledger import Row, load_ledger, parse_ledger

CATEGORIES = ["news", "sport", "Tech", "tech"]
TAGS = ["株洲", "体育", "经济", "株洲 日报"]


def feed_tree(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".feedwright" not in p.parts
    }


def ledger_rows(path: Path) -> dict[str, Row]:
    """The rows of an id ledger file (none: no rows)."""
    return parse_ledger(path.read_bytes(), str(path)) if path.exists() else {}


def feed_mtimes(out: Path) -> dict[str, int]:
    return {k: v for k, v in mtimes(out).items() if not k.startswith(".feedwright")}


def post_text(i: int, variant: int) -> str:
    meta = {
        "title": f"第{i}篇 v{variant}",
        "date": f"2022-{1 + (i * variant) % 4:02d}-{1 + (i + variant) % 27:02d} "
        f"0{variant % 10}:30:00 +0800",
        "categories": CATEGORIES[(i + variant) % len(CATEGORIES)],
        "tags": [TAGS[(i * variant) % len(TAGS)], TAGS[i % len(TAGS)]],
    }
    if variant % 7 == 3:
        meta["date"] = "2027-01-01 00:00:00 +0800"  # in the future: hidden
    body = f"<p>正文 {i}-{variant}</p>\n[链接](/a/{i}.html)\n"
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body


BAD = "---\ntitle: [unclosed\n---\n坏\n"

op = st.tuples(
    st.sampled_from(["edit", "add", "delete", "touch", "bad", "rename", "tick"]),
    st.integers(0, 7),
    st.integers(1, 40),
)


class Twin:
    """One source built two ways: incrementally (cached) and with --full, side by side."""

    def __init__(self, root: Path, feeds: dict[str, Any] | None = None) -> None:
        self.src = root / "site"
        (self.src / "_posts").mkdir(parents=True)
        config = {
            "site": {"title": "测试站", "url": "https://news.example", "timezone": "Asia/Shanghai"},
            "source": "site",
            "output": "cached",
            "feeds": {"limit": 3, **(feeds or {})},
        }
        (root / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
        self.cached = load_config(root / "config.yaml")
        self.full = load_config(root / "config.yaml", output=str(root / "full"))
        self.now = NOW

    def path(self, i: int) -> Path:
        return self.src / "_posts" / f"2022-03-{1 + i:02d}-p{i}.md"

    def apply(self, kind: str, i: int, variant: int) -> None:
        path = self.path(i)
        if kind in ("edit", "add"):
            path.write_text(post_text(i, variant), "utf-8")
        elif kind == "delete" and path.exists():
            path.unlink()
        elif kind == "touch" and path.exists():
            os.utime(path, ns=(time.time_ns(), time.time_ns() + variant))
        elif kind == "bad":
            path.write_text(BAD, "utf-8")
        elif kind == "rename" and path.exists():
            path.rename(self.path((i + 1) % 8))
        elif kind == "tick":
            self.now += timedelta(days=variant * 10)  # future posts come into view

    def check(self) -> None:
        a = build(self.cached, now=self.now, durable=False)
        b = build(self.full, now=self.now, full=True, durable=False)
        check_tree(self.cached.output)
        assert feed_tree(self.cached.output) == feed_tree(self.full.output)
        # the same ids fixed, whichever way it was built (the cached build's file may hold
        # superseded lines that --full compacts: its rows are what count)
        ids = Path(".feedwright") / "ids"
        assert ledger_rows(self.cached.output / ids) == ledger_rows(self.full.output / ids)
        if (self.cached.output / ids).exists():  # appended to, never mostly superseded lines
            shape = load_ledger((self.cached.output / ids).read_bytes(), "ids").shape
            assert shape.dead <= shape.live
        assert (a.posts, a.errors, set(a.kept)) == (b.posts, b.errors, set(b.kept))
        if not a.errors:  # the in-memory reference pipeline agrees too
            files, _ = simple_build_files(self.cached, now=self.now)
            assert feed_tree(self.cached.output) == {f.relpath: f.data for f in files}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=6))
def test_cached_builds_equal_full_builds(tmp_path_factory, ops):
    twin = Twin(tmp_path_factory.mktemp("twin"))
    for i in range(5):
        twin.apply("add", i, 1)
    twin.check()
    for kind, i, variant in ops:
        twin.apply(kind, i, variant)
        twin.check()


#: Policies that groups cross as posts are edited, added, deleted and come into view.
POLICIES = {
    "categories": {"min_posts": 2, "max_feeds": 2, "limit": 2},
    "tags": {"min_posts": 2, "except": ["经济"]},
}


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(op, min_size=1, max_size=6))
# a group that crosses the policy's line is looked at after the posts were counted: its
# page once said "0 posts" in the cached build
@example(ops=[("edit", 1, 35), ("edit", 3, 20), ("edit", 6, 2), ("edit", 0, 20)])
@example(ops=[("edit", 7, 40), ("edit", 0, 1), ("edit", 6, 22), ("delete", 3, 1)])
# a group that crosses the policy's line while no post's group changed: the site's page
# (which lists every group) kept its old list in the cached build
@example(ops=[("bad", 4, 1), ("delete", 4, 1)])
def test_cached_builds_equal_full_builds_with_feed_policies(tmp_path_factory, ops):
    twin = Twin(tmp_path_factory.mktemp("twin"), feeds=POLICIES)
    for i in range(5):
        twin.apply("add", i, 1)
    twin.check()
    for kind, i, variant in ops:
        twin.apply(kind, i, variant)
        twin.check()


def test_noop_rebuild_writes_nothing_and_touch_is_noticed(tmp_path):
    twin = Twin(tmp_path)
    for i in range(4):
        twin.apply("add", i, 2)
    twin.check()
    before = feed_mtimes(twin.cached.output)
    report = build(twin.cached, now=twin.now)
    assert report.written == () and feed_mtimes(twin.cached.output) == before
    twin.apply("touch", 1, 5)  # same bytes, new mtime: parsed again, nothing written
    assert build(twin.cached, now=twin.now).written == ()
    twin.apply("edit", 1, 9)
    assert build(twin.cached, now=twin.now).written != ()


def test_config_change_invalidates_the_cache(tmp_path):
    twin = Twin(tmp_path)
    twin.apply("add", 0, 1)
    twin.check()
    config = yaml.safe_load((tmp_path / "config.yaml").read_text("utf-8"))
    config["site"]["title"] = "新站名"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    report = build(load_config(tmp_path / "config.yaml"), now=twin.now)
    assert "atom.xml" in report.written
    assert (
        b"\xe6\x96\xb0\xe7\xab\x99\xe5\x90\x8d" in (tmp_path / "cached" / "atom.xml").read_bytes()
    )


@pytest.mark.parametrize("garbage", [b"", b"not a database at all" * 100, b"SQLite format 3\x00"])
def test_a_corrupt_cache_is_rebuilt_with_a_warning(tmp_path, garbage):
    twin = Twin(tmp_path)
    for i in range(3):
        twin.apply("add", i, 1)
    twin.check()
    expected = feed_tree(twin.cached.output)
    cache = twin.cached.output / ".feedwright" / CACHE_NAME
    for suffix in ("-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    cache.write_bytes(garbage)
    twin.apply("edit", 0, 4)
    report = build(twin.cached, now=twin.now)
    b = build(twin.full, now=twin.now, full=True)
    assert feed_tree(twin.cached.output) == feed_tree(twin.full.output)
    assert feed_tree(twin.cached.output) != expected
    assert report.posts == b.posts == 3
    if garbage:
        assert any("cache" in w for w in report.warnings)


def _corpus(root: Path, n: int) -> Path:
    posts = root / "site" / "_posts"
    posts.mkdir(parents=True)
    for i in range(n):
        meta = {
            "title": f"文章{i}",
            "date": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00 +0800",
            "categories": f"paper{i % 7}",
            "tags": [f"标签{i % 31}", f"话题{i % 13}"],
        }
        body = "".join(f"<p>第{j}段，内容{i}。</p>\n" for j in range(12)) + "[返回](//h.example/)\n"
        (posts / f"2021-01-01-p{i:05d}.md").write_text(
            "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body, "utf-8"
        )
    config = {
        "site": {"title": "大站", "url": "https://big.example", "timezone": "Asia/Shanghai"},
        "source": "site",
        "output": "out",
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "feedwright", *args]


@pytest.mark.slow
def test_kill_9_mid_build_leaves_valid_feeds_and_the_next_build_repairs(tmp_path):
    config = _corpus(tmp_path, 2500)
    out = tmp_path / "out"
    env = {**os.environ, "CI": "1"}
    subprocess.run(_cli("build", "--config", str(config), "-q"), check=True, env=env, timeout=300)
    check_tree(out)
    for p in (tmp_path / "site" / "_posts").glob("*.md"):
        p.write_text(p.read_text("utf-8").replace("内容", "新内容"), "utf-8")
    for delay in (0.4, 1.0, 2.0):
        proc = subprocess.Popen(_cli("build", "--config", str(config), "-q"), env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        check_tree(out)  # whatever moment it died at, every feed is complete and valid
    subprocess.run(_cli("build", "--config", str(config), "-q"), check=True, env=env, timeout=300)
    full = load_config(config, output=str(tmp_path / "full"))
    build(full, full=True)
    assert feed_tree(out) == feed_tree(tmp_path / "full")
    assert not list(out.rglob("*.fwtmp"))


#: ``feedwright build`` (its options after ``-c``), killed by SIGKILL in the middle of its
#: append to the id ledger: the first ``CUT`` bytes are in the file, as when the kernel stops
#: a write at SIGKILL (it does, between pages, on a write of any size).
KILLED_MID_APPEND = """
import os, signal, sys
cut, write = int(os.environ["CUT"]), os.write
def cut_short(fd, data):
    if os.readlink(f"/proc/self/fd/{fd}").endswith("/.feedwright/ids") and len(data) > cut:
        write(fd, bytes(data)[:cut])
        os.kill(os.getpid(), signal.SIGKILL)
    return write(fd, data)
os.write = cut_short
from feedwright.cli import cli
cli(["build", *sys.argv[1:]])
"""
#: Where in the first appended line (path, hash, id, checksum, newline) the kill falls.
_PATH, _ID = len("_posts/2022-03-07-p.md"), "https://news.example/2022/03/07/p.html"
CUTS = {
    "in a path": 5,
    "in a hash": _PATH + 10,
    "in an id": _PATH + 34 + len(_ID) - 4,
    "in a checksum": _PATH + 34 + len(_ID) + 4,
    "after a whole line": _PATH + 34 + len(_ID) + 10,
}


@pytest.mark.parametrize("where", list(CUTS))
def test_a_build_killed_while_it_appends_to_the_id_ledger_is_repaired_by_the_next(make_site, where):
    """A real build, killed with SIGKILL part-way through its append (#19.0: the kill -9
    test above can land there): the next build drops the torn lines with a warning, keeps
    every id, and publishes the edit."""
    site = make_site()
    for day in (7, 8, 9):
        site.post(f"2022-03-0{day}-p.md", {"title": f"第{day}篇"})
    site.build()
    ids = [e.id for e in site.feed("atom.xml").entries]
    ledger = site.out / ".feedwright" / "ids"
    before = ledger.read_bytes()
    for day in (7, 8, 9):  # a new hash for each: the next build appends three lines
        site.post(f"2022-03-0{day}-p.md", {"title": f"第{day}篇"}, "改过的正文。")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_MID_APPEND, "--config", str(site.config_path)],
        env={**os.environ, "CUT": str(CUTS[where])},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed
    assert len(ledger.read_bytes()) == len(before) + CUTS[where]  # the append, cut there

    report = site.build()  # the next build: no error, the ids kept, the ledger whole again
    assert [w for w in report.warnings if "the last build stopped while adding" in w], report
    assert [e.id for e in site.feed("atom.xml").entries] == ids
    assert "改过的正文" in site.feed("atom.xml").entries[0].content[0].value
    assert site.build().warnings == ()


@pytest.mark.slow
def test_two_builds_at_once_do_not_corrupt_anything(tmp_path):
    config = _corpus(tmp_path, 600)
    env = {**os.environ, "CI": "1"}
    procs = [
        subprocess.Popen(
            _cli("build", "--config", str(config)),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert any("waiting" in err for _out, err in results) or all(
        "600 posts" in out for out, _err in results
    )
    check_tree(tmp_path / "out")
    full = load_config(config, output=str(tmp_path / "full"))
    build(full, full=True)
    assert feed_tree(tmp_path / "out") == feed_tree(tmp_path / "full")


def test_a_missing_source_folder_is_an_error_and_feeds_stay(tmp_path):
    twin = Twin(tmp_path)
    twin.apply("add", 0, 1)
    twin.check()
    before = feed_tree(twin.cached.output)
    twin.src.rename(tmp_path / "elsewhere")  # an unmounted disk, a failed checkout
    with pytest.raises(ConfigError, match="source: no such folder"):
        build(twin.cached, now=twin.now)
    assert feed_tree(twin.cached.output) == before


def test_a_damaged_manifest_is_rebuilt_from_the_cache_and_pruning_still_works(tmp_path):
    twin = Twin(tmp_path)
    for i in range(3):
        twin.apply("add", i, 1)
    twin.check()
    manifest = twin.cached.output / ".feedwright" / "manifest"
    manifest.write_bytes(b"{not json")
    twin.apply("edit", 0, 2)  # a real change: the build looks at the manifest
    report = build(twin.cached, now=twin.now)
    assert any("manifest" in w for w in report.warnings)
    assert b"categories/" in manifest.read_bytes()  # ownership recovered
    for i in range(3):  # now remove every post of one category: its feeds must go
        twin.apply("delete", i, 1)
    twin.apply("add", 5, 1)
    report = build(twin.cached, now=twin.now)
    gone = {p for p in report.removed}
    assert gone and all(p.startswith(("categories/", "tags/")) for p in gone)
    for p in gone:
        assert not (twin.cached.output / p).exists()
    b = build(twin.full, now=twin.now, full=True)
    assert b.errors == ()
    assert feed_tree(twin.cached.output) == feed_tree(twin.full.output)


def test_feeds_can_be_limited_to_chosen_categories_and_no_tags(make_site):
    site = make_site(feeds={"categories": ["NEWS"], "tags": False})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": ["sport", "News"]})
    report = site.build()
    assert sorted(report.warnings) == [
        "categories 'News', 'news' share the slug 'news': they are published as one feed"
    ]
    tree = feed_tree(site.out)
    assert sorted(p for p in tree if "/" in p) == [
        "categories/news/atom.xml",
        "categories/news/feed.json",
        "categories/news/index.html",
        "categories/news/rss.xml",
    ]
    assert [e.title for e in site.feed("categories/news/atom.xml").entries] == ["乙", "甲"]
    outlines = [o.get("xmlUrl") for o in site.feed("feeds.opml").iter("outline")]
    assert not any("/tags/" in (u or "") or "/sport/" in (u or "") for u in outlines)
    files, _ = simple_build_files(site.config, now=NOW)
    assert tree == {f.relpath: f.data for f in files}
