"""Files feedwright did not write (#18): a feed, a page, an archive file or the OPML that
someone else put where a build writes is never overwritten nor removed unless the user
says so (``build --adopt``); the warning names the file and how to allow it; neither
``feedwright feeds`` nor the OPML lists what feedwright did not publish. Real builds
through the CLI into real folders; every document read back with a real parser."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import NOW, check_tree, parse_feed
from test_cache import feed_tree

from feedwright.cli import cli
from feedwright.config import load_config
from feedwright.engine import build, list_feeds

#: Someone else's file of each kind: valid documents (the tests parse every file).
MINE = {
    ".xml": b'<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:mine</id><title>mine</title>'
    b"<updated>2020-01-01T00:00:00Z</updated><author><name>me</name></author></feed>\n",
    ".json": json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "mine", "items": []}
    ).encode(),
    ".html": b"<!DOCTYPE html>\n<title>mine</title>\n",
    ".opml": b'<opml version="2.0"><head><title>mine</title></head><body/></opml>\n',
}
#: One of each kind of file a build writes: a feed, a page, an archive file, the OPML,
#: and the site's feed in the OPML's format.
KINDS = {
    "feed": "categories/news/rss.xml",
    "page": "categories/news/index.html",
    "archive": "categories/news/archive/2022/03/atom.xml",
    "opml": "feeds.opml",
    "site feed": "atom.xml",
}


def mine(relpath: str) -> bytes:
    return MINE["." + relpath.rpartition(".")[2]]


@pytest.fixture
def site(make_site):
    site = make_site(feeds={"archives": "monthly"})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-04-08-b.md", {"title": "乙", "categories": "news"})
    return site


def put(site, relpath: str) -> bytes:
    """Someone else's file at ``relpath`` of the output folder."""
    path = site.out / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(mine(relpath))
    return mine(relpath)


def run(site, *args: str):
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path), *args])
    assert result.exit_code == 0, result.output
    check_tree(site.out)
    return result


def owned(site) -> set[str]:
    state = site.out / ".feedwright"
    files = set(json.loads((state / "manifest").read_bytes())["files"])
    for path in (state / "archives").glob("*"):
        files |= set(json.loads(path.read_bytes())["files"])
    return files


def reference(site, tmp_path) -> dict[str, bytes]:
    """What a build writes into an empty folder."""
    out = tmp_path / "reference"
    build(load_config(site.config_path, output=str(out)), now=NOW, durable=False)
    return feed_tree(out)


def opml_urls(site) -> list[str]:
    return [o.get("xmlUrl") for o in parse_feed(site.out / "feeds.opml").iter("outline")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_feedwright_did_not_write_is_kept_until_the_user_says_so(site, kind, tmp_path):
    relpath = KINDS[kind]
    theirs = put(site, relpath)
    expected = reference(site, tmp_path)
    first = run(site)
    assert (site.out / relpath).read_bytes() == theirs
    warning = (
        f"warning: {relpath}: not written: a file feedwright did not write is in its place "
        "(remove it"
    )
    assert warning in first.stderr
    assert "feedwright build --adopt)" in first.stderr
    assert relpath not in owned(site)
    # everything else is written as it would be into an empty folder (but the OPML
    # lists no feed that is not feedwright's)
    other = {relpath, "feeds.opml"} if kind == "site feed" else {relpath}
    assert {p: b for p, b in feed_tree(site.out).items() if p not in other} == {
        p: b for p, b in expected.items() if p not in other
    }
    if kind == "site feed":
        assert "https://news.example/feeds/atom.xml" not in opml_urls(site)
    again = run(site)  # and again: nothing is written, the file is still theirs
    assert again.stdout.startswith("2 posts, 0 rejected, 0 feeds written")
    assert warning in again.stderr
    assert (site.out / relpath).read_bytes() == theirs
    adopted = run(site, "--adopt")
    assert f"warning: {relpath}: taken over (--adopt)" in adopted.stderr
    assert feed_tree(site.out) == expected
    assert relpath in owned(site)
    settled = run(site)
    assert settled.stderr == "" and " 0 feeds written" in settled.stdout
    # it is feedwright's now: it goes with its group like any file feedwright wrote
    (site.src / "_posts" / "2022-03-07-a.md").unlink()
    (site.src / "_posts" / "2022-04-08-b.md").unlink()
    run(site)
    assert (site.out / relpath).exists() == (kind in ("opml", "site feed"))


@pytest.mark.parametrize("kind", KINDS)
def test_removing_the_file_lets_the_next_build_write_it(site, kind, tmp_path):
    relpath = KINDS[kind]
    put(site, relpath)
    run(site)
    (site.out / relpath).unlink()
    result = run(site)
    assert "not written" not in result.stderr
    assert feed_tree(site.out) == reference(site, tmp_path)
    assert relpath in owned(site)


def test_a_file_someone_else_put_there_is_never_removed(site):
    """A group whose folder holds someone's files: feedwright writes its own beside them,
    and removes only its own when the group goes."""
    site.post("2022-04-09-c.md", {"title": "丙", "tags": ["手工"]})
    theirs = put(site, "tags/手工/atom.xml")
    notes = site.out / "tags" / "手工" / "notes.txt"
    notes.write_bytes(b"mine")
    run(site)
    assert sorted(p.name for p in (site.out / "tags" / "手工").iterdir()) == [
        "atom.xml",
        "feed.json",
        "index.html",
        "notes.txt",
        "rss.xml",
    ]
    (site.src / "_posts" / "2022-04-09-c.md").unlink()
    result = run(site)
    assert "not written" not in result.stderr  # the group has nothing to write any more
    assert sorted(p.name for p in (site.out / "tags" / "手工").iterdir()) == [
        "atom.xml",
        "notes.txt",
    ]
    assert (site.out / "tags" / "手工" / "atom.xml").read_bytes() == theirs


def test_feeds_and_the_opml_list_only_what_feedwright_publishes(site):
    """The site's Atom feed (the OPML's format) and a category's RSS feed are someone
    else's: ``feedwright feeds`` lists neither, the OPML leaves out the site (its news
    outline is news's Atom feed, which is feedwright's), and the summary's feeds are the
    lines ``feedwright feeds`` prints. Once the files are gone, both list them again."""
    put(site, "atom.xml")
    put(site, "categories/news/rss.xml")
    first = run(site)
    listed = {(f.kind, f.format, f.url) for f in list_feeds(site.config, now=NOW)}
    feeds = "https://news.example/feeds/"
    assert ("site", "atom", feeds + "atom.xml") not in listed
    assert ("category", "rss", feeds + "categories/news/rss.xml") not in listed
    assert ("site", "rss", feeds + "rss.xml") in listed
    assert len(listed) == 3 * 3 - 2  # site, news, 株洲
    assert first.stdout.startswith(f"2 posts, 0 rejected, {len(listed)} feeds and feeds.opml")
    cli_lines = CliRunner().invoke(cli, ["feeds", "--config", str(site.config_path)]).stdout
    assert len(cli_lines.splitlines()) == len(listed)
    assert opml_urls(site) == [
        None,  # the Categories folder
        feeds + "categories/news/atom.xml",
        None,  # the Tags folder
        feeds + "tags/%E6%A0%AA%E6%B4%B2/atom.xml",
    ]
    (site.out / "atom.xml").unlink()
    (site.out / "categories/news/rss.xml").unlink()
    second = run(site)
    assert second.stdout.startswith("2 posts, 0 rejected, 2 feeds and feeds.opml written")
    assert opml_urls(site)[0] == feeds + "atom.xml"
    assert len(list_feeds(site.config, now=NOW)) == 9


def test_cached_builds_equal_full_builds_with_files_in_the_way(site, tmp_path):
    """Edits with someone else's files in place: the cached build, ``--full`` on the same
    folder, and a first build into another folder with the same files agree."""
    theirs = {relpath: put(site, relpath) for relpath in KINDS.values()}
    run(site)
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news"})  # March changes
    site.post("2022-05-01-d.md", {"title": "丁", "categories": "news"})  # a new month
    (site.src / "_posts" / "2022-04-08-b.md").unlink()  # April empties
    run(site)
    cached = feed_tree(site.out)
    assert {p: cached[p] for p in theirs} == theirs
    full = build(site.config, now=NOW, full=True, durable=False)
    assert full.written == ()
    assert feed_tree(site.out) == cached
    other = tmp_path / "other"
    for relpath, data in theirs.items():
        (other / relpath).parent.mkdir(parents=True, exist_ok=True)
        (other / relpath).write_bytes(data)
    build(load_config(site.config_path, output=str(other)), now=NOW, durable=False)
    assert feed_tree(other) == cached


def test_a_lost_state_folder_leaves_every_file_alone_until_adopted(site):
    """Without ``.feedwright/`` (the manifest lost) nothing says feedwright wrote the
    files: every one is left alone, the warning names the first ten and counts the rest,
    and ``--adopt`` takes them all over without rewriting a byte."""
    run(site)
    before = feed_tree(site.out)
    shutil.rmtree(site.out / ".feedwright")
    result = run(site)
    assert feed_tree(site.out) == before
    lines = [line for line in result.stderr.splitlines() if "not written" in line]
    assert len(lines) == 11
    more = len(before) - 10
    assert lines[-1].startswith(f"warning: … and {more} more files feedwright did not write")
    assert "feedwright build --adopt" in lines[-1]
    adopted = run(site, "--adopt")
    assert f"… and {more} more files taken over (--adopt)" in adopted.stderr
    assert " 0 feeds written" in adopted.stdout
    assert feed_tree(site.out) == before
    assert owned(site) == set(before)
