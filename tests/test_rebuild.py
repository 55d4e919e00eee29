"""The Rebuilder without HTTP: coalescing, before_build, status."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from conftest import parse_feed
from live import wait_until

from feedwright.serve.rebuild import Rebuilder

# A before_build that holds until a file appears (bounded), so tests control timing.
HOLD = textwrap.dedent(
    """
    import os, sys, time
    t = time.monotonic()
    while not os.path.exists(sys.argv[1]) and time.monotonic() - t < 20:
        time.sleep(0.01)
    """
)


def site_with_post(make_site, **overrides):
    site = make_site(**overrides)
    site.post("2022-03-07-a.md", {"title": "一", "date": "2022-03-07 08:30:46 +0800"})
    return site


def test_requests_coalesce_into_one_running_and_one_queued(make_site, tmp_path):
    gate = tmp_path / "gate"
    site = site_with_post(
        make_site, webhook={"before_build": [sys.executable, "-c", HOLD, str(gate)]}
    )
    rebuilder = Rebuilder(site.config)
    outcomes = [rebuilder.request() for _ in range(10)]
    assert outcomes == ["started", "queued"] + ["coalesced"] * 8
    status = wait_until(lambda: (st := rebuilder.status())["current"] and st)
    assert status["running"] and status["queued"] and status["runs"] == 1
    assert status["current"]["trigger"] == "webhook"
    assert status["last"] is None
    json.dumps(status)
    gate.write_bytes(b"")
    assert rebuilder.wait(20)
    status = rebuilder.status()
    assert status["runs"] == 2 and not status["running"] and not status["queued"]
    assert status["last"]["ok"] and status["last"]["posts"] == 1
    assert [e.title for e in parse_feed(site.out / "atom.xml").entries] == ["一"]
    # Idle again: the next request starts a build at once.
    assert rebuilder.request("again") == "started"
    assert rebuilder.wait(20)
    assert rebuilder.status()["last"]["trigger"] == "again"
    assert rebuilder.close(5)
    assert rebuilder.request() == "closed"


def test_before_build_runs_first_in_the_given_folder(make_site, tmp_path):
    # Like `git pull`: the command brings a new post, and the build that follows has it.
    script = textwrap.dedent(
        """
        import pathlib
        p = pathlib.Path("site/_posts/2022-03-08-b.md")
        p.write_text("---\\ntitle: 拉取的\\ndate: 2022-03-08 08:00:00 +0800\\n---\\n正文\\n")
        """
    )
    site = site_with_post(make_site, webhook={"before_build": [sys.executable, "-c", script]})
    rebuilder = Rebuilder(site.config, cwd=site.root)
    rebuilder.request()
    assert rebuilder.wait(20)
    assert rebuilder.status()["last"]["ok"]
    assert [e.title for e in parse_feed(site.out / "atom.xml").entries] == ["拉取的", "一"]


SAY_AND_FAIL = "import sys; print('secret-ish output', file=sys.stderr); sys.exit(2)"


@pytest.mark.parametrize("details", [False, True])
@pytest.mark.parametrize(
    ("command", "message"),
    [
        ([sys.executable, "-c", SAY_AND_FAIL], "exited with 2"),
        (["/nonexistent/no-such-command"], "cannot run"),
        ([sys.executable, "-c", "import time; time.sleep(5)"], "did not finish in 0.3 s"),
    ],
)
def test_before_build_failures_are_reported_and_nothing_is_built(
    make_site, command, message, details
):
    site = site_with_post(
        make_site, webhook={"before_build": command}, server={"status_details": details}
    )
    seen: list[tuple[dict, object]] = []
    rebuilder = Rebuilder(
        site.config,
        before_build_timeout=0.3,
        on_finish=lambda record, report: seen.append((record, report)),
    )
    rebuilder.request("test")
    assert rebuilder.wait(20)
    last = rebuilder.status()["last"]
    assert last["result"] == "before_build failed" and not last["ok"]
    assert message in last["errors"][0] and last["errors_total"] == 1
    assert not (site.out / "atom.xml").exists()
    # The log (on_finish) always has the command and its output; /status only with
    # server.status_details.
    [(record, report)] = seen
    assert report is None and {**record, "errors": last["errors"]} == last
    assert command[0] in record["errors"][0]
    assert (command[0] in last["errors"][0]) is details
    if "secret-ish" in command[-1]:
        assert "secret-ish output" in record["errors"][0]
        assert ("secret-ish output" in last["errors"][0]) is details


def test_rejected_posts_are_counted_not_failures(make_site):
    site = site_with_post(make_site)
    site.post("2022-03-08-bad.md", "title: [unclosed\n")
    moments = iter(
        [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
        + [datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)]
    )
    rebuilder = Rebuilder(site.config, clock=lambda: next(moments))
    rebuilder.request()
    assert rebuilder.wait(20)
    last = rebuilder.status()["last"]
    assert last["ok"] and last["rejected"] == 1 and last["posts"] == 1
    assert "2022-03-08-bad.md" in last["errors"][0]
    assert last["started"] == "2026-01-01T00:00:00.000+00:00"
    assert last["finished"] == "2026-01-01T00:00:02.000+00:00"
    assert last["seconds"] == 2.0
    assert rebuilder.status()["last_success"] == last["finished"]


def test_a_crashing_callback_does_not_stop_the_worker(make_site):
    site = site_with_post(make_site)

    def boom(record, report):
        raise RuntimeError("callback bug")

    rebuilder = Rebuilder(site.config, on_finish=boom)
    for _ in range(2):
        rebuilder.request()
        assert rebuilder.wait(20)
    wait_until(lambda: rebuilder.status()["runs"] == 2)
    assert not rebuilder.status()["running"]
