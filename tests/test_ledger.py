"""The id ledger: an entry id never changes once a build has published it (issue #9, point 2).

Every build writes real files; ids and links are read back with feedparser (Atom, RSS) and
the JSON Feed as JSON.
"""

from __future__ import annotations

import os
import zlib

import pytest
from click.testing import CliRunner
from conftest import mtimes
from hypothesis import given, settings
from hypothesis import strategies as st
from test_w3c import w3c

from feedwright.cli import cli
from feedwright.engine.cache import CACHE_NAME
from feedwright.errors import LedgerError
from feedwright.ledger import (
    HEADER,
    NO_FILE,
    Ledger,
    MappingRows,
    Row,
    Shape,
    format_changes,
    format_ledger,
    format_ledger_at,
    format_line,
    format_lines,
    load_ledger,
    new_row,
    parse_ledger,
)

SHA = bytes(range(16))


def line(body: str) -> str:
    """A version-3 line for ``body`` (``path<TAB>hash<TAB>id``), with its checksum."""
    return f"{body}\t{zlib.crc32(body.encode('utf-8', 'surrogateescape')):08x}\n"


def old_format(text: str, version: int) -> str:
    """A version-3 file as feedwright before checksums wrote it (version 1 or 2)."""
    rows = [row.rpartition("\t")[0] for row in text.splitlines()[2:] if row != "end"]
    return f"feedwright-ids {version}\n" + "".join(row + "\n" for row in rows)


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


MOVED_B = "http://news.example/%E4%BD%93%E8%82%B2/2022/03/08/b.html"


def move_both(site) -> None:
    """Build; retitle a (its permalink moves); move b to another category (so does its)."""
    site.build()
    assert entries(site) == [(B, B), (A, A)]
    # a retitle that changes the slug (and so the permalink)
    site.post("2022-03-07-a.md", {"title": "甲新", "categories": "news", "slug": "jia-xin"})
    site.build()
    assert entries(site) == [(B, B), (A, "http://news.example/news/2022/03/07/jia-xin.html")]
    # a category change with a :categories permalink: the post moves to another feed
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "体育"})
    site.build()


def test_ids_survive_a_retitle_a_category_change_https_a_cache_deletion_and_full(site):
    move_both(site)
    assert ids(site) == [B, A] and links(site)[0] == MOVED_B
    assert entries(site, "categories/体育/atom.xml") == [(B, MOVED_B)]
    assert not (site.out / "categories/sport").exists()
    assert b'<guid isPermaLink="false">' + B.encode() in site.read("rss.xml")
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


def test_feeds_whose_ids_are_not_their_links_pass_the_w3c_validator(site):
    move_both(site)
    assert ids(site) == [B, A] and links(site)[0] == MOVED_B
    for feed in ("atom.xml", "rss.xml", "categories/体育/atom.xml", "categories/体育/rss.xml"):
        assert w3c(site.read(feed))[0] == [], feed  # the W3C validator: no errors


def test_the_ledger_is_a_readable_versioned_file_beside_the_cache(site):
    site.build()
    text = (site.out / ".feedwright" / "ids").read_text("utf-8")
    lines = text.splitlines()
    assert lines[0] == HEADER and lines[1].startswith("#") and lines[-1] == "end"
    rows = [row.split("\t") for row in lines[2:-1]]
    assert [fields[0] for fields in rows] == ["_posts/2022-03-07-a.md", "_posts/2022-03-08-b.md"]
    assert [fields[2] for fields in rows] == [A, B]
    # each line ends with the CRC-32 of what comes before it
    assert [row + "\n" for row in lines[2:-1]] == [line("\t".join(f[:3])) for f in rows]
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


A_ROW = f"_posts/2022-03-07-a.md\t{'0' * 32}\t{A}"
BROKEN = {
    "another version": (lambda text: text.replace(HEADER, "feedwright-ids 9"), 1),
    "not a ledger": (lambda text: "{}\n", 1),
    "empty": (lambda text: "", 1),
    "the header cut": (lambda text: HEADER, 1),
    # an edited byte, anywhere in a line: its checksum no longer matches
    "an id edited by hand": (lambda text: text.replace(A, "tag:news.example,2022:a"), 3),
    "one byte of an id": (lambda text: text.replace("jia.html", "jib.html"), 3),
    "a field lost": (lambda text: text.replace("\thttp://news.example/news", "http"), 3),
    "a bad hash": (lambda text: text.replace("md\t", "md\tzz", 1), 3),
    "a checksum cut": (
        lambda text: text.replace(text.splitlines()[2], text.splitlines()[2][:-3]),
        3,
    ),
    "a line as version 2 wrote it": (lambda text: text.replace("end\n", A_ROW + "\nend\n"), 5),
    # a cut: inside a line (the "htt"), or at a line's end
    "cut inside an id": (lambda text: text[: text.index(B) + 3], 4),
    "cut after an id": (lambda text: text[: text.index(B) + len(B)], 4),
    "cut at a line's end": (lambda text: text.removesuffix("end\n"), 4),
    "cut inside 'end'": (lambda text: text.removesuffix("d\n"), 5),
    "cut before the rows": (lambda text: text[: text.index("_posts")], 2),
    "rows appended without their end": (lambda text: text + line(A_ROW), 6),
    # lines with a good checksum that feedwright never writes
    "a path twice": (lambda text: text + text.splitlines()[2] + "\nend\n", 6),
    "a bad escape": (lambda text: text + line(A_ROW.replace("_posts/", "_posts\\q")) + "end\n", 6),
    "an id with a space": (lambda text: text + line(A_ROW.replace("jia", "j a")) + "end\n", 6),
    "a removal of a row that is not there": (
        lambda text: text + line("_posts/x.md\t-\t-") + "end\n",
        6,
    ),
    "a removal that names an id": (
        lambda text: text + line("_posts/2022-03-08-b.md\t-\tx") + "end\n",
        6,
    ),
    # older versions: what they could not tell is caught where it can be
    "a version-1 file with a removal": (
        lambda text: old_format(text, 1) + "_posts/2022-03-08-b.md\t-\t-\n",
        4,
    ),
    "a version-2 file cut inside an id": (lambda text: old_format(text, 2)[:-20], 3),
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
        "#news/_posts/2022-03-09-hash.md": Row(SHA.hex(), "https://x.example/c"),
    }
    data = format_ledger(rows)
    assert data.count(b"\n") == 7  # header, comment, four rows, end
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


@pytest.mark.parametrize("start", [None, {"z.md": Row(SHA.hex(), "https://x/0")}])
def test_lines_made_ahead_are_written_only_for_the_rows_they_were_made_for(start):
    """A worker formats the line of a post's new row (``new_row``) ahead: the file written
    with those lines is byte for byte the one formatted from the rows, whether the row
    fixed is that one (a new path), another (the id follows the path, or a rename) or
    none (an own id)."""
    ledger = Ledger(start)

    def assign(path: str, sha: bytes, url: str, gone: bool = True, own: str = "") -> str:
        row = new_row(sha, own or url, url)
        line = None if row is None else format_line(path, row)
        return ledger.assign(path, sha, own or url, url, gone=lambda p: gone, line=line)

    other = SHA[::-1]
    assert assign("a.md", SHA, "https://x/1", gone=False) == "https://x/1"
    assert assign("a.md", other, "https://x/2") == "https://x/1"  # made for x/2: not used
    assert assign("b\tab\t.md", bytes(16), "https://x/3") == "https://x/3"
    assert assign("c.md", other, "https://x/4") == "https://x/1"  # a.md renamed
    assert assign("d.md", SHA, "https://x/5", own="urn:own") == "urn:own"
    assert assign("#e.md", bytes(range(1, 17)), "https://x/6") == "https://x/6"
    assert set(ledger.made) <= set(ledger.changes)
    for path, line in ledger.made.items():
        assert line == format_line(path, ledger.changes[path])
    assert format_ledger_at(ledger.rows, ledger.made) == format_ledger_at(ledger.rows)
    assert format_lines(sorted(ledger.changes.items()), 7, ledger.made) == format_lines(
        sorted(ledger.changes.items()), 7
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.md", "b.md", "c.md"]),
            st.sampled_from([SHA, SHA[::-1], bytes(16)]),
            st.booleans(),  # an own id
            st.frozensets(st.sampled_from(["a.md", "b.md", "c.md"])),  # the posts gone
        ),
        max_size=12,
    )
)
def test_the_quick_path_of_a_ledger_without_rows_follows_the_rules(steps):
    """A ledger that starts without rows takes a post at a new path whose content no row
    has in a few steps: what it fixes is what the rules fix step by step (a ledger over
    an empty row source takes no quick path)."""
    quick, slow = Ledger(), Ledger(MappingRows({}))
    for i, (path, sha, own, gone) in enumerate(steps):
        url = f"https://x/{i}"
        entry_id = f"urn:{i}" if own else url
        row = new_row(sha, entry_id, url)
        line = None if row is None else format_line(path, row)
        ids = [
            ledger.assign(path, sha, entry_id, url, gone=gone.__contains__, line=line)
            for ledger in (quick, slow)
        ]
        assert ids[0] == ids[1]
        assert quick.changes == slow.changes
        assert quick.shape(NO_FILE) == slow.shape(NO_FILE)
    for path, made in quick.made.items():
        assert made == format_line(path, quick.changes[path])


def test_the_ledger_is_not_a_feed_in_the_opml(site):
    site.build()
    assert b".feedwright" not in site.read("feeds.opml")
    assert os.path.exists(site.out / ".feedwright" / "ids")


def test_check_reads_a_changed_ledger_without_touching_the_cache_or_the_ledger(site):
    site.build()
    state = site.out / ".feedwright"
    ledger = state / "ids"
    text = ledger.read_text("utf-8")
    sha = text.splitlines()[2].split("\t")[1]  # another id for A, as feedwright writes it
    ledger.write_text(
        text + line(f"_posts/2022-03-07-a.md\t{sha}\ttag:news.example,2022:a") + "end\n"
    )
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
    appended, end = after[len(before) :].decode().splitlines()
    path, new_hash, entry_id, _check = appended.split("\t")
    assert (path, entry_id, end) == ("_posts/2022-03-07-a.md", A, "end")
    assert new_hash != old_hash
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
    assert added[0] + "\n" == line("_posts/2022-03-08-b.md\t-\t-")
    renamed_row = added[1].split("\t")
    assert (renamed_row[0], renamed_row[2]) == ("_posts/2022-03-08-renamed.md", B)
    assert added[2:] == ["end"]
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


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_file_is_read_and_written_as_version_3_by_the_next_build(site, version):
    site.build()
    text = ledger_file(site).read_text("utf-8")
    edited = old_format(text, version).replace(A, "tag:news.example,2022:a")
    ledger_file(site).write_text(edited, "utf-8")
    site.build()  # what feedwright before version 3 wrote: read, and written as version 3
    assert load_ledger(ledger_file(site).read_bytes(), "ids").shape == Shape(3, 2, 0)
    rows = parse_ledger(ledger_file(site).read_bytes(), "ids")
    assert {path: row.id for path, row in rows.items()} == {
        "_posts/2022-03-07-a.md": "tag:news.example,2022:a",
        "_posts/2022-03-08-b.md": B,
    }
    assert ids(site) == [B, "tag:news.example,2022:a"]


def test_an_edit_by_hand_that_keeps_the_size_and_mtime_is_noticed(site):
    site.build()
    path = ledger_file(site)
    st = path.stat()
    text = path.read_text("utf-8")
    path.write_text(text.replace("b.html", "c.html"), "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    with pytest.raises(LedgerError, match=r"ids:4: the line is not as feedwright wrote it"):
        site.build()


def test_later_lines_supersede_and_removals_remove():
    old, new = SHA.hex(), SHA[::-1].hex()

    def ledger(path: str) -> bytes:
        lines = [
            line(f"a.md\t{old}\thttps://x/a"),
            line(f"{path}\t{old}\thttps://x/b"),
            "end\n",
            line(f"a.md\t{new}\thttps://x/a"),
            line(f"{path}\t-\t-"),
            line(f"d.md\t{old}\thttps://x/b"),
            "end\n",
        ]
        return f"{HEADER}\n# comment\n{''.join(lines)}".encode()

    loaded = load_ledger(ledger("b\\tc.md"), "ids")
    assert loaded.rows == {"a.md": Row(new, "https://x/a"), "d.md": Row(old, "https://x/b")}
    assert loaded.shape == Shape(3, 2, 3)
    # the escaped path is read line by line; without it, in one pass: the same rows
    assert load_ledger(ledger("bc.md"), "ids") == loaded
    again = ledger("bc.md").replace(
        line(f"a.md\t{new}\thttps://x/a").encode(), line(f"a.md\t{old}\thttps://x/a").encode()
    )
    with pytest.raises(LedgerError, match=r"ids:6: a.md has this row already \(line 3\)"):
        load_ledger(again, "ids")
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
    assert ledger.shape(Shape(3, 2, 0)) == Shape(3, 2, 2)  # a removal: its row and itself
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
    # the same size, mtime and last 4 KiB: one byte of A's id changed, where the cache
    # says A's line is
    path.write_text(text.replace(A, A.replace("jia.html", "jib.html")), "utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    # A's line is read where the cache says it is, and its checksum does not match: the
    # file is read whole, and the build stops at that line
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"}, "改过。")
    with pytest.raises(LedgerError, match=r"ids:3: the line is not as feedwright wrote it"):
        site.build()
