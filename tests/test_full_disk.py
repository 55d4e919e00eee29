"""A full disk (issue #18, point 5): ``Error: <path>: no space left on device``, exit 1, and
nothing already published lost.

The output folder is a real tmpfs of a few MiB, filled until only so much room is left;
``feedwright build`` runs as its own process. Wherever the room runs out (the build cache's
first write, the id ledger's append, a feed, the cache's commit), the build stops with one
line, every published file holds its old bytes or the new ones (never part of them), no
temporary is left, the ledger holds whole lines, and the next build, once there is room
again, publishes what a build on a roomy disk publishes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedwright.errors import OutputError
from feedwright.ledger import load_ledger
from feedwright.output.state import StateFiles

#: Whether this is CI's run (read once: each test runs without ``CI``, see conftest's
#: ``_isolate``). CI must run these tests (it runs as root).
IN_CI = bool(os.environ.get("CI"))
#: The size of the output folder's file system.
SIZE = 8 << 20
PAGE = 4096
#: Ways to mount a tmpfs nobody else sees: as root, in a mount namespace of its own; or
#: in a user namespace of its own (no root needed); and how to enter each.
_WAYS = (
    (["unshare", "--mount", "--propagation", "private"], ["--mount"]),
    (
        ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"],
        ["--user", "--mount", "--preserve-credentials"],
    ),
)
_MOUNT = 'mount -t tmpfs -o size="$1" feedwright-test "$2" && echo mounted && exec sleep 3600'


class SmallDisk:
    """A tmpfs of :data:`SIZE` bytes at ``mount``, in a mount namespace that a sleeping
    process holds: the test's own namespace mounts nothing, and the file system goes with
    the process. feedwright runs inside the namespace (:meth:`feedwright`); the test
    reaches the files through ``/proc/<pid>/root`` (:attr:`view`)."""

    def __init__(self, mount: Path, process: subprocess.Popen[str], enter: list[str]) -> None:
        self.mount = mount
        self.process = process
        self.enter = enter
        self.view = Path(f"/proc/{process.pid}/root{mount}")

    def feedwright(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["nsenter", "--target", str(self.process.pid), *self.enter, "--"]
        return subprocess.run(
            [*command, sys.executable, "-m", "feedwright", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    def free(self) -> int:
        st = os.statvfs(self.view)
        return st.f_bavail * st.f_frsize

    def fill(self, leave: int) -> None:
        """Take the room but ``leave`` bytes."""
        with open(self.view / "filler", "ab") as f:
            f.write(bytes(self.free() - leave))
        assert self.free() == leave

    def unfill(self) -> None:
        (self.view / "filler").unlink(missing_ok=True)


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}, and CI must run this test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        unavailable("needs unshare and nsenter (util-linux)")
    problems = []
    for unshare, enter in _WAYS:
        process = subprocess.Popen(
            [*unshare, "sh", "-c", _MOUNT, "sh", str(SIZE), str(mount)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None and process.stderr is not None
        if process.stdout.readline() == "mounted\n":
            try:
                yield SmallDisk(mount, process, enter)
            finally:
                process.kill()
                process.communicate()
            return
        problems.append(process.communicate()[1].strip())
    unavailable(f"cannot mount a tmpfs of its own (as root, or with unshare -rm): {problems}")


def published(out: Path) -> dict[str, bytes]:
    """What readers see: every file under ``out`` but feedwright's own."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".feedwright" not in p.parts
    }


def restore(saved: Path, out: Path) -> None:
    """``out`` as ``saved`` holds it (bytes and mtimes)."""
    shutil.rmtree(out)
    shutil.copytree(saved, out)


def add_posts(site, numbers: range, body: str = "正文。") -> None:
    for i in numbers:
        front = {"title": f"第{i}篇", "categories": f"paper{i % 4}", "tags": [f"话题{i % 3}"]}
        site.post(f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}-p{i}.md", front, body * 300)


class Change:
    """One change of a site on the small disk: the output before it (kept in ``saved``)
    and what a build with room makes of it."""

    def __init__(self, disk: SmallDisk, config: list[str], saved: Path) -> None:
        self.disk = disk
        self.config = config
        self.out = disk.view / "out"
        self.saved = saved
        shutil.copytree(self.out, saved)
        self.before = published(self.out)
        self.ledger = (self.out / ".feedwright" / "ids").read_bytes()
        self.error = re.compile(
            rf"Error: {re.escape(str(disk.mount))}/out/(\S+): no space left on device\n"
        )

    def made(self) -> None:
        """Build the change with room: what it publishes is :attr:`after`."""
        assert self.disk.feedwright("build", *self.config).returncode == 0
        self.after = published(self.out)

    def build_with(self, leave: int) -> str | None:
        """Build the change with ``leave`` bytes of room: where the disk was full (``None``:
        it was not), once the outcome is checked."""
        restore(self.saved, self.out)
        self.disk.fill(leave)
        result = self.disk.feedwright("build", *self.config)
        now = published(self.out)
        assert list(self.out.rglob("*.fwtmp")) == [], leave
        ledger = (self.out / ".feedwright" / "ids").read_bytes()
        load_ledger(ledger, "ids")  # whole lines, the last one an 'end'
        assert ledger.startswith(self.ledger), leave
        self.disk.unfill()
        if result.returncode == 0:
            assert now == self.after, leave
            return None
        assert result.returncode == 1 and result.stdout == "", (leave, result)
        stopped = self.error.fullmatch(result.stderr)  # one line: no traceback, no temporary
        assert stopped, (leave, result.stderr)
        for path in self.before:  # intact: as it was, or as the build makes it
            assert now.get(path) in (self.before[path], self.after[path]), (leave, path)
        appended = ledger != self.ledger  # (a failed append is cut back)
        if stopped.group(1) == ".feedwright/cache.sqlite":
            return "cache, after the ledger" if appended else "cache, at its first write"
        if stopped.group(1) == ".feedwright/ids":
            assert not appended and now == self.before, leave
            return "ledger"
        assert appended, leave  # (the ledger is on the disk before any feed is written)
        return "feed"

    def stops(self) -> dict[str, int]:
        """Where a build stops with 0, 32 KiB, 64 KiB… of room, until it does not."""
        found: dict[str, int] = {}
        leave = 0
        while (where := self.build_with(leave)) is not None:
            found.setdefault(where, leave)
            leave = max(leave * 2, 8 * PAGE)
        return found

    def recovers(self, where: str, leave: int) -> None:
        """After a build stopped there, the next one with room publishes what it should."""
        assert self.build_with(leave) == where
        result = self.disk.feedwright("build", *self.config)
        assert result.returncode == 0, (where, result.stderr)
        assert published(self.out) == self.after, where


def test_a_full_disk_stops_the_build_with_one_line_and_loses_nothing(
    make_site, small_disk, tmp_path
):
    site = make_site(output=str(small_disk.mount / "out"), feeds={"limit": 2})
    config = ["--config", str(site.config_path)]
    add_posts(site, range(40))
    assert small_disk.feedwright("build", *config).returncode == 0
    # 160 new posts: feeds change, and the ledger gets 160 lines (~18 KiB) appended
    new = Change(small_disk, config, tmp_path / "new")
    add_posts(site, range(40, 200))
    new.made()
    assert sum(new.after.get(p) != data for p, data in new.before.items()) > 10
    stops = new.stops()
    assert stops.keys() == {"cache, at its first write", "ledger", "feed"}
    for where, leave in stops.items():
        new.recovers(where, leave)
    # the oldest posts edited: no feed changes (each holds the newest 2), but the cache's
    # records and the ledger's rows do; the cache's commit is what needs room
    edited = Change(small_disk, config, tmp_path / "edited")
    add_posts(site, range(0, 200, 12), "改过的正文。")  # (those of January)
    edited.made()
    assert edited.after == edited.before
    stops = edited.stops()
    assert "cache, after the ledger" in stops
    edited.recovers("cache, after the ledger", stops["cache, after the ledger"])


def test_an_append_that_meets_a_full_disk_leaves_the_file_as_it_was(small_disk):
    folder = small_disk.view / "state"
    folder.mkdir()
    (folder / "ids").write_bytes(b"x" * 100)
    (folder / "torn").write_bytes(b"x" * 100)
    st = (folder / "ids").stat()
    small_disk.fill(0)
    # the disk takes what fits in the last page and no more: a plain append tears
    fd = os.open(folder / "torn", os.O_WRONLY | os.O_APPEND)
    try:
        assert os.write(fd, bytes(20_000)) == PAGE - 100
        with pytest.raises(OSError, match="No space left on device"):
            os.write(fd, bytes(20_000))
    finally:
        os.close(fd)
    files = StateFiles(folder)
    message = f"{folder / 'ids'}: no space left on device"
    with pytest.raises(OutputError, match=re.escape(message)):
        files.append("ids", bytes(20_000))
    assert (folder / "ids").read_bytes() == b"x" * 100
    assert (folder / "ids").stat().st_mtime_ns == st.st_mtime_ns  # the same bytes, as before
