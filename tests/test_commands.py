"""Bounded hooks (#18.3): the one subprocess runner and the one background worker, with real
processes (``yes``, background children, new sessions) and real threads."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import procs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from live import wait_until
from served import seed, serving, stop

from feedwright.background import Worker
from feedwright.commands import LINE_LIMIT, OUTPUT_LIMIT, OutputTail, run_command

MARK = "FW_COMMAND_TEST"


def marked_env(mark: str) -> list[str]:
    return ["env", f"{MARK}={mark}"]


# -- the output tail ----------------------------------------------------------------------------
def expected_tail(data: bytes, limit: int, line_limit: int) -> list[str]:
    """What the tail must hold: the stream's lines, each cut, the last that fit in ``limit``."""
    lines = data.split(b"\n")
    last = lines.pop()  # the unfinished line ("" when the stream ends with a newline)
    cut = [line if len(line) <= line_limit else line[:line_limit] + b" [cut]" for line in lines]
    kept: list[bytes] = []
    size = 0
    for line in reversed(cut):
        size += len(line) + 1
        if size > limit:
            break
        kept.insert(0, line)
    if last:
        kept.append(last if len(last) <= line_limit else last[:line_limit] + b" [cut]")
    return [line.decode("utf-8", "replace") for line in kept]


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(
        st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"")) | st.sampled_from([b"\n"]),
        max_size=30,
    ),
    limit=st.integers(8, 64),
    line_limit=st.integers(1, 16),
)
def test_the_tail_keeps_exactly_the_last_lines_whatever_the_chunks(chunks, limit, line_limit):
    tail = OutputTail(limit=limit, line_limit=line_limit)
    for chunk in chunks:
        tail.feed(chunk)
    assert tail.lines() == expected_tail(b"".join(chunks), limit, line_limit)


def test_the_tail_of_a_huge_stream_stays_small():
    tail = OutputTail()
    for _ in range(200):  # 200 × 1 MiB of "y\n", and one 5 MB line
        tail.feed(b"y\n" * (1 << 19))
    tail.feed(b"x" * 5_000_000)
    lines = tail.lines()
    assert sum(len(line) + 1 for line in lines) <= OUTPUT_LIMIT + LINE_LIMIT + 16
    assert lines[-1] == "x" * LINE_LIMIT + " [cut]"
    assert set(lines[:-1]) == {"y"}


# -- the runner -------------------------------------------------------------------------------
def test_a_command_that_exited_is_done_whatever_its_background_child_holds(tmp_path):
    mark = uuid.uuid4().hex
    # The child holds stdout open for a minute; the command itself exits at once.
    command = [*marked_env(mark), "sh", "-c", "sleep 60 & echo started; exit 0"]
    started = time.monotonic()
    result = run_command(command, cwd=tmp_path, timeout=30)
    took = time.monotonic() - started
    assert result.ok and result.outcome == "exited", result
    assert result.output == ("started",)
    assert took < 5, took
    left = procs.survivors(lambda: procs.marked(MARK, mark), timeout=5)
    assert left == [], procs.describe(left)


def test_a_descendant_in_a_new_session_outlives_the_command(tmp_path):
    mark = uuid.uuid4().hex
    pidfile = tmp_path / "daemon.pid"
    daemon = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", {daemon!r}], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.Popen(["sleep", "60"])  # in the hook's own group: stopped with it
        """
    )
    command = [*marked_env(mark), sys.executable, "-c", script]
    try:
        result = run_command(command, cwd=tmp_path, timeout=30)
        assert result.ok, result
        wait_until(pidfile.exists, timeout=10)
        family = procs.survivors(lambda: procs.marked(MARK, mark), timeout=5)
        # Only the daemon (its own session) is left; the `sleep` in the group is gone.
        assert [p.pid for p in family] == [int(pidfile.read_text())], procs.describe(family)
    finally:
        procs.kill(procs.marked(MARK, mark))


def test_a_timeout_stops_the_whole_group_term_then_kill(tmp_path):
    mark = uuid.uuid4().hex
    # The command ignores SIGTERM: after the grace, SIGKILL ends it and its child.
    script = "import signal, subprocess, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    script += "subprocess.Popen(['sleep', '60'])\nprint('up', flush=True)\ntime.sleep(60)"
    command = [*marked_env(mark), sys.executable, "-c", script]
    started = time.monotonic()
    result = run_command(command, cwd=tmp_path, timeout=2)
    took = time.monotonic() - started
    assert result.outcome == "timed out" and not result.ok
    assert result.describe() == f"`{result.shown}` did not finish in 2 s; stopped"
    assert result.describe(details=False) == "did not finish in 2 s; stopped"
    assert 2 <= took < 6, took
    left = procs.survivors(lambda: procs.marked(MARK, mark), timeout=5)
    assert left == [], procs.describe(left)


def test_a_stop_request_ends_a_running_command_at_once(tmp_path):
    mark = uuid.uuid4().hex
    stop_event = threading.Event()
    found: list[Any] = []
    command = [*marked_env(mark), "sleep", "60"]
    thread = threading.Thread(
        target=lambda: found.append(
            run_command(command, cwd=tmp_path, timeout=300, stop=stop_event)
        )
    )
    thread.start()
    wait_until(lambda: procs.marked(MARK, mark), timeout=10)
    started = time.monotonic()
    stop_event.set()
    thread.join(10)
    assert time.monotonic() - started < 3
    assert found[0].outcome == "stopped"
    assert procs.survivors(lambda: procs.marked(MARK, mark), timeout=5) == []


def test_a_big_payload_is_fed_while_the_output_is_read(tmp_path):
    # 8 MiB in, 8 MiB out at once: neither pipe may fill up and block the other.
    lines = [os.urandom(32).hex() for _ in range(1 << 17)]
    payload = "".join(line + "\n" for line in lines).encode()
    assert len(payload) > 8 << 20
    script = "import sys\nfor chunk in iter(lambda: sys.stdin.buffer.read(65536), b''):\n"
    script += "    sys.stdout.buffer.write(chunk)\n"
    result = run_command([sys.executable, "-c", script], cwd=tmp_path, timeout=60, stdin=payload)
    assert result.ok, result
    kept = list(result.output)
    assert kept == lines[-len(kept) :]  # the last lines, whole
    assert OUTPUT_LIMIT - 65 < sum(len(line) + 1 for line in kept) <= OUTPUT_LIMIT


def test_a_command_that_does_not_read_its_input_is_fine(tmp_path):
    result = run_command(["true"], cwd=tmp_path, timeout=10, stdin=b"x" * (8 << 20))
    assert result.ok, result


# -- a real `yes`, and a 5 MB line ----------------------------------------------------------------
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys
    done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, on Linux
    print(json.dumps({"code": done.returncode, "stderr": done.stderr, "peak_kib": peak}))
    """
)


def test_a_yes_hook_holds_build_under_100_mib(make_site):
    site = seed(make_site, hooks={"after_build": ["yes"], "timeout": 3})
    build = [sys.executable, "-m", "feedwright", "build", "--config", str(site.config_path)]
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *build], capture_output=True, text=True, timeout=120
    )
    took = time.monotonic() - started
    measured = json.loads(done.stdout)
    assert measured["code"] == 0, measured["stderr"]
    assert "hooks.after_build failed: `yes` did not finish in 3 s; stopped" in measured["stderr"]
    # The peak RSS of the biggest process the build ran (the build itself): `yes` wrote
    # gigabytes meanwhile, and 3.9 GB were held before.
    assert measured["peak_kib"] < 100 * 1024, measured["peak_kib"]
    assert took < 60


LOUD = "import sys; sys.stderr.write('E' * 5_000_000 + '\\n'); sys.exit(4)"


@pytest.mark.parametrize("details", [False, True])
def test_a_5_mb_stderr_line_keeps_status_and_log_small(make_site, details):
    site = seed(
        make_site,
        hooks={"after_build": [sys.executable, "-c", LOUD]},
        server={"status_details": details},
    )
    with serving(site) as served:
        status = wait_until(
            lambda: (s := served.status()).get("after_build", {}).get("runs") == 1 and s,
            timeout=30,
        )
        size = len(served.get("/status").content)
        assert stop(served) == 0
        log = served.stderr()
    last = status["after_build"]["last"]
    assert last["ok"] is False and last["returncode"] == 4
    assert size < 16 * 1024, size
    if details:
        assert "exited with 4: " + "E" * LINE_LIMIT + " [cut]" in last["message"]
        assert last["command"].startswith(sys.executable)
    else:
        assert last["message"] == "exited with 4" and "command" not in last
        assert "EEEE" not in json.dumps(status) and sys.executable not in json.dumps(status)
    assert "E" * LINE_LIMIT + " [cut]" in log  # the log always says what happened
    assert max(len(line) for line in log.splitlines()) < 16 * 1024


# -- the one background worker ---------------------------------------------------------------------
def test_the_worker_survives_a_failing_task_and_logs_it(caplog):
    handled: list[int] = []
    gate = threading.Event()

    def handle(n: int) -> None:
        gate.wait(10)
        if n == 1:
            raise RuntimeError("a bug in task 1")
        handled.append(n)

    worker: Worker[int] = Worker("test-worker", handle)
    with caplog.at_level(logging.ERROR, logger="feedwright.background"):
        assert [worker.submit(n) for n in (1, 2, 3)] == ["started", "queued", "queued"]
        assert worker.busy and worker.queued() == 2 and worker.pending() == 3
        gate.set()
        assert worker.wait(10)
    assert handled == [2, 3]
    assert not worker.busy and worker.pending() == 0
    assert "test-worker: a task failed" in caplog.text and "a bug in task 1" in caplog.text
    assert worker.submit(4) == "started" and worker.wait(10)  # still usable
    assert handled == [2, 3, 4]
    worker.close()
    assert worker.submit(5) == "closed"


def test_the_worker_coalesces_and_dedupes_as_told():
    gate = threading.Event()
    seen: list[str] = []

    def handle(item: str) -> None:
        gate.wait(10)
        seen.append(item)

    capped: Worker[str] = Worker("capped", handle, max_queued=1)
    assert [capped.submit(x) for x in "abcd"] == ["started", "queued", "coalesced", "coalesced"]
    deduped: Worker[str] = Worker("deduped", handle, dedupe=True)
    assert [deduped.submit(x) for x in "xyyzy"] == [
        "started",
        "queued",
        "coalesced",
        "queued",
        "coalesced",
    ]
    gate.set()
    assert capped.wait(10) and deduped.wait(10)
    assert sorted(seen) == sorted("ab" + "xyz")


def test_the_hook_runner_goes_on_after_its_callback_raises(make_site, tmp_path):
    from feedwright.hooks import HookRunner

    site = seed(make_site, hooks={"after_build": ["true"]})
    report = site.build()
    calls: list[Any] = []

    def explode(result: Any) -> None:
        calls.append(result)
        raise RuntimeError("reporting bug")

    runner = HookRunner(explode)
    assert runner.submit(site.config, report) and runner.submit(site.config, report)
    assert runner.wait(20)
    status = runner.status()
    assert status["runs"] == 2 and not status["running"] and status["queued"] == 0
    assert len(calls) == 2
    assert runner.close(5)


def test_the_readme_says_which_descendants_outlive_a_hook():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    assert "new session" in readme and "process group" in readme
    assert "64 KiB" in readme and "4 KiB" in readme
