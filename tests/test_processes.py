"""No process outlives a build (#7): kill feedwright mid-build, then read the process table.

A build with much work starts multiprocessing's fork server, its resource tracker and the
worker processes. However feedwright ends (``SIGKILL``; ``SIGTERM``, as ``timeout``,
systemd and CI runners send it), all of them must be gone within 2 s. Each test starts a
real ``python -m feedwright`` with a marker of its own in its environment, waits until the
pool is up, records every descendant, sends the signal, and then looks both for the
recorded processes and for any process that carries the marker (which also finds a
worker started after the record was taken, wherever it was re-parented). Ctrl-C must
end a build too, and never catch the pool half-way through starting a worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import procs
import pytest
import yaml
from procs import Proc

F = TypeVar("F", bound=Callable[..., object])

#: The environment variable that marks one test's feedwright and everything it starts.
MARK = "FEEDWRIGHT_TEST_RUN"
#: How long the pool may outlive feedwright, seconds (issue #7).
GRACE = 2.0
#: How many descendants mean the pool is up: resource tracker, fork server, a worker.
POOL = 3

ONE_CORE = (os.cpu_count() or 1) < 2


def killed_by(*sigs: signal.Signals) -> Callable[[F], F]:
    """Mark a test that kills feedwright mid-build, to run once per signal."""

    def mark(test: F) -> F:
        test = pytest.mark.parametrize("sig", sigs, ids=[s.name for s in sigs])(test)
        test = pytest.mark.skipif(ONE_CORE, reason="one core: no worker processes")(test)
        return pytest.mark.slow(test)

    return mark


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site of 3,000 posts: enough that a build parses and renders in worker processes.

    Read-only: each test builds into an output folder (and a cache) of its own, so each
    build has every post to parse.
    """
    root = tmp_path_factory.mktemp("big")
    posts = root / "site" / "_posts"
    posts.mkdir(parents=True)
    body = "".join(f"<p>第{j}段。</p>\n" for j in range(12))
    for i in range(3000):
        (posts / f"2021-01-01-p{i:05d}.md").write_text(
            f"---\ntitle: 文章{i}\ndate: 2021-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00 +0800\n"
            f"categories: paper{i % 7}\ntags: [标签{i % 31}, 话题{i % 13}]\n---\n{body}",
            "utf-8",
        )
    config = {"site": {"title": "大站", "url": "https://big.example"}, "source": "site"}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    return path


@dataclass
class Running:
    """A ``python -m feedwright`` started by a test."""

    proc: subprocess.Popen[bytes]
    #: The value of :data:`MARK` in its environment (and so in its descendants').
    run: str
    log: Path

    def family(self) -> list[Proc]:
        """Every live process it started, directly or not (itself included while it runs)."""
        return procs.marked(MARK, self.run)

    def stderr(self) -> str:
        return self.log.read_text("utf-8", "replace")


@contextmanager
def feedwright(tmp_path: Path, *args: str) -> Iterator[Running]:
    """Start feedwright; on the way out kill it and all it started, whatever happened."""
    run = uuid.uuid4().hex
    log = tmp_path / "stderr.txt"
    env = {**os.environ, "CI": "1", MARK: run}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedwright", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    running = Running(proc, run, log)
    try:
        yield running
    finally:
        proc.kill()
        proc.wait(timeout=30)
        procs.kill(running.family())


def pool_of(running: Running, ready: str | None = None) -> list[Proc]:
    """Wait until feedwright's pool is up (and ``ready`` is on its stderr); its descendants."""
    deadline = time.monotonic() + 60
    while True:
        found = procs.descendants(running.proc.pid)
        if len(found) >= POOL and (ready is None or ready in running.stderr()):
            return found
        if running.proc.poll() is not None:
            pytest.fail(
                f"feedwright exited ({running.proc.returncode}) before its pool was up, "
                f"with {len(found)} descendants:\n{running.stderr()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no pool after 60 s; descendants:\n{procs.describe(found)}")
        time.sleep(0.01)


def fork_server_of(running: Running) -> Proc:
    """Wait until feedwright has started multiprocessing's fork server; the server."""
    deadline = time.monotonic() + 60
    while True:
        for child in procs.children(running.proc.pid):
            if "multiprocessing.forkserver" in procs.command(child):
                return child
        if running.proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"feedwright started no fork server:\n{running.stderr()}")
        time.sleep(0.002)


def end(
    running: Running,
    pool: list[Proc],
    sig: signal.Signals,
    *,
    send: bool = True,
    timeout: float = 10,
) -> int:
    """Send ``sig`` (if ``send``), wait for feedwright to exit, and check that nothing it
    started lives on :data:`GRACE` s later; its exit status."""
    if send:
        running.proc.send_signal(sig)
    try:
        status = running.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"feedwright still runs {timeout} s after {sig.name}:\n{running.stderr()}")
    left = procs.survivors(lambda: [*pool, *running.family()], GRACE)
    assert not left, (
        f"still running {GRACE} s after feedwright ended by {sig.name} "
        f"(the pool was:\n{procs.describe(pool)}):\n{procs.describe(left)}"
    )
    return status


@killed_by(signal.SIGKILL, signal.SIGTERM)
def test_a_killed_build_leaves_no_process(config_path, tmp_path, sig):
    args = ("build", "--config", str(config_path), "--output", str(tmp_path / "out"))
    with feedwright(tmp_path, *args) as running:
        pool = pool_of(running)
        assert end(running, pool, sig) == -sig  # killed mid-build, not after it


@killed_by(signal.SIGKILL, signal.SIGTERM)
def test_serve_killed_while_it_builds_leaves_no_process(config_path, tmp_path, sig):
    out = str(tmp_path / "out")
    args = ("serve", "--config", str(config_path), "--output", out, "--port", "0")
    with feedwright(tmp_path, *args) as running:
        # SIGTERM goes through feedwright's handler: wait until it is installed.
        pool = pool_of(running, ready="Uvicorn running on" if sig == signal.SIGTERM else None)
        # SIGTERM is a graceful stop (#11): the build stops at a safe point, exit status 0.
        assert end(running, pool, sig, timeout=60) == (0 if sig == signal.SIGTERM else -sig)
        assert "startup: 3000 posts" not in running.stderr()  # it was stopped mid-build


@killed_by(signal.SIGKILL, signal.SIGTERM)
def test_watch_killed_while_it_builds_leaves_no_process(config_path, tmp_path, sig):
    args = ("watch", "--config", str(config_path), "--output", str(tmp_path / "out"))
    with feedwright(tmp_path, *args) as running:
        pool = pool_of(running)
        assert end(running, pool, sig) == -sig


@killed_by(signal.SIGINT)
def test_ctrl_c_as_a_worker_starts_waits_until_it_has_started(config_path, tmp_path, sig):
    """A ``KeyboardInterrupt`` while the pool starts a worker would leave one running
    that the pool does not know of, which may take the stop sentinel meant for another
    at shutdown (the build then waits for ever). So Ctrl-C waits until it has started."""
    args = ("build", "--config", str(config_path), "--output", str(tmp_path / "out"))
    with feedwright(tmp_path, *args) as running:
        server = fork_server_of(running)
        os.kill(server.pid, signal.SIGSTOP)  # before it can start the first worker
        try:
            running.proc.send_signal(sig)
            time.sleep(0.5)
            assert running.proc.poll() is None, "Ctrl-C stopped the pool starting a worker"
            assert procs.children(server.pid) == []  # the worker is yet to start
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert end(running, [server], sig, send=False) == 1  # "Aborted!"


@pytest.mark.slow
def test_ctrl_c_reaches_what_the_tests_start_even_when_the_run_ignores_it(tmp_path):
    """A run of the suite started with SIGINT ignored (``… &`` in a script, some CI runners)
    passes the tests that stop feedwright with Ctrl-C: an ignored signal is inherited, so the
    conftest catches it instead, and a caught signal is reset to its default in a child."""
    tests = [
        "tests/test_watch.py::test_the_watch_command_prints_a_summary_per_build",
        "tests/test_processes.py::test_ctrl_c_as_a_worker_starts_waits_until_it_has_started",
    ]
    ignoring = (
        "import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "sys.exit(subprocess.call(sys.argv[1:]))"
    )
    pytest_run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [sys.executable, "-c", ignoring, *pytest_run, "--basetemp", str(tmp_path), *tests],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
