"""The output writer on real files: safe paths, atomic skip-unchanged writes, manifest, prune."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedwright.errors import OutputError
from feedwright.model import GroupKey, ManifestEntry
from feedwright.output import ARCHIVE_MANIFEST, Output, Stat, Writer, manifest, safe_join

OLD = 1_600_000_000_000_000_000  # an mtime (ns) well in the past


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- safe_join ------------------------------------------------------------------------------


def test_safe_join_accepts_paths_inside(tmp_path):
    assert safe_join(tmp_path, "tags/株洲/atom.xml") == tmp_path / "tags" / "株洲" / "atom.xml"
    assert safe_join(tmp_path, "atom.xml") == tmp_path / "atom.xml"


@pytest.mark.parametrize(
    "relpath",
    ["../x", "a/../../x", "tags/../../x", "/etc/passwd", "", "a//b", "./a", "a/.", "a\x00b"],
)
def test_safe_join_refuses_escapes(tmp_path, relpath):
    with pytest.raises(OutputError) as info:
        safe_join(tmp_path / "out", relpath)
    assert str(info.value).startswith(f"{relpath}: refusing")


def test_safe_join_refuses_a_symlink_that_leads_out(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "tags").symlink_to(outside)
    (out / "inner").symlink_to(out / "sub")
    with pytest.raises(OutputError):
        safe_join(out, "tags/x/atom.xml")
    assert safe_join(out, "inner/atom.xml") == out / "inner" / "atom.xml"


def test_write_never_follows_a_symlink_out(tmp_path):
    out, outside = tmp_path / "out", tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / "tags").symlink_to(outside)
    with pytest.raises(OutputError):
        Writer(out).write("tags/atom.xml", b"x")
    assert list(outside.iterdir()) == []


# -- writes ---------------------------------------------------------------------------------


def stat(path: Path) -> Stat:
    st = path.stat()
    return Stat(st.st_size, st.st_mtime_ns)


def test_write_creates_folders_and_skips_unchanged_bytes(tmp_path):
    out = Writer(tmp_path / "out")
    done = out.write("tags/株洲/atom.xml", b"<feed/>")
    assert done.changed is True
    path = tmp_path / "out" / "tags" / "株洲" / "atom.xml"
    assert path.read_bytes() == b"<feed/>"
    assert done.stat == stat(path)  # what it left on the disk, so no one stats it again
    os.utime(path, ns=(OLD, OLD))
    done = out.write("tags/株洲/atom.xml", b"<feed/>")
    assert done.changed is False and done.stat == Stat(7, OLD)
    assert path.stat().st_mtime_ns == OLD
    assert out.write("tags/株洲/atom.xml", b"<feed/>\n").changed is True
    assert path.read_bytes() == b"<feed/>\n"
    assert path.stat().st_mtime_ns != OLD
    # A shorter content that is a prefix of the old one is still a change.
    done = out.write("tags/株洲/atom.xml", b"<feed")
    assert done.changed is True and done.stat == stat(path)
    assert path.read_bytes() == b"<feed"
    assert files(tmp_path / "out") == ["tags/株洲/atom.xml"]  # no temporary files left


def test_a_batch_is_published_at_once_and_a_discarded_one_leaves_nothing(tmp_path):
    out = Writer(tmp_path)
    out.write("a/atom.xml", b"old")
    batch = [out.stage("a/atom.xml", b"new"), out.stage("b/atom.xml", b"b")]
    assert (tmp_path / "a" / "atom.xml").read_bytes() == b"old"  # nothing published yet
    assert not (tmp_path / "b" / "atom.xml").exists()
    out.publish(batch)
    assert (tmp_path / "a" / "atom.xml").read_bytes() == b"new"
    assert [s.stat for s in batch] == [
        stat(tmp_path / "a" / "atom.xml"),
        stat(tmp_path / "b" / "atom.xml"),
    ]
    out.discard([out.stage("a/atom.xml", b"newer"), out.stage("c/atom.xml", b"c")])
    assert files(tmp_path) == ["a/atom.xml", "b/atom.xml"]
    assert (tmp_path / "a" / "atom.xml").read_bytes() == b"new"


def test_write_replaces_atomically_a_reader_keeps_the_old_file(tmp_path):
    out = Writer(tmp_path)
    out.write("atom.xml", b"old")
    with open(tmp_path / "atom.xml", "rb") as reader:
        out.write("atom.xml", b"new")
        assert reader.read() == b"old"  # the old inode, untouched: rename, not rewrite
    assert (tmp_path / "atom.xml").read_bytes() == b"new"
    assert (tmp_path / "atom.xml").stat().st_mode & 0o777 == 0o644


def test_write_with_a_folder_in_the_way_is_an_error(tmp_path):
    (tmp_path / "atom.xml").mkdir()
    with pytest.raises(OutputError) as info:
        Writer(tmp_path).write("atom.xml", b"x")
    assert str(info.value) == "atom.xml: a folder is in the way of this feed"


def test_prepare_removes_only_leftover_temporary_files(tmp_path):
    leftovers = [".atom.xml.0123456789abcdef.fwtmp", "tags/x/.rss.xml.fedcba9876543210.fwtmp"]
    kept = [
        "notes.fwtmp",
        ".atom.xml.0123.fwtmp",
        "atom.xml.0123456789abcdef.fwtmp",
        "tags/x/notes.txt",
        "index.html",
    ]
    for name in leftovers + kept:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    Output(tmp_path).clean_temporary()
    assert files(tmp_path) == sorted(kept)


def test_prepare_creates_the_folder(tmp_path):
    Output(tmp_path / "a" / "b").prepare()
    assert (tmp_path / "a" / "b").is_dir()


# -- manifest and removal -------------------------------------------------------------------


def test_manifest_round_trips(tmp_path):
    out = Output(tmp_path)
    entries = {
        "tags/株洲/atom.xml": ManifestEntry(sources=("_posts/2022-03-07-a.md",)),
        "feeds.opml": ManifestEntry(),
    }
    out.save_manifest(entries)
    loaded = Output(tmp_path).load_manifest()
    assert loaded.entries == entries and not loaded.damaged and loaded.warning is None
    assert "株洲".encode() in (tmp_path / ".feedwright" / "manifest").read_bytes()


def archive_entries(out: Output, groups=None) -> dict:
    entries: dict = {}
    for loaded in out.load_archive_manifests(groups):
        assert not loaded.damaged
        entries.update(loaded.entries)
    return entries


def test_archive_entries_are_saved_apart_and_an_old_manifest_says_it_holds_them(tmp_path):
    out = Output(tmp_path)
    feed, archive = "tags/a/atom.xml", "tags/a/archive/2022/03/atom.xml"
    out.save_manifest({feed: ManifestEntry(), archive: ManifestEntry()})
    assert out.load_manifest().entries == {feed: ManifestEntry()}
    assert archive_entries(out) == {archive: ManifestEntry()}
    # without archives (a build that read none) only the main one is saved
    out.save_manifest({feed: ManifestEntry(name="A")}, archives=frozenset())
    assert archive_entries(out) == {archive: ManifestEntry()}
    (tmp_path / ".feedwright" / "manifest").write_bytes(
        b'{"version": 1, "files": {"%s": {}}}' % archive.encode()
    )
    assert out.load_manifest().mixed


A, B = GroupKey("tag", "a"), GroupKey("category", "株洲 b")
A_FILE, B_FILE = "tags/a/archive/2022/03/atom.xml", "categories/株洲 b/archive/2022/atom.xml"
SITE_FILE = "archive/2022/03/atom.xml"


def test_each_group_has_its_archive_entries_in_a_file_of_its_own(tmp_path):
    out = Output(tmp_path)
    one = ManifestEntry(sources=("_posts/2022-03-01-x.md",))
    entries = {A_FILE: one, B_FILE: one, SITE_FILE: one, "atom.xml": one}
    out.save_manifest(entries)
    folder = tmp_path / ".feedwright" / "archives"
    assert len(list(folder.iterdir())) == 3
    assert archive_entries(out, [A]) == {A_FILE: one}
    assert archive_entries(out, [B, GroupKey("site", "")]) == {B_FILE: one, SITE_FILE: one}
    assert archive_entries(out, [GroupKey("tag", "none")]) == {}
    # saving one group's entries leaves the others' files alone (not even read)
    (folder / manifest.archive_name(B)).write_bytes(b"not read")
    two = ManifestEntry(sources=("_posts/2022-03-02-y.md",))
    out.save_manifest({A_FILE: two, "atom.xml": one}, archives=frozenset({A}))
    assert archive_entries(out, [A]) == {A_FILE: two}
    assert (folder / manifest.archive_name(B)).read_bytes() == b"not read"
    # a group left without archive entries loses its file
    out.save_manifest({"atom.xml": one}, archives=frozenset({A}))
    assert not (folder / manifest.archive_name(A)).exists()
    # saving all of them removes the files of the groups that have none
    out.save_manifest({SITE_FILE: one})
    assert [p.name for p in folder.iterdir()] == [manifest.archive_name(GroupKey("site", ""))]
    assert archive_entries(out) == {SITE_FILE: one}


def test_the_one_archives_manifest_of_older_builds_is_read_then_split(tmp_path):
    out = Output(tmp_path)
    one = ManifestEntry(sources=("_posts/2022-03-01-x.md",))
    state = tmp_path / ".feedwright"
    state.mkdir()
    (state / ARCHIVE_MANIFEST).write_bytes(manifest.encode({A_FILE: one, B_FILE: one}))
    (first, *rest) = out.load_archive_manifests([A])
    assert first.mixed and first.entries == {A_FILE: one, B_FILE: one} and rest == []
    # a group that has a file of its own (a build killed while splitting) reads it, not
    # the old file's entries
    two = ManifestEntry(sources=("_posts/2022-03-02-y.md",))
    out.save_manifest({A_FILE: two}, archives=frozenset({A}))
    assert (state / ARCHIVE_MANIFEST).exists()
    # while the old file is there, every group's file is read with it
    assert archive_entries(out, [B]) == archive_entries(out) == {B_FILE: one, A_FILE: two}
    # saved whole, the old file goes
    out.save_manifest({A_FILE: two, B_FILE: one})
    assert not (state / ARCHIVE_MANIFEST).exists()
    assert archive_entries(out) == {B_FILE: one, A_FILE: two}


def test_a_damaged_archive_manifest_says_so(tmp_path):
    out = Output(tmp_path)
    out.save_manifest({A_FILE: ManifestEntry()})
    (tmp_path / ".feedwright" / "archives" / manifest.archive_name(A)).write_bytes(b"{")
    (loaded,) = out.load_archive_manifests([A])
    assert loaded.damaged and loaded.warning is not None


@pytest.mark.parametrize(
    "data",
    [
        b"garbage{",
        b"[]",
        b'{"files": 3}',
        b'{"files": {"atom.xml": 5}}',
        b'{"files": {"atom.xml": {"sources": 5}}}',
        b"\xff\xfe\x00",
        b"",
    ],
)
def test_a_corrupt_manifest_is_empty_and_says_so(tmp_path, data):
    (tmp_path / ".feedwright").mkdir()
    (tmp_path / ".feedwright" / "manifest").write_bytes(data)
    loaded = Output(tmp_path).load_manifest()
    assert loaded.entries == {} and loaded.damaged
    assert loaded.warning is not None and "manifest" in loaded.warning


def test_no_manifest_is_empty_and_not_damaged(tmp_path):
    loaded = Output(tmp_path).load_manifest()
    assert loaded.entries == {} and not loaded.damaged and loaded.warning is None


def test_remove_deletes_the_file_and_the_folders_it_empties(tmp_path):
    out = Writer(tmp_path)
    out.write("tags/a/atom.xml", b"x")
    out.write("tags/b/atom.xml", b"x")
    assert out.remove("tags/a/atom.xml") is True
    assert files(tmp_path) == ["tags/b/atom.xml"]
    assert not (tmp_path / "tags" / "a").exists()
    assert out.remove("tags/b/atom.xml") is True
    assert not (tmp_path / "tags").exists()
    assert tmp_path.is_dir()
    assert out.remove("tags/b/atom.xml") is False


def test_remove_keeps_a_folder_holding_other_files(tmp_path):
    out = Writer(tmp_path)
    out.write("tags/a/atom.xml", b"x")
    (tmp_path / "tags" / "a" / "notes.txt").write_bytes(b"mine")
    assert out.remove("tags/a/atom.xml") is True
    assert files(tmp_path) == ["tags/a/notes.txt"]


def test_remove_refuses_paths_outside(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (tmp_path / "victim.txt").write_bytes(b"keep")
    out = Writer(out_dir)
    assert out.remove("../victim.txt") is False
    assert (tmp_path / "victim.txt").read_bytes() == b"keep"
    assert len(out.warnings) == 1 and out.warnings[0].startswith("../victim.txt: cannot remove")


# -- looking at the folder (the scan asks the output package) ------------------------------------


def test_the_output_says_which_files_changed_which_folders_moved_and_what_is_in_the_way(tmp_path):
    out = Output(tmp_path)
    a = out.writer.write("tags/a/atom.xml", b"a").stat
    b = out.writer.write("tags/b/atom.xml", b"b").stat
    (tmp_path / "tags" / "b" / "atom.xml").write_bytes(b"edited by hand")
    expected = {"tags/a/atom.xml": a, "tags/b/atom.xml": b, "tags/c/atom.xml": a}
    assert out.changed(expected) == {"tags/b/atom.xml", "tags/c/atom.xml"}
    mtimes = out.folder_mtimes(["tags/a", "tags/gone"])
    assert mtimes == {"tags/a": (tmp_path / "tags" / "a").stat().st_mtime_ns, "tags/gone": None}
    (tmp_path / "index.html").write_bytes(b"mine")
    assert out.occupied(["index.html", "tags/a/index.html", "tags"]) == {"index.html", "tags"}
    # below a folder that is not there, a file where a folder would be, a dangling link
    (tmp_path / "tags" / "x").write_bytes(b"a file, not a folder")
    (tmp_path / "tags" / "a" / "rss.xml").symlink_to(tmp_path / "nowhere")
    paths = ["no/such/atom.xml", "tags/x/atom.xml", "tags/a/rss.xml", "tags/a/atom.xml"]
    assert out.occupied(paths) == {"tags/a/rss.xml", "tags/a/atom.xml"}


def test_tests_build_without_syncing_unless_marked_durable(make_site, monkeypatch):
    """conftest's ``make_site`` passes ``durable=False`` (the engine's argument) outside
    the durability tests: nothing is synced, and the files are the same."""
    from feedwright.output import durable

    synced: list[object] = []
    monkeypatch.setattr(durable, "libc_syncfs", lambda: lambda fd: synced.append(fd) or 0)
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["株洲"]})
    assert site.build().written and synced == []
    site.durable = True
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["株洲"]})
    assert site.build().written and synced != []


def test_new_bytes_get_a_later_whole_second_than_the_old(tmp_path):
    """HTTP's Last-Modified counts whole seconds, and libcurl drops a 200 whose
    Last-Modified is not newer than its If-Modified-Since: a file whose bytes change must
    move to a later second, even within the second it was last written in."""
    writer = Writer(tmp_path, durable=False)
    writer.write("atom.xml", b"old")
    path = tmp_path / "atom.xml"
    later = (int(os.stat(path).st_mtime) + 30) * 1_000_000_000 + 500_000_000
    os.utime(path, ns=(later, later))  # as if written in a second still to come
    staged = writer.write("atom.xml", b"new")
    assert path.read_bytes() == b"new"
    assert os.stat(path).st_mtime_ns == staged.stat.mtime == later - 500_000_000 + 1_000_000_000
    again = writer.write("atom.xml", b"new")  # unchanged bytes: the mtime stays
    assert again.stat.mtime == staged.stat.mtime and not again.changed
    os.utime(path, ns=(OLD, OLD))  # long ago: a change keeps the time it was written at
    writer.write("atom.xml", b"newer")
    assert os.stat(path).st_mtime_ns > OLD + 1_000_000_000
