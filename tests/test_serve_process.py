"""``feedwright serve`` as an operator runs it (#11): real signals to a real subprocess.

SIGTERM during a build exits 0 with every feed complete and nothing left running; SIGHUP
reloads the config (a changed title reaches the next build; a broken config keeps the old
one and ``/status`` says why; a moved address is refused); ``/metrics`` is scraped and read
with ``prometheus_client``'s own parser; ``--log-format json`` prints one object a line.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import httpx
import procs
import pytest
import yaml
from conftest import check_tree
from live import sign, wait_until
from prometheus_client.parser import text_string_to_metric_families
from served import free_port, seed, serving, stop, write_big_site


def lock_is_free(out: Path) -> bool:
    fd = os.open(out / ".feedwright" / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


# -- SIGTERM / SIGINT ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 posts: a cold build takes seconds, long enough to be signalled during it."""
    return write_big_site(tmp_path_factory.mktemp("big"), 2000)


@pytest.mark.slow
def test_sigterm_during_a_build_exits_0_with_complete_feeds_and_no_process(make_site, big_site):
    site = make_site(source=str(big_site))
    # A first build, so that the output holds feeds that the interrupted one must not break.
    with serving(site) as served:
        assert stop(served, signal.SIGTERM) == 0
    before = {p: p.read_bytes() for p in site.out.rglob("*.xml")}
    assert before
    # --full equivalent: drop the cache, so the startup build has every post to read again.
    (site.out / ".feedwright" / "cache.sqlite").unlink()
    with serving(site, wait_for_build=False) as served:
        wait_until(lambda: served.status()["running"], timeout=30, step=0.01)
        started = time.monotonic()
        status = stop(served, signal.SIGTERM, timeout=40)
        took = time.monotonic() - started
        text = served.stderr()
    assert status == 0, text
    assert took < 20 + 5, took  # server.shutdown_timeout (default 20 s), and start-up slack
    assert "SIGTERM: shutting down" in text
    check_tree(site.out)  # every feed present parses
    for path in site.out.rglob("*"):
        if path.is_file() and ".feedwright" not in path.parts:
            assert path.stat().st_size > 0, path
    assert lock_is_free(site.out)


@pytest.mark.slow
def test_sigterm_while_a_build_writes_past_the_timeout_still_exits_0(make_site, big_site):
    site = make_site(source=str(big_site), server={"shutdown_timeout": 0.05})
    with serving(site, wait_for_build=False) as served:
        # The first feed file in the empty output: the build has started writing.
        wait_until(lambda: any(site.out.glob("tags/*/atom.xml")), timeout=120, step=0.002)
        started = time.monotonic()
        assert stop(served, timeout=30) == 0  # and nothing it started still runs
        took = time.monotonic() - started
        text = served.stderr()
    assert took < 10, took
    assert "exiting anyway" in text or "stopped" in text, text
    check_tree(site.out)  # whatever it wrote is whole
    assert lock_is_free(site.out)


def test_sigterm_during_before_build_stops_the_command_and_all_it_started(make_site):
    # A before_build that starts a grandchild and then waits: both must go on SIGTERM.
    script = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        "time.sleep(120)"
    )
    site = seed(make_site, webhook={"before_build": [sys.executable, "-c", script]})
    with serving(site, wait_for_build=False) as served:
        wait_until(lambda: len(served.family()) >= 3, timeout=30)  # serve, command, grandchild
        started = time.monotonic()
        assert stop(served) == 0  # and nothing it started still runs
        assert time.monotonic() - started < 10
        assert "stopped at a safe point" in served.stderr()
    assert not (site.out / "atom.xml").exists()  # stopped before building: nothing written


def test_sigterm_stops_a_running_after_build_hook_in_time(make_site):
    hook = [sys.executable, "-c", "import time; time.sleep(120)"]
    site = seed(
        make_site,
        hooks={"after_build": hook, "timeout": 300},
        server={"shutdown_timeout": 1},
    )
    with serving(site) as served:
        wait_until(lambda: served.status()["after_build"]["running"], timeout=30)
        started = time.monotonic()
        assert stop(served) == 0  # and the hook is gone too
        assert time.monotonic() - started < 10
    check_tree(site.out)


def test_sigint_and_sigterm_on_an_idle_server_exit_0(make_site):
    site = seed(make_site)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with serving(site) as served:
            assert served.get("/feeds/atom.xml").status_code == 200
            assert stop(served, sig) == 0
            assert "stopped" in served.stderr()
    assert lock_is_free(site.out)


# -- SIGHUP -------------------------------------------------------------------------------------
def test_sighup_with_a_changed_title_builds_once_with_it(make_site):
    site = seed(make_site)
    with serving(site) as served:
        runs = served.status()["runs"]
        site.settings["site"]["title"] = "新标题"
        site.save()
        served.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: served.status()["runs"] == runs + 1 and not served.status()["running"])
        status = served.status()
        assert status["last"]["trigger"] == "reload"
        assert status["config"]["reloads"] == 1 and status["config"]["error"] is None
        feed = served.get("/feeds/atom.xml")
        assert "<title>新标题</title>" in feed.text
        time.sleep(0.5)
        assert served.status()["runs"] == runs + 1  # one build, not more
        # A reload that changes no feed builds nothing.
        site.settings["server"]["max_age"] = 60
        site.save()
        served.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: served.status()["config"]["reloads"] == 2)
        assert served.get("/feeds/atom.xml").headers["cache-control"] == "public, max-age=60"
        assert served.status()["runs"] == runs + 1
        assert stop(served) == 0


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ("site: {title: [unclosed\n", "config.yaml:1: not valid YAML"),
        ({"server": {"read_timeout": -1}}, "server.read_timeout"),
        ({"server": {"max_connections": "many"}}, "server.max_connections"),
        ({"feeds": {"limit": "x"}}, "feeds.limit"),
        ({"hooks": {"timeout": float("nan")}}, "hooks.timeout"),
        ({"server": {"status_details": "yes"}}, "server.status_details"),
    ],
)
def test_sighup_with_a_broken_config_keeps_serving_and_says_why(make_site, broken, named):
    site = seed(make_site)
    with serving(site) as served:
        good = served.get("/feeds/atom.xml")
        runs = served.status()["runs"]
        if isinstance(broken, str):
            site.config_path.write_text(broken, "utf-8")
        else:
            for key, value in broken.items():
                site.settings.setdefault(key, {}).update(value)
            site.save()
        served.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: served.status()["config"]["error"])
        status = served.status()
        assert named in status["config"]["error"]
        assert status["config"]["reloads"] == 0 and status["runs"] == runs
        again = served.get("/feeds/atom.xml")
        assert again.status_code == 200 and again.content == good.content
        assert named in served.stderr()
        assert served.proc.poll() is None
        assert stop(served) == 0


def test_sighup_moves_the_feeds_url_and_output_but_refuses_a_new_port(make_site, tmp_path):
    site = seed(make_site)
    with serving(site) as served:
        port = site.settings["server"]["port"]
        site.settings["feeds_url"] = "https://news.example/syndication/"
        site.settings["output"] = "out2"
        site.settings["server"]["port"] = free_port()
        site.save()
        served.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: served.status()["config"]["reloads"] == 1)
        wait_until(lambda: served.status()["last"]["trigger"] == "reload")
        status = served.status()
        assert len(status["config"]["refused"]) == 1
        assert f"still on 127.0.0.1:{port}" in status["config"]["refused"][0]
        assert "restart" in status["config"]["refused"][0]
        moved = served.get("/syndication/atom.xml")
        assert moved.status_code == 200
        assert "https://news.example/syndication/atom.xml" in moved.text
        assert served.get("/feeds/atom.xml").status_code == 404
        check_tree(tmp_path / "out2")
        assert stop(served) == 0


# -- every build reads the config afresh (#18.2) -------------------------------------------------
def signed_push(served, delivery: str) -> httpx.Response:
    body = b'{"ref":"refs/heads/main"}'
    headers = {
        "X-Hub-Signature-256": sign(body),
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
    }
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.post(served.url + "/webhook", content=body, headers=headers)


def build_after(served, delivery: str) -> dict:
    runs = served.status()["runs"]
    assert signed_push(served, delivery).status_code == 202
    return wait_until(
        lambda: (s := served.status())["runs"] == runs + 1 and not s["running"] and s,
        timeout=60,
    )


def subtitle(served) -> str:
    parsed = feedparser.parse(served.get("/feeds/atom.xml").content)
    assert not parsed.bozo
    return str(parsed.feed.get("subtitle", ""))


def test_a_config_yml_pulled_by_before_build_reaches_the_served_feed_and_back(make_site):
    # before_build stands for `git pull`: it puts the pushed _config.yml in place.
    pull = "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
    site = seed(
        make_site,
        webhook={"before_build": [sys.executable, "-c", pull, "pushed.yml", "site/_config.yml"]},
    )
    jekyll = site.src / "_config.yml"
    pushed = site.root / "pushed.yml"
    jekyll.write_text("description: 旧的描述\n", "utf-8")
    pushed.write_text("description: 旧的描述\n", "utf-8")
    with serving(site) as served:
        assert subtitle(served) == "旧的描述"
        pushed.write_text("description: 新的描述\n", "utf-8")  # the push
        status = build_after(served, "push-1")
        assert status["last"]["ok"] and status["last"]["written"] > 0
        assert subtitle(served) == "新的描述"
        assert status["config"]["reloads"] == 1 and status["config"]["error"] is None
        pushed.write_text("description: 旧的描述\n", "utf-8")  # reverted
        build_after(served, "push-2")
        assert subtitle(served) == "旧的描述"
        # A change made between requests (no before_build needed) is read the same way.
        jekyll.write_text("description: 第三个\n", "utf-8")
        pushed.write_text("description: 第三个\n", "utf-8")
        build_after(served, "push-3")
        assert subtitle(served) == "第三个"
        assert served.status()["config"]["reloads"] == 3
        assert stop(served) == 0


def test_a_broken_config_at_a_webhook_build_keeps_the_last_good_one(make_site):
    site = seed(make_site)
    jekyll = site.src / "_config.yml"
    jekyll.write_text("description: 好的\n", "utf-8")
    with serving(site) as served:
        assert subtitle(served) == "好的"
        jekyll.write_text("description: [unclosed\n", "utf-8")
        site.post("2022-03-09-third.md", {"title": "第三篇", "date": "2022-03-09 09:00:00 +08:00"})
        status = build_after(served, "broken-1")
        # Built with the last good config: the new post is in, the subtitle stays.
        assert status["last"]["ok"]
        assert "_config.yml:1: not valid YAML" in status["config"]["error"]
        assert subtitle(served) == "好的"
        assert "第三篇" in served.get("/feeds/atom.xml").text
        build_after(served, "broken-2")  # the same mistake is logged once, not per build
        assert served.stderr().count("_config.yml:1: not valid YAML") == 1
        jekyll.write_text("description: 修好了\n", "utf-8")
        status = build_after(served, "fixed")
        assert status["config"]["error"] is None
        assert subtitle(served) == "修好了"
        # A new port in the file cannot move the listening server: refused, said once.
        port = site.settings["server"]["port"]
        site.settings["server"]["port"] = free_port()
        site.save()
        status = build_after(served, "port")
        assert status["last"]["ok"]
        [refused] = status["config"]["refused"]
        assert f"still on 127.0.0.1:{port}" in refused and "restart" in refused
        build_after(served, "port-again")
        assert served.stderr().count("cannot move a listening server") == 1
        assert stop(served) == 0


# -- /status shows nothing private (#18.5) --------------------------------------------------------
def test_status_shows_paths_relative_to_the_config_folder_and_no_commands(make_site):
    fail = "import sys; print('token=hunter2', file=sys.stderr); sys.exit(3)"
    hook = [sys.executable, "-c", "import sys; print('out: hunter2'); sys.exit(5)"]
    site = seed(
        make_site,
        webhook={"before_build": [sys.executable, "-c", fail]},
        hooks={"after_build": hook},
    )
    with serving(site, wait_for_build=False) as served:
        wait_until(lambda: served.status()["runs"] == 1 and not served.status()["running"])
        status = served.status()
        assert status["last"]["errors"] == ["before_build: exited with 3"]
        # A build with an error naming a folder: the source is gone.
        site.settings["webhook"] = {}
        site.save()
        site.src.rename(site.root / "moved")
        status = build_after(served, "no-source")
        [error] = status["last"]["errors"]
        assert error == "config.yaml: source: no such folder: site", error
        (site.root / "moved").rename(site.src)
        status = build_after(served, "back")
        assert status["last"]["ok"]
        hooked = wait_until(
            lambda: (s := served.status())["after_build"]["runs"] == 1 and s, timeout=30
        )["after_build"]["last"]
        assert hooked == {**hooked, "ok": False, "message": "exited with 5", "returncode": 5}
        assert "command" not in hooked
        text = served.get("/status").text
        assert str(site.root) not in text and sys.executable not in text
        assert "hunter2" not in text
        log = served.stderr()
        assert stop(served) == 0
    # The log, for the operator, says it all.
    assert "token=hunter2" in log and "out: hunter2" in log


# -- metrics --------------------------------------------------------------------------------
def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_are_scraped_and_parsed_by_prometheus_client(make_site):
    site = seed(make_site, server={"metrics": True})
    with serving(site) as served, httpx.Client(trust_env=False, timeout=10) as client:
        url = served.url
        ok = client.get(url + "/feeds/atom.xml")
        assert client.get(url + "/feeds/atom.xml", headers={"if-none-match": ok.headers["etag"]})
        assert client.get(url + "/feeds/nope.xml").status_code == 404
        body = b'{"ref":"refs/heads/main"}'
        hook = url + "/webhook"
        delivery = {"X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": sign(body)}
        assert client.post(hook, content=body, headers=delivery).status_code == 202
        assert client.post(hook, content=body, headers=delivery).status_code == 200
        assert (
            client.post(hook, content=body, headers={"X-Hub-Signature-256": "sha256=0"}).status_code
            == 401
        )
        assert client.post(hook, content=b"x" * (2 << 20)).status_code == 413
        wait_until(lambda: served.status()["runs"] == 2 and not served.status()["running"])
        response = client.get(url + "/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        got = samples(response.text)
        assert stop(served) == 0
    assert got[("feedwright_builds_total", (("result", "ok"), ("trigger", "startup")))] == 1
    assert got[("feedwright_builds_total", (("result", "ok"), ("trigger", "webhook")))] == 1
    assert got[("feedwright_build_duration_seconds_count", ())] == 2
    assert got[("feedwright_last_build_posts", ())] == 2
    assert got[("feedwright_last_build_feeds", ())] == 6  # the site and one tag, 3 formats
    assert got[("feedwright_last_build_rejected_posts", ())] == 0
    for result, count in [("accepted", 1), ("duplicate", 1), ("unauthorised", 1), ("too_large", 1)]:
        assert got[("feedwright_webhook_requests_total", (("result", result),))] == count
    for status, count in [("200", 1), ("304", 1), ("404", 1)]:
        assert got[("feedwright_feed_requests_total", (("status", status),))] == count
    assert got[("feedwright_websub_pings_total", (("result", "sent"),))] == 0
    assert got[("feedwright_websub_pings_total", (("result", "failed"),))] == 0
    assert got[("feedwright_build_running", ())] == 0
    assert got[("feedwright_build_queued", ())] == 0


def test_metrics_are_off_unless_configured(make_site):
    site = seed(make_site)
    with serving(site) as served:
        assert served.get("/metrics").status_code == 404
        assert stop(served) == 0


def test_metrics_never_inside_the_feeds_url(make_site):
    site = seed(make_site, feeds_url="https://news.example/", server={"metrics": True})
    cmd = [sys.executable, "-m", "feedwright", "serve", "--config", str(site.config_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "config.yaml: server.metrics: cannot serve /metrics" in result.stderr
    assert "Traceback" not in result.stderr


# -- logs -------------------------------------------------------------------------------------
def test_json_logs_one_object_a_line(make_site):
    site = seed(make_site)
    with serving(site, "--log-format", "json") as served, httpx.Client(trust_env=False) as client:
        body = b"{}"
        headers = {"X-GitHub-Delivery": "abc-123", "X-Hub-Signature-256": sign(body)}
        assert (
            client.post(served.url + "/webhook", content=body, headers=headers).status_code == 202
        )
        wait_until(lambda: served.status()["runs"] == 2 and not served.status()["running"])
        assert stop(served) == 0
        lines = served.stderr().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    builds = [r for r in records if r.get("event") == "build"]
    assert [b["trigger"] for b in builds] == ["startup", "webhook (github)"]
    assert all(b["result"] == "ok" and b["posts"] == 2 for b in builds)
    assert all(isinstance(b["seconds"], float | int) and "rejected" in b for b in builds)
    hooks = [r for r in records if r.get("event") == "webhook"]
    assert len(hooks) == 1
    assert hooks[0]["sender"] == "github"
    assert hooks[0]["delivery"] == "x-github-delivery:abc-123"
    assert hooks[0]["result"].startswith("accepted")
    access = [r for r in records if r.get("event") == "access"]
    assert any(r["path"] == "/webhook" and r["status"] == 202 for r in access)


def test_text_logs_have_a_line_per_build_and_delivery(make_site):
    site = seed(make_site)
    with serving(site) as served, httpx.Client(trust_env=False) as client:
        hook = served.url + "/webhook"
        client.post(hook, content=b"{}", headers={"X-Gitlab-Token": "wrong"})
        client.post(hook, content=b"{}", headers={"X-Hub-Signature-256": "sha256=00"})
        client.post(hook, content=b"{}")
        body = b'{"action":"opened"}'
        signed = {"X-Hub-Signature-256": sign(body), "X-GitHub-Event": "issues"}
        assert client.post(hook, content=body, headers=signed).status_code == 202
        assert stop(served) == 0
        text = served.stderr()
    assert "startup: 2 posts, 0 rejected" in text
    # A refused proof names the header it checked (#18.6).
    assert (
        "webhook delivery: sender=- delivery=- result=unauthorised "
        "(X-Gitlab-Token does not match the secret)" in text
    )
    assert "result=unauthorised (X-Hub-Signature-256 does not match the secret)" in text
    assert "result=unauthorised (no X-Hub-Signature-256, X-Gitea-Signature" in text
    assert '"POST /webhook HTTP/1.1" 401' in text
    assert (
        "sender=github delivery=- result=ignored (the 'issues' event is not a push) event=issues"
        in text
    )
    assert text.count("startup: 2 posts") == 1 and "webhook (github):" not in text


# -- config errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("shutdown_timeout", -1),
        ("shutdown_timeout", "soon"),
        ("read_timeout", 0),
        ("read_timeout", "15s"),
        ("max_connections", -5),
        ("max_connections", 1.5),
        ("port", 70000),
        ("metrics", "yes"),
        ("status_details", "on"),
        ("read_timeout", float("inf")),
        ("shutdown_timeout", 99999999999999999999),
    ],
)
def test_bad_server_settings_exit_2_naming_the_key(make_site, key, value):
    site = seed(make_site, server={key: value})
    cmd = [sys.executable, "-m", "feedwright", "serve", "--config", str(site.config_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"config.yaml: server.{key}: expected" in result.stderr
    assert "Traceback" not in result.stderr
    assert yaml.safe_load(site.config_path.read_text("utf-8"))["server"][key] == value


@pytest.mark.slow
def test_sigterm_mid_render_stops_at_a_safe_point_within_2_s(make_site, big_site):
    # A cold build with archives: after its first feed file it renders and writes ~1,500
    # more (1.6 s on the 2-core CI machine), which a stop must cut short.
    every = {
        "archives_formats": ["atom", "rss", "json"],
        "archives_groups": ["site", "categories", "tags"],
    }
    site = make_site(source=str(big_site), feeds={"archives": "monthly", "limit": 1000, **every})
    with serving(site, wait_for_build=False) as served:
        # The first file in the empty output (archives come first, a worker task's files
        # at a time; feeds and pages last): the build renders and writes now.
        wait_until(lambda: any(site.out.rglob("*.xml")), timeout=120, step=0.002)
        started = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)
        try:
            status = served.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still runs 30 s after SIGTERM:\n{served.stderr()}")
        took = time.monotonic() - started
        text = served.stderr()
        left = procs.survivors(served.family, timeout=2)
    assert status == 0, text
    assert not left, procs.describe(left)
    assert "stopped at a safe point" in text and "feeds written" not in text, text
    assert took < 2, f"{took:.2f} s after SIGTERM:\n{text}"
    assert "leaked semaphore" not in text, text
    assert list(site.out.rglob("*.fwtmp")) == []
    check_tree(site.out)  # whatever it wrote is whole
    assert lock_is_free(site.out)
