"""The id ledger: an entry id never changes once a build has published it (issue #9, point 2).

Every build writes real files; ids and links are read back with feedparser (Atom, RSS) and
the JSON Feed as JSON.
"""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from conftest import mtimes
from test_w3c import w3c

from feedwright.cli import cli
from feedwright.engine.cache import CACHE_NAME
from feedwright.errors import LedgerError
from feedwright.ledger import (
    HEADER,
    NO_FILE,
    Ledger,
    Row,
    Shape,
    format_changes,
    format_ledger,
    load_ledger,
    parse_ledger,
)

SHA = bytes(range(16))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def entries(site, relpath: str = "atom.xml") -> list[tuple[str, str]]:
    """``(id, link)`` of each entry of a feed, in feed order, in every format."""
    atom = [(e.id, e.link) for e in site.feed(relpath).entries]
    rss = [(e.id, e.link) for e in site.feed(relpath.replace("atom.xml", "rss.xml")).entries]
    json_feed = site.feed(relpath.replace("atom.xml", "feed.json"))["items"]
    assert rss == atom
    assert [(i["id"], i["url"]) for i in json_feed] == atom
    return atom


def ids(site, relpath: str = "atom.xml") -> list[str]:
    return [entry_id for entry_id, _link in entries(site, relpath)]


def links(site, relpath: str = "atom.xml") -> list[str]:
    return [link for _id, link in entries(site, relpath)]


@pytest.fixture
def site(make_site):
    site = make_site(site={"url": "http://news.example"})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport"})
    return site


A = "http://news.example/news/2022/03/07/jia.html"
B = "http://news.example/sport/2022/03/08/b.html"


def test_ids_survive_a_retitle_a_category_change_https_a_cache_deletion_and_full(site):
    site.build()
    assert entries(site) == [(B, B), (A, A)]
    # a retitle that changes the slug (and so the permalink)
    site.post("2022-03-07-a.md", {"title": "甲新", "categories": "news", "slug": "jia-xin"})
    site.build()
    assert entries(site) == [(B, B), (A, "http://news.example/news/2022/03/07/jia-xin.html")]
    # a category change with a :categories permalink: the post moves to another feed
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "体育"})
    site.build()
    moved_b = "http://news.example/%E4%BD%93%E8%82%B2/2022/03/08/b.html"
    assert ids(site) == [B, A] and links(site)[0] == moved_b
    assert entries(site, "categories/体育/atom.xml") == [(B, moved_b)]
    assert not (site.out / "categories/sport").exists()
    assert b'<guid isPermaLink="false">' + B.encode() in site.read("rss.xml")
    for feed in ("atom.xml", "rss.xml", "categories/体育/atom.xml", "categories/体育/rss.xml"):
        assert w3c(site.read(feed))[0] == [], feed  # the W3C validator: no errors
    # http → https: every link follows, no id moves
    site.settings["site"]["url"] = "https://news.example"
    site.save()
    site.build()
    assert ids(site) == [B, A]
    assert all(link.startswith("https://news.example/") for link in links(site))
    before = site.read("atom.xml")
    # the cache is disposable: deleting it, or --full, changes no byte
    (site.out / ".feedwright" / CACHE_NAME).unlink()
    assert site.build().written == ()
    assert site.build(full=True).written == ()
    assert site.read("atom.xml") == before


def test_the_ledger_is_a_readable_versioned_file_beside_the_cache(site):
    site.build()
    text = (site.out / ".feedwright" / "ids").read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == HEADER and lines[1].startswith("#")
    assert [line.split("\t")[0] for line in lines[2:]] == [
        "_posts/2022-03-07-a.md",
        "_posts/2022-03-08-b.md",
    ]
    assert [line.split("\t")[2] for line in lines[2:]] == [A, B]
    mtime = (site.out / ".feedwright" / "ids").stat().st_mtime_ns
    site.build()  # nothing new: the ledger is not rewritten
    assert (site.out / ".feedwright" / "ids").stat().st_mtime_ns == mtime


def test_a_renamed_post_keeps_its_id_and_a_copy_gets_its_own(site):
    site.build()
    old = site.src / "_posts" / "2022-03-08-b.md"
    data = old.read_bytes()
    old.rename(site.src / "_posts" / "2022-03-08-renamed.md")
    site.build()
    assert entries(site)[0] == (B, "http://news.example/sport/2022/03/08/renamed.html")
    # a copy (the original is still there) is another post with an id of its own
    (site.src / "_posts" / "2022-03-08-copy.md").write_bytes(data)
    report = site.build()
    assert report.errors == ()
    copy = "http://news.example/sport/2022/03/08/copy.html"
    assert (copy, copy) in entries(site) and B in ids(site)


def test_a_rename_seen_only_after_a_deletion_still_keeps_the_id(site):
    site.build()
    path = site.src / "_posts" / "2022-03-08-b.md"
    data = path.read_bytes()
    path.unlink()
    site.build()
    assert ids(site) == [A]
    (site.src / "_posts" / "2022-03-08-back.md").write_bytes(data)
    site.build()
    assert ids(site) == [B, A]


def test_front_matter_id_wins(site):
    site.build()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "id": "urn:uuid:1"})
    site.build()
    assert ids(site) == [B, "urn:uuid:1"]
    # without it again, the ledger's id is back
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"})
    site.build()
    assert ids(site) == [B, A]


def test_a_ledger_reset_on_purpose_gives_every_post_its_permalink(site):
    site.build()
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "news"})
    site.build()
    assert ids(site)[0] == B
    (site.out / ".feedwright" / "ids").unlink()  # the documented reset
    site.build()
    new_b = "http://news.example/news/2022/03/08/b.html"
    assert entries(site) == [(new_b, new_b), (A, A)]


def test_an_id_edited_by_hand_is_used_and_the_cache_does_not_hide_it(site):
    site.build()
    ledger = site.out / ".feedwright" / "ids"
    ledger.write_text(ledger.read_text("utf-8").replace(A, "tag:news.example,2022:a"), "utf-8")
    site.build()
    assert ids(site) == [B, "tag:news.example,2022:a"]


BROKEN = {
    "another version": (lambda text: text.replace(HEADER, "feedwright-ids 9"), 1),
    "not a ledger": (lambda text: "{}\n", 1),
    "empty": (lambda text: "", 1),
    "a field lost": (lambda text: text.replace("\thttp://news.example/news", "http"), 3),
    "a bad hash": (lambda text: text.replace("md\t", "md\tzz", 1), 3),
    "a path twice": (lambda text: text + text.splitlines()[2] + "\n", 5),
    "a bad escape": (lambda text: text.replace("_posts/2022-03-07", "_posts\\q2022", 1), 3),
    "an id with a space": (lambda text: text.replace("jia.html", "jia .html"), 3),
    "a removal of a row that is not there": (lambda text: text + "_posts/x.md\t-\t-\n", 5),
    "a removal that names an id": (lambda text: text + "_posts/2022-03-08-b.md\t-\tx\n", 5),
    "a line cut short": (lambda text: text + "_posts/2022-03-07-a.md\t0123", 5),
    "a version-1 file with a removal": (
        lambda text: text.replace(HEADER, "feedwright-ids 1") + "_posts/2022-03-08-b.md\t-\t-\n",
        5,
    ),
}


@pytest.mark.parametrize("damage", list(BROKEN), ids=list(BROKEN))
def test_a_broken_ledger_stops_the_build_with_its_line_and_writes_nothing(site, damage):
    site.build()
    ledger = site.out / ".feedwright" / "ids"
    change, line = BROKEN[damage]
    ledger.write_text(change(ledger.read_text("utf-8")), "utf-8")
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news"})  # work to do
    before = mtimes(site.out)
    for command in ("build", "check", "feeds"):
        result = run(command, "--config", str(site.config_path))
        assert result.exit_code == 2, (command, result.output)
        assert f"{ledger}:{line}: " in result.stderr
        assert "Traceback" not in result.output
    assert mtimes(site.out) == before


def test_undecodable_bytes_are_named_by_line(site):
    site.build()
    ledger = site.out / ".feedwright" / "ids"
    ledger.write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
    with pytest.raises(LedgerError, match=r"ids:1: |ids:2: "):
        site.build()


def test_check_lists_moved_permalinks_and_ids_claimed_twice(site):
    site.build()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "sport", "slug": "jia"})
    site.build()
    result = run("check", "--config", str(site.config_path))
    assert result.exit_code == 0, result.output
    moved = "http://news.example/sport/2022/03/07/jia.html"
    assert f"moved: _posts/2022-03-07-a.md: the permalink moved to {moved}; " in result.stdout
    assert f"the entry id stays {A}" in result.stdout
    # a new post at the old permalink claims the id the ledger fixed for the moved one
    site.post("2022-03-07-c.md", {"title": "丙", "categories": "news", "slug": "jia"})
    result = run("check", "--config", str(site.config_path))
    assert result.exit_code == 1
    line = f"claimed twice: {A}: claimed by _posts/2022-03-07-a.md, _posts/2022-03-07-c.md"
    assert line in result.stdout.splitlines()
    assert (
        f"_posts/2022-03-07-c.md:1: has the same entry id as _posts/2022-03-07-a.md ({A}); "
        "skipped: to publish both, add an id: line to the newer post's front matter"
    ) in result.stderr.splitlines()
    # the post that held the id keeps it (and its place in the feeds); the newcomer waits
    report = site.build()
    assert [e.split(":")[0] for e in report.errors] == ["_posts/2022-03-07-c.md"]
    assert entries(site, "categories/sport/atom.xml") == [(B, B), (A, moved)]


# -- the pure part ---------------------------------------------------------------------------
def test_format_and_parse_round_trip_with_awkward_paths():
    rows = {
        "_posts/2022-03-07-a\tb.md": Row(SHA.hex(), "https://x.example/a"),
        "新闻/_posts/2022-03-07-\\n.md": Row(SHA[::-1].hex(), "https://x.example/%E6%96%B0"),
        "_posts/2022-03-08-plain.md": Row(SHA.hex(), "https://x.example/b"),
    }
    data = format_ledger(rows)
    assert data.count(b"\n") == 5
    assert parse_ledger(data, "ids") == rows
    assert format_ledger(parse_ledger(data, "ids")) == data


def test_assign_fixes_the_first_id_and_follows_renames_only_from_gone_posts():
    ledger = Ledger()
    assert ledger.assign("a.md", SHA, "https://x/1", "https://x/1", gone=lambda p: True) == (
        "https://x/1"
    )
    # the permalink moves: the id stays, the hash follows the content
    other = SHA[::-1]
    assert ledger.assign("a.md", other, "https://x/2", "https://x/2", gone=lambda p: True) == (
        "https://x/1"
    )
    assert ledger.rows["a.md"] == Row(other.hex(), "https://x/1")
    # same content at a new path while a.md is still there: a copy, its own id
    copy = ledger.assign("b.md", other, "https://x/3", "https://x/3", gone=lambda p: False)
    assert copy == "https://x/3"
    # once a.md is gone, the same content at a new path is a.md renamed
    renamed = ledger.assign("c.md", other, "https://x/4", "https://x/4", gone=lambda p: p == "a.md")
    assert renamed == "https://x/1" and "a.md" not in ledger.rows
    # an own id is kept and not recorded
    assert ledger.assign("d.md", SHA, "urn:x", "https://x/5", gone=lambda p: True) == "urn:x"
    assert "d.md" not in ledger.rows


def test_the_ledger_is_not_a_feed_in_the_opml(site):
    site.build()
    assert b".feedwright" not in site.read("feeds.opml")
    assert os.path.exists(site.out / ".feedwright" / "ids")


def test_check_reads_a_changed_ledger_without_touching_the_cache_or_the_ledger(site):
    site.build()
    state = site.out / ".feedwright"
    ledger = state / "ids"
    ledger.write_text(ledger.read_text("utf-8").replace(A, "tag:news.example,2022:a"), "utf-8")
    before = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    site.post("2022-03-09-c.md", {"title": "丙", "categories": "news"})  # a new row, unwritten
    result = run("check", "--config", str(site.config_path))
    assert result.exit_code == 0, result.output
    assert "moved: _posts/2022-03-07-a.md: the permalink moved to " + A in result.stdout
    assert {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()} == before
    site.build()
    assert ids(site) == [
        "http://news.example/news/2022/03/09/c.html",
        B,
        "tag:news.example,2022:a",
    ]


# -- what an incremental build costs: the file grows by the lines that changed --------------
def ledger_file(site):
    return site.out / ".feedwright" / "ids"


def test_an_edit_appends_one_line_and_check_appends_none(site):
    site.build()
    before = ledger_file(site).read_bytes()
    old_hash = before.decode().splitlines()[2].split("\t")[1]
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"}, "改过。")
    assert run("check", "--config", str(site.config_path)).exit_code == 0
    assert ledger_file(site).read_bytes() == before  # a dry run appends nothing
    site.build()
    after = ledger_file(site).read_bytes()
    assert after.startswith(before)  # appended, not rewritten
    path, new_hash, entry_id = after[len(before) :].decode().rstrip("\n").split("\t")
    assert (path, entry_id) == ("_posts/2022-03-07-a.md", A) and new_hash != old_hash
    assert ids(site) == [B, A]
    site.build()  # nothing new: nothing appended
    assert ledger_file(site).read_bytes() == after
    # a build that reads the whole file (here: without the cache) also compacts it
    feeds = site.read("atom.xml")
    (site.out / ".feedwright" / CACHE_NAME).unlink()
    assert site.build().written == ()
    compact = ledger_file(site).read_bytes()
    assert compact == format_ledger(parse_ledger(after, "ids")) and len(compact) < len(after)
    assert site.read("atom.xml") == feeds


def test_a_rename_appends_a_removal_and_the_old_path_is_free_again(site):
    site.build()
    before = ledger_file(site).read_bytes()
    old = site.src / "_posts" / "2022-03-08-b.md"
    data = old.read_bytes()
    old.rename(site.src / "_posts" / "2022-03-08-renamed.md")
    site.build()
    added = ledger_file(site).read_bytes()[len(before) :].decode().splitlines()
    assert added[0] == "_posts/2022-03-08-b.md\t-\t-"
    assert added[1].startswith("_posts/2022-03-08-renamed.md\t") and added[1].endswith("\t" + B)
    renamed = "http://news.example/sport/2022/03/08/renamed.html"
    assert entries(site)[0] == (B, renamed)
    # a new post at the old path is a new post: its own id, not B again
    old.write_bytes(data.replace("乙".encode(), "乙二".encode()))
    site.build()
    assert (B, renamed) in entries(site) and (B, B) not in entries(site)
    feeds = site.read("atom.xml")
    assert site.build(full=True).written == ()  # --full reads the same ids back
    assert site.read("atom.xml") == feeds


def test_superseded_lines_never_outnumber_the_rows(site):
    site.build()
    sizes = []
    for i in range(4):
        site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"}, f"{i}")
        site.build()
        loaded = load_ledger(ledger_file(site).read_bytes(), "ids")
        assert loaded.shape.dead <= loaded.shape.live == 2
        sizes.append(len(ledger_file(site).read_bytes()))
    assert sizes[0] < sizes[1] and sizes[2] < sizes[1]  # two appends, then written again
    assert ids(site) == [B, A]


def test_a_version_1_file_is_read_and_written_as_version_2_by_the_next_build(site):
    site.build()
    text = ledger_file(site).read_text("utf-8")
    v1 = "feedwright-ids 1\n" + "".join(line + "\n" for line in text.splitlines()[2:])
    ledger_file(site).write_text(v1.replace(A, "tag:news.example,2022:a"), "utf-8")
    site.build()  # what feedwright before version 2 wrote: read, and written as version 2
    assert load_ledger(ledger_file(site).read_bytes(), "ids").shape == Shape(2, 2, 0)
    assert ledger_file(site).read_text("utf-8") == text.replace(A, "tag:news.example,2022:a")
    assert ids(site) == [B, "tag:news.example,2022:a"]


def test_a_line_appended_by_hand_is_read_and_used(site):
    site.build()
    text = ledger_file(site).read_text("utf-8")
    row = text.splitlines()[2]
    with ledger_file(site).open("a", encoding="utf-8") as f:
        f.write(row.replace(A, "tag:news.example,2022:a") + "\n")
    site.build()
    assert ids(site) == [B, "tag:news.example,2022:a"]


def test_an_edit_by_hand_that_keeps_the_size_and_mtime_is_noticed(site):
    site.build()
    path = ledger_file(site)
    st = path.stat()
    text = path.read_text("utf-8")
    assert text.endswith(B + "\n")
    path.write_text(text.replace(B, B.replace("b.html", "c.html")), "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    site.build()
    assert ids(site) == [B.replace("b.html", "c.html"), A]


def test_later_lines_supersede_and_removals_remove():
    old, new = SHA.hex(), SHA[::-1].hex()
    data = (
        f"{HEADER}\n# comment\n"
        f"a.md\t{old}\thttps://x/a\nb\\tc.md\t{old}\thttps://x/b\n"
        f"a.md\t{new}\thttps://x/a\nb\\tc.md\t-\t-\nd.md\t{old}\thttps://x/b\n"
    ).encode()
    loaded = load_ledger(data, "ids")
    assert loaded.rows == {"a.md": Row(new, "https://x/a"), "d.md": Row(old, "https://x/b")}
    assert loaded.shape == Shape(2, 2, 3)
    # the escaped path is read line by line; without it, in one pass: the same rows
    assert load_ledger(data.replace(b"b\\tc.md", b"bc.md"), "ids") == loaded
    with pytest.raises(LedgerError, match=r"ids:5: a.md has this row already \(line 3\)"):
        load_ledger(data.replace(new.encode(), old.encode()), "ids")
    with pytest.raises(LedgerError, match=r"ids:3: a.md has a row already \(line 2\)"):
        load_ledger(f"feedwright-ids 1\na.md\t{old}\tu\na.md\t{new}\tu\n".encode(), "ids")


def test_a_ledger_over_rows_it_does_not_hold_records_only_what_changed():
    base = {"a.md": Row(SHA.hex(), "https://x/1"), "b.md": Row(SHA[::-1].hex(), "https://x/2")}
    ledger = Ledger(base)
    gone = {"b.md"}.__contains__
    assert ledger.assign("a.md", SHA, "https://x/9", "https://x/9", gone) == "https://x/1"
    assert not ledger.changed  # the same hash: nothing to append
    assert ledger.assign("c\td.md", SHA[::-1], "https://x/3", "https://x/3", gone) == "https://x/2"
    assert ledger.changes == {"b.md": None, "c\td.md": Row(SHA[::-1].hex(), "https://x/2")}
    assert ledger.shape(Shape(2, 2, 0)) == Shape(2, 2, 2)  # a removal: its row and itself
    assert base["b.md"] == Row(SHA[::-1].hex(), "https://x/2")  # the source is not changed
    data = format_ledger(base) + format_changes(ledger.changes)
    assert load_ledger(data, "ids").rows == ledger.rows
    assert NO_FILE.version == 0 and not NO_FILE.appendable


def test_a_hand_edit_the_stamp_cannot_see_is_read_whole_not_half_trusted(site):
    for i in range(60):  # rows after A's and B's, filling the last 4 KiB the stamp hashes
        site.post(f"2021-01-{1 + i % 28:02d}-filler{i}.md", {"title": f"填{i}"}, folder="zz/_posts")
    site.build()
    path = ledger_file(site)
    st = path.stat()
    text = path.read_text("utf-8")
    assert text.index(B) + len(B) < len(text.encode()) - 4096
    # the same size, mtime and last 4 KiB: one byte less in the comment, one more in A's id
    moved = A.replace("jia.html", "jiaa.html")
    path.write_text(text.replace("# path", "#path", 1).replace(A, moved), "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    # A's row is not where the cache says: the file is read whole, the edit is used
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"}, "改过。")
    report = site.build()
    assert report.errors == ()
    assert entries(site, "categories/news/atom.xml") == [(moved, A)]
