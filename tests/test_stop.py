"""Stopping a build at a safe point (#16, #18): whatever phase it is in (parsing,
rendering, writing, archives), a stopped build leaves no temporary file, renames nothing
half-way (a batch of files is published whole or not at all), leaves the previous feeds
and a cache the next build can trust, and shuts its worker pool down cleanly.

In process, the progress callback raises at each safe point in turn; as a process, a real
``feedwright build`` gets SIGTERM or SIGINT while it renders.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import procs
import pytest
import yaml
from conftest import NOW, check_tree
from test_cache import feed_tree

from feedwright.config import load_config
from feedwright.engine import apply, build

MARK = "FEEDWRIGHT_TEST_RUN"


class Stop(Exception):
    """What the test's progress callback raises."""


def write_site(root: Path, posts: int, **feeds: Any) -> Path:
    """``posts`` posts in 7 categories and 44 tags; the config's path."""
    folder = root / "site" / "_posts"
    folder.mkdir(parents=True)
    body = "".join(f"<p>第{j}段。</p>\n" for j in range(8))
    for i in range(posts):
        (folder / f"2021-01-01-p{i:05d}.md").write_text(
            f"---\ntitle: 文章{i}\ndate: 2021-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00 +0800\n"
            f"categories: paper{i % 7}\ntags: [标签{i % 31}, 话题{i % 13}]\n---\n{body}",
            "utf-8",
        )
    config = {
        "site": {"title": "大站", "url": "https://big.example", "timezone": "Asia/Shanghai"},
        "source": "site",
        "output": "out",
        "feeds": {"limit": 5, **feeds},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


def retitle(config: Path, title: str) -> None:
    """A new site title: every feed and page changes."""
    settings = yaml.safe_load(config.read_text("utf-8"))
    settings["site"]["title"] = title
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), "utf-8")


def temporaries(out: Path) -> list[Path]:
    return list(out.rglob("*.fwtmp"))


def stopping_at(n: int) -> Any:
    calls = [0]

    def progress(done: int, total: int) -> None:
        calls[0] += 1
        if calls[0] == n:
            raise Stop(n)

    return progress, calls


@pytest.mark.parametrize("archives", [False, True], ids=["feeds", "archives"])
def test_a_build_stopped_at_any_safe_point_leaves_whole_batches_and_converges(
    tmp_path, monkeypatch, archives
):
    """Stop the build at every safe point in turn (parse, groups, render, each batch,
    archives); small batches, so that some are published before the stop and some not."""
    monkeypatch.setattr(apply, "BATCH_FILES", 16)
    feeds = {"archives": "monthly"} if archives else {}
    path = write_site(tmp_path, 40, **feeds)
    config = load_config(path)
    build(config, now=NOW, durable=False)
    before = feed_tree(config.output)
    progress, calls = stopping_at(10**9)
    retitle(path, "改名")
    config = load_config(path)
    full = load_config(path, output=str(tmp_path / "full"))
    build(full, now=NOW, full=True, durable=False)
    expected = feed_tree(full.output)
    probe = tmp_path / "probe"  # the same build on a copy, to count its safe points
    shutil.copytree(config.output, probe)
    build(load_config(path, output=str(probe)), now=NOW, durable=False, progress=progress)
    points = calls[0]
    assert points > 40  # parse batches, every group read and rendered, batches, tasks
    for n in range(1, points, max(1, points // 12)):
        progress, _calls = stopping_at(n)
        with pytest.raises(Stop):
            build(config, now=NOW, durable=False, progress=progress)
        assert temporaries(config.output) == []
        now = feed_tree(config.output)
        check_tree(config.output)
        assert set(now) <= set(before) | set(expected)
        for relpath, data in now.items():  # every file whole: the old bytes or the new
            assert data in (before.get(relpath), expected.get(relpath)), (n, relpath)
    build(config, now=NOW, durable=False)  # the next build finishes the job
    assert feed_tree(config.output) == expected


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,500 posts: the build renders in worker processes for a few seconds."""
    return write_site(tmp_path_factory.mktemp("big"), 2500)


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no worker processes")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_feedwright_build_stopped_while_it_renders_leaves_the_previous_feeds(
    big_site, tmp_path, sig
):
    config = load_config(big_site, output=str(tmp_path / "out"))
    out = config.output
    build(config, now=NOW, durable=False)
    before = feed_tree(out)
    site = tmp_path / "config.yaml"
    site.write_text(
        big_site.read_text("utf-8").replace("source: site", f"source: {big_site.parent / 'site'}"),
        "utf-8",
    )
    retitle(site, "改名")
    run = uuid.uuid4().hex
    cmd = [sys.executable, "-m", "feedwright", "build", "--config", str(site), "--output", str(out)]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "CI": "1", MARK: run},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not temporaries(out):  # the first rendered group is being staged
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "never saw the build stage a file"
            time.sleep(0.002)
        proc.send_signal(sig)
        sent = time.monotonic()
        _stdout, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        proc.kill()
        proc.wait(timeout=30)
        procs.kill(procs.marked(MARK, run))
    assert proc.returncode == (-sig if sig == signal.SIGTERM else 1), stderr
    assert took < 10, took
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr
    assert procs.survivors(lambda: procs.marked(MARK, run), 2.0) == []
    assert temporaries(out) == []
    assert feed_tree(out) == before  # nothing renamed: the previous feeds
    report = build(load_config(site, output=str(out)), now=NOW, durable=False)
    assert report.errors == ()
    full = load_config(site, output=str(tmp_path / "full"))
    build(full, now=NOW, full=True, durable=False)
    assert feed_tree(out) == feed_tree(full.output)
