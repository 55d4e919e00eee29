"""Durable writes (#11): a killed build leaves no torn or empty file, and every write is
``fsync``ed before its rename (with each folder ``fsync``ed after).

A power cut cannot be staged in a test; SIGKILL in the middle of writing can, and the
``fsync`` calls themselves are recorded (the real ``os.fsync`` still runs) to show what a
power cut would find on the disk.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import procs
import pytest
from conftest import check_tree
from served import write_big_site

from feedwright import output
from feedwright.errors import OutputError
from feedwright.output import Output, atomic_write, durable

MARK = "FEEDWRIGHT_TEST_RUN"
pytestmark = pytest.mark.durable


@pytest.fixture
def no_syncfs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sync file by file and folder by folder, as where there is no ``syncfs(2)``."""
    monkeypatch.setattr(durable, "libc_syncfs", lambda: None)


def feed_files(out: Path) -> dict[str, int]:
    """Feed files (not hidden, not temporary) and their mtimes."""
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns
        for p in out.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
    }


@pytest.mark.slow
def test_a_build_killed_while_it_writes_leaves_every_feed_whole(make_site, tmp_path):
    site = make_site(source=str(write_big_site(tmp_path / "big", 1500)))
    site.build()
    before = feed_files(site.out)
    assert len(before) > 100
    cmd = [sys.executable, "-m", "feedwright", "build", "--config", str(site.config_path)]
    killed_mid_write = False
    for attempt in range(4):  # bounded: each attempt changes every feed (a new title)
        site.settings["site"]["title"] = f"改名{attempt}"
        site.save()
        old = feed_files(site.out)
        run = uuid.uuid4().hex
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, "CI": "1", MARK: run},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline:
                now = feed_files(site.out)
                if any(now.get(path) != mtime for path, mtime in old.items()):
                    proc.send_signal(signal.SIGKILL)  # the first rename is in: kill it there
                    break
                time.sleep(0.002)
            proc.wait(timeout=30)
        finally:
            proc.kill()
            proc.wait(timeout=30)
            procs.kill(procs.marked(MARK, run))
        after = feed_files(site.out)
        assert set(after) == set(before)  # nothing lost
        for path in after:
            assert (site.out / path).stat().st_size > 0, path
        check_tree(site.out)  # every feed present parses
        changed = [p for p in after if after[p] != old[p]]
        if proc.returncode == -signal.SIGKILL and len(changed) < len(after):
            killed_mid_write = True
            break
    assert killed_mid_write, "never caught a build between its first and last write"
    # The next build finishes the job.
    report = site.build()
    assert report.errors == ()
    titles = {site.feed("atom.xml").feed.title}
    assert titles == {site.settings["site"]["title"]}


def test_every_write_is_fsynced_before_its_rename_and_each_folder_once(
    make_site, monkeypatch, no_syncfs
):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(output.os, "fsync", recording_fsync)
    site = make_site()
    site.post(
        "2022-03-07-a.md", {"title": "甲", "date": "2022-03-07 08:30:46 +08:00", "tags": ["株洲"]}
    )
    site.post(
        "2022-03-08-b.md", {"title": "乙", "date": "2022-03-08 08:30:46 +08:00", "tags": ["湘潭"]}
    )
    report = site.build()
    out = str(site.out.resolve())
    written = [os.path.join(out, p) for p in report.written]
    # Each file was synced as its temporary name (before the rename made it the feed).
    temporaries = [p for p in synced if p.endswith(".fwtmp")]
    for path in [*written, os.path.join(out, ".feedwright", "manifest")]:
        folder, name = os.path.split(path)
        assert any(
            os.path.dirname(t) == folder and os.path.basename(t).startswith(f".{name}.")
            for t in temporaries
        ), path
    folders = [p for p in synced if not p.endswith(".fwtmp")]
    expected = {os.path.dirname(p) for p in written} | {os.path.join(out, ".feedwright")}
    assert expected <= set(folders)
    batched = [f for f in folders if f != os.path.join(out, ".feedwright")]
    assert len(batched) == len(set(batched)), "a folder was synced more than once per build"


def test_a_build_syncs_a_handful_of_times_each_file_before_its_rename(make_site, monkeypatch):
    """With ``syncfs(2)``: the temporaries of a batch are written, one sync puts them on
    the disk, then they are renamed; one more sync makes the renames durable before the
    manifest is saved. The number of syncs does not grow with the number of files."""
    from feedwright.output import writer

    assert durable.has_syncfs()
    events: list[tuple[str, str]] = []
    real_sync, real_write_new, real_replace = (
        durable.sync_filesystem,
        writer.write_new,
        os.replace,
    )
    real_fsync = os.fsync

    def sync(folder: str | os.PathLike[str]) -> None:
        events.append(("sync", str(folder)))
        real_sync(folder)

    def create(path: Path, data: bytes) -> os.stat_result:
        events.append(("create", str(path)))
        return real_write_new(path, data)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("rename", str(src)))
        real_replace(src, dst)

    def fsync(fd: int) -> None:  # the manifest and the id ledger: one file each, at once
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(durable, "sync_filesystem", sync)
    monkeypatch.setattr(writer, "write_new", create)
    monkeypatch.setattr(output.os, "replace", replace)
    monkeypatch.setattr(output.os, "fsync", fsync)
    site = make_site()
    for i in range(12):
        site.post(f"2022-03-{i + 1:02d}-p{i}.md", {"title": f"第{i}篇", "tags": [f"标签{i}"]})
    report = site.build()
    assert len(report.written) > 50
    feeds = [i for i, (what, path) in enumerate(events) if what == "rename" and "/." in path]
    feeds = [i for i in feeds if ".feedwright" not in events[i][1]]
    assert len(feeds) == len(report.written)
    for i in feeds:
        created = events.index(("create", events[i][1]))
        assert any(what == "sync" for what, _ in events[created:i]), events[i]
    manifest = max(
        i for i, (what, path) in enumerate(events) if what == "rename" and "manifest" in path
    )
    assert any(what == "sync" for what, _ in events[max(feeds) : manifest])
    syncs = [e for e in events if e[0] in ("sync", "fsync")]
    assert len(syncs) <= 10, syncs  # not one per file
    assert not list(site.out.rglob("*.fwtmp"))


def test_atomic_write_keeps_the_old_bytes_when_it_fails(tmp_path, monkeypatch):
    target = tmp_path / "atom.xml"
    target.write_bytes(b"<old/>")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", full_disk)
    with pytest.raises(OSError):
        atomic_write(target, b"<new/>")
    assert target.read_bytes() == b"<old/>"
    assert [p.name for p in tmp_path.iterdir()] == ["atom.xml"]  # no temporary left


def test_removals_are_synced_with_their_folder(tmp_path, monkeypatch, no_syncfs):
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(
        output.os,
        "fsync",
        lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1],
    )
    out = Output(tmp_path)
    with out.lock():
        out.writer.write("tags/a/atom.xml", b"<a/>")
        out.writer.write("tags/b/atom.xml", b"<b/>")
    synced.clear()
    with out.lock():
        out.writer.remove("tags/a/atom.xml")
    assert str(tmp_path.resolve() / "tags") in synced


def test_archive_files_are_fsynced_before_any_is_renamed(make_site, monkeypatch, no_syncfs):
    """Archives are written a task at a time (Output.stage, Output.publish): each file is
    synced under its temporary name before it takes the feed's name."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def recording_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("rename", str(src)))
        real_replace(src, dst)

    monkeypatch.setattr(output.os, "fsync", recording_fsync)
    monkeypatch.setattr(output.os, "replace", recording_replace)
    site = make_site(feeds={"archives": "monthly", "archives_formats": ["atom", "rss", "json"]})
    for day in (3, 4):
        site.post(f"2022-0{day}-0{day}-a.md", {"title": "甲", "date": f"2022-0{day}-0{day}"})
    report = site.build()
    archives = [p for p in report.written if "archive/" in p]
    assert len(archives) == 6  # the site's March and April, three formats each
    synced = {path for what, path in events if what == "fsync"}
    renamed = [i for i, (what, path) in enumerate(events) if what == "rename"]
    for relpath in archives:
        folder, name = os.path.split(str(site.out.resolve() / relpath))
        tmp = [
            i
            for i in renamed
            if os.path.dirname(events[i][1]) == folder
            and os.path.basename(events[i][1]).startswith(f".{name}.")
        ]
        assert len(tmp) == 1, relpath
        assert events[tmp[0]][1] in synced
        first_sync = min(i for i, e in enumerate(events) if e == ("fsync", events[tmp[0]][1]))
        assert first_sync < tmp[0]
    assert not list(site.out.rglob("*.fwtmp"))


@pytest.mark.parametrize("sync", ["syncfs", "fsync"])
def test_a_failed_publish_renames_nothing_and_leaves_no_temporary(tmp_path, monkeypatch, sync):
    out = Output(tmp_path).writer
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "atom.xml").write_bytes(b"<old/>")
    staged = [out.stage("archive/atom.xml", b"<new/>"), out.stage("archive/rss.xml", b"<r/>")]
    assert not out.stage("archive/atom.xml", b"<old/>").changed  # unchanged: nothing to do

    def full_disk(fd: int) -> int:
        raise OSError(28, "No space left on device")

    if sync == "fsync":
        monkeypatch.setattr(durable, "libc_syncfs", lambda: None)
        monkeypatch.setattr(output.os, "fsync", full_disk)
    else:
        assert durable.has_syncfs()
        monkeypatch.setattr(durable, "libc_syncfs", lambda: full_disk)
    with pytest.raises(OutputError):
        out.publish(staged)
    assert (tmp_path / "archive" / "atom.xml").read_bytes() == b"<old/>"
    assert sorted(p.name for p in (tmp_path / "archive").iterdir()) == ["atom.xml"]
