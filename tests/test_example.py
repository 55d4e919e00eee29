"""The bundled example: `config.yaml` builds `example/` into exactly the committed `feeds/`."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ATOM, NOW, check_tree, parse_feed, parse_page
from lxml import etree

from feedwright.config import load_config
from feedwright.engine import build

REPO = Path(__file__).resolve().parent.parent
FEEDS = REPO / "feeds"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` except feedwright's own bookkeeping."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".feedwright" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("example") / "feeds"
    config = load_config(REPO / "config.yaml", output=str(out))
    return out, build(config, now=NOW)


def test_build_reproduces_the_committed_feeds(built: tuple[Path, object]) -> None:
    out, _ = built
    expected = tree(FEEDS)
    actual = tree(out)
    assert sorted(actual) == sorted(expected)
    for relpath, data in expected.items():
        assert actual[relpath] == data, f"{relpath} differs: run `.venv/bin/feedwright build`"


def test_example_builds_cleanly(built: tuple[Path, object]) -> None:
    out, report = built
    assert report.posts == 14  # type: ignore[attr-defined]
    assert report.errors == ()  # type: ignore[attr-defined]
    assert report.warnings == ()  # type: ignore[attr-defined]
    check_tree(out)


def test_every_committed_feed_parses() -> None:
    files = [p for p in FEEDS.rglob("*") if p.is_file() and ".feedwright" not in p.parts]
    # 5 categories + 16 tags + the site, three formats and a page each, and the OPML.
    assert len(files) == 22 * 4 + 1
    for path in files:
        if path.suffix == ".html":
            parse_page(path.read_bytes(), str(path))
        else:
            parse_feed(path)


def test_example_covers_the_features_it_is_meant_to_show() -> None:
    site = parse_feed(FEEDS / "atom.xml")
    entries = {e.link: e for e in site.entries}
    titles = [e.title for e in site.entries]
    assert "研发投入对比：1 < 2 & R&D" in titles
    assert site.entries[0].updated == "2022-03-16T08:00:00+08:00"
    own_id = [e for e in site.entries if e.id.startswith("urn:uuid:")]
    assert len(own_id) == 1
    assert "https://finews.example/special/rd-investment-2022.html" in entries
    # feedparser's own sanitiser drops srcset/poster: read what feedwright wrote.
    raw = etree.parse(str(FEEDS / "atom.xml")).getroot()
    html = "".join(c.text for c in raw.iter(ATOM + "content"))
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html
    assert 'srcset="https://finews.example/uploads/2022/03/flower-640.jpg 640w' in html
    assert 'poster="https://finews.example/media/2022/03/xiangshang.jpg"' in html
    # Instants are kept in the offset the post was written in.
    published = {e.published for e in site.entries}
    assert {"2022-03-10T21:00:00-05:00", "2022-03-10T02:00:00+00:00"} <= published
    tag_feed = parse_feed(FEEDS / "tags" / "衡阳日报新闻" / "atom.xml")
    assert tag_feed.feed.id == (
        "https://finews.example/feeds/tags/%E8%A1%A1%E9%98%B3%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB/atom.xml"
    )


def test_quick_start_on_a_fresh_clone_reads_as_success(tmp_path: Path) -> None:
    """`feeds/` is committed, so the first build rewrites nothing: it must still say that
    everything is there and up to date, not only `0 feeds written`."""
    import shutil
    import subprocess
    import sys

    clone = tmp_path / "clone"
    shutil.copytree(REPO / "example", clone / "example")
    shutil.copy(REPO / "config.yaml", clone / "config.yaml")
    shutil.copytree(FEEDS, clone / "feeds", ignore=shutil.ignore_patterns("cache.sqlite*", "lock"))
    command = [sys.executable, "-m", "feedwright", "build"]

    def build_here() -> list[str]:
        done = subprocess.run(command, cwd=clone, capture_output=True, text=True, timeout=60)
        assert (done.returncode, done.stderr) == (0, "")
        return done.stdout.splitlines()

    summary, note = build_here()
    # 22 groups: 66 feeds (as `feedwright feeds` lists them), 22 pages, and the OPML
    unchanged = (
        "0 feeds written (66 unchanged, 0 removed); 0 pages written (22 unchanged, 0 removed); "
    )
    assert summary.startswith("14 posts, 0 rejected, " + unchanged)
    assert note == (
        "feeds/ is up to date: its 66 feeds, 22 pages and feeds.opml for 14 posts were already "
        "current, so none was rewritten; subscribe to feeds/atom.xml (the whole site), or "
        "import feeds/feeds.opml (the site, each category and each tag)"
    )
    (again,) = build_here()  # later builds print the summary alone
    assert again.startswith("14 posts, 0 rejected, " + unchanged)
