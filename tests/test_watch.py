"""Watch mode: real file changes, real watchfiles, real builds."""

from __future__ import annotations

import itertools
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from conftest import parse_feed
from live import wait_until

from feedwright.model import BuildReport
from feedwright.watch import watch

POST = "2022-03-07-a.md"
_probes = itertools.count()


def front(title: str) -> dict[str, str]:
    return {"title": title, "date": "2022-03-07 08:30:46 +0800"}


class Filtered(logging.Handler):
    """The paths of the changes watchfiles saw and its filter dropped (it logs them)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("all changes filtered out"):
            self.messages.append(message)


@contextmanager
def filtered() -> Iterator[Filtered]:
    logger = logging.getLogger("watchfiles.main")
    handler, level = Filtered(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def caught_up(site, log: Filtered) -> None:
    """Wait until the watcher has handled every change made before (and built, if they
    called for a build): an editor's swap file, which it ignores, is written (again, in case
    the watcher was not watching yet: it restarts after a config change) until watchfiles
    says it filtered it out, which it does only after what came before it."""
    probe = site.src / "_posts" / f".probe{next(_probes)}.md.swp"

    def seen() -> bool:
        return any(str(probe) in m for m in log.messages)

    deadline = time.monotonic() + 15
    while not seen():
        assert time.monotonic() < deadline, f"the watcher never saw {probe}"
        probe.write_bytes(os.urandom(8))
        again = time.monotonic() + 0.5
        while not seen() and time.monotonic() < again:
            time.sleep(0.02)


def inotify_watches(pid: int) -> set[int]:
    """The inodes that process ``pid`` watches with inotify (what watchfiles uses on Linux),
    as its ``/proc/<pid>/fdinfo`` lists them."""
    found: set[int] = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fds):
        try:
            if os.readlink(fds / fd) != "anon_inode:inotify":
                continue
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except OSError:  # closed meanwhile
            continue
        found.update(int(ino, 16) for ino in re.findall(r"^inotify wd:\S+ ino:(\w+)", info, re.M))
    return found


@contextmanager
def watching(site) -> Iterator[tuple[list[BuildReport], list[str], Filtered]]:
    reports: list[BuildReport] = []
    errors: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(site.config_path,),
        kwargs={
            "on_report": reports.append,
            "on_error": errors.append,
            "stop_event": stop,
            "debounce_ms": 1000,
            "step_ms": 100,
        },
        daemon=True,
    )
    with filtered() as log:
        thread.start()
        try:
            wait_until(lambda: reports or errors, timeout=10)
            caught_up(site, log)  # the watcher runs before the test changes anything
            yield reports, errors, log
        finally:
            stop.set()
            thread.join(timeout=10)
            assert not thread.is_alive()


def titles(out) -> list[str]:
    return [e.title for e in parse_feed(out / "atom.xml").entries]


def test_an_edited_post_and_config_change_the_feed(make_site):
    # The output is inside the source: the watcher must not see its own writes.
    site = make_site(output="site/out")
    out = site.src / "out"
    site.post(POST, front("初稿"))
    with watching(site) as (reports, errors, log):
        assert titles(out) == ["初稿"] and len(reports) == 1

        site.post(POST, front("改过的标题"))
        wait_until(lambda: len(reports) >= 2, timeout=15)
        assert titles(out) == ["改过的标题"]
        assert reports[-1].written and "atom.xml" in reports[-1].written

        site.settings["site"]["title"] = "新站名"
        site.save()
        wait_until(lambda: len(reports) >= 3, timeout=15)
        assert parse_feed(out / "atom.xml").feed.title == "新站名"
        caught_up(site, log)  # a config change restarts the watcher

        # A broken config is reported; the watch goes on building with the old one.
        count = len(reports)
        site.config_path.write_text("site: [not, a, mapping\n", encoding="utf-8")
        wait_until(lambda: errors and len(reports) > count, timeout=15)
        assert "config.yaml" in errors[0]
        caught_up(site, log)
        site.save()
        wait_until(lambda: len(reports) > count + 1, timeout=15)
        caught_up(site, log)

        # A burst of changes (a `git pull`) is one build.
        count = len(reports)
        for day in range(10, 15):
            site.post(f"2022-03-{day}-burst.md", front(f"第{day}篇") | {"date": f"2022-03-{day}"})
        wait_until(lambda: len(reports) > count, timeout=15)
        caught_up(site, log)  # a second build for the burst would have come before this
        assert len(reports) == count + 1 and reports[-1].posts == 6

        # Editor swap files and the output folder trigger nothing.
        count = len(reports)
        (site.src / "_posts" / ".a.md.swp").write_bytes(b"swap")
        (out / "stray.txt").write_bytes(b"x")
        caught_up(site, log)
        assert len(reports) == count
        assert any(str(out / "stray.txt") in m for m in log.messages)  # seen, and dropped
        assert titles(out)[-1] == "改过的标题"


def test_the_watch_command_prints_a_summary_per_build(make_site):
    site = make_site()
    site.post(POST, front("一"))
    env = {**os.environ, "WATCHFILES_FORCE_POLLING": ""}
    command = [sys.executable, "-m", "feedwright", "watch", "--config", str(site.config_path)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    ) as proc:
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None
        out = proc.stdout
        reader = threading.Thread(target=lambda: [lines.put(line) for line in out], daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=15)
            assert first.startswith("1 post, 0 rejected, 3 feeds and feeds.opml written (")
            posts = (site.src / "_posts").stat().st_ino
            wait_until(lambda: posts in inotify_watches(proc.pid), timeout=15)
            site.post(POST, front("二"))
            second = lines.get(timeout=15)
            assert second.startswith(
                "1 post, 0 rejected, 3 feeds written (0 unchanged, 0 removed); "
                "1 page written (0 unchanged, 0 removed); "
            )
            assert titles(site.out) == ["二"]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=5)
            reader.join(timeout=5)


def test_a_missing_source_is_reported_not_built(make_site):
    site = make_site()
    site.post(POST, front("一"))
    site.build()
    before = site.read("atom.xml")
    site.settings["source"] = "nowhere"
    site.save()
    errors: list[str] = []
    stop = threading.Event()
    stop.set()  # build once, then stop at once
    watch(site.config_path, on_report=lambda r: None, on_error=errors.append, stop_event=stop)
    assert len(errors) == 1 and "source folder does not exist" in errors[0]
    assert site.read("atom.xml") == before
    assert yaml.safe_load(site.config_path.read_text())["source"] == "nowhere"


def test_a_broken_config_keeps_the_last_good_one_building(make_site):
    site = make_site()
    site.post(POST, front("一"))
    with watching(site) as (reports, errors, log):
        assert len(reports) == 1 and titles(site.out) == ["一"]

        count = len(reports)
        site.config_path.write_text("site:\n  url: https://news.example\n  limt 3\n", "utf-8")
        wait_until(lambda: errors and len(reports) > count, timeout=15)
        caught_up(site, log)  # a config change restarts the watcher
        assert errors == [
            "config.yaml:3: not valid YAML: this line is not 'key: value' (no ':' after the "
            "key); building with the last good config until it is fixed"
        ]
        # A post added while the config is broken is published, with the last good config.
        count = len(reports)
        site.post("2022-03-08-b.md", front("二") | {"date": "2022-03-08 09:00:00 +0800"})
        wait_until(lambda: len(reports) > count and reports[-1].posts == 2, timeout=15)
        assert titles(site.out) == ["二", "一"]
        assert parse_feed(site.out / "atom.xml").feed.title == "测试站"
        assert len(errors) == 1  # the same mistake is said once, not on every change

        site.save()  # fixed
        wait_until(lambda: len(reports) > count + 1, timeout=15)
        caught_up(site, log)
        site.post("2022-03-09-c.md", front("三") | {"date": "2022-03-09 09:00:00 +0800"})
        wait_until(lambda: reports[-1].posts == 3, timeout=15)
        assert len(errors) == 1


def test_a_site_config_yml_change_reaches_the_feed_and_back(make_site):
    # The shared reloader (#18.2) reads the Jekyll site's own _config.yml on every build.
    site = make_site()
    site.post(POST, front("一"))
    jekyll = site.src / "_config.yml"
    jekyll.write_text("description: 旧的描述\n", "utf-8")
    with watching(site) as (reports, errors, _log):
        assert parse_feed(site.out / "atom.xml").feed.subtitle == "旧的描述"
        for text in ("新的描述", "旧的描述"):
            count = len(reports)
            jekyll.write_text(f"description: {text}\n", "utf-8")
            wait_until(lambda n=count: len(reports) > n, timeout=15)
            assert parse_feed(site.out / "atom.xml").feed.subtitle == text
        assert errors == []
