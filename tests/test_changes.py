"""The change report (``feedwright build --json``) and ``hooks.after_build``, from
``build``, ``watch`` and ``serve``: real sites, real processes, a real server."""

from __future__ import annotations

import json
import re
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import procs
import pytest
from click.testing import CliRunner
from conftest import parse_feed
from live import serve_site, wait_until

from feedwright.cli import cli
from feedwright.config import SECONDS
from feedwright.hooks import HookRunner
from feedwright.watch import watch

# A hook that saves what it read and where it ran, then exits with argv[2] (default 0).
SAVE = textwrap.dedent(
    """
    import json, os, sys
    data = sys.stdin.read()
    with open(sys.argv[1], "a", encoding="utf-8") as f:
        f.write(json.dumps({"cwd": os.getcwd(), "stdin": data}) + "\\n")
    sys.stderr.write("hook says: broken pipe to the CDN\\n")
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    """
)
# A hook that starts a child and hangs (both must be gone after the timeout).
HANG = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    open(sys.argv[1], "w").write(str(child.pid))
    time.sleep(120)
    """
)


def post(site, name: str, title: str, tags: list[str], date: str) -> None:
    site.post(name, {"title": title, "date": date, "tags": tags})


def cli_build(site, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(cli, ["build", "--config", str(site.config_path), *args])


def report_of(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def feed_urls(site, relpath: str) -> list[str]:
    path = site.out / relpath
    if not path.exists():
        return []
    return [item["url"] for item in parse_feed(path)["items"]]


def group(report: dict[str, Any], kind: str, slug: str) -> dict[str, Any] | None:
    found = [g for g in report["groups"] if (g["kind"], g["slug"]) == (kind, slug)]
    return found[0] if found else None


def test_build_json_reports_counts_files_errors_and_memberships(make_site):
    site = make_site(feeds={"limit": 2})
    post(site, "2022-03-07-a.md", "甲 & <b>", ["株洲"], "2022-03-07 08:00:00 +0800")
    post(site, "2022-03-08-b.md", "乙", ["株洲", "民生"], "2022-03-08 08:00:00 +0800")
    site.post("2022-03-09-bad.md", "title: 坏\ndate: not a date\n")
    first = report_of(cli_build(site, "--json"))
    assert first["schema"] == 1 and first["cold"] and first["changed"]
    assert (first["posts"], first["rejected"], first["removed"]) == (2, 1, 0)
    assert first["errors"] == [
        {
            "path": "_posts/2022-03-09-bad.md",
            "line": 3,
            "message": first["errors"][0]["message"],
        }
    ]
    assert first["errors"][0]["message"].startswith("date: ")
    written = {f["path"]: f["url"] for f in first["files"]}
    # Three groups' feeds and pages (feeds.pages is on by default), and the OPML.
    assert len(written) == first["written"] == 3 * 4 + 1
    assert (
        written["tags/株洲/atom.xml"]
        == "https://news.example/feeds/tags/%E6%A0%AA%E6%B4%B2/atom.xml"
    )
    assert written["feeds.opml"] == "https://news.example/feeds/feeds.opml"
    assert written["tags/株洲/index.html"] == "https://news.example/feeds/tags/%E6%A0%AA%E6%B4%B2/"
    assert written["index.html"] == "https://news.example/feeds/"
    assert {f["change"] for f in first["files"]} == {"written"}
    # the summary line's split: feeds apart from the OPML, pages and archive files
    kinds = {f["path"]: f["kind"] for f in first["files"]}
    assert (kinds["feeds.opml"], kinds["index.html"], kinds["tags/株洲/rss.xml"]) == (
        "opml",
        "page",
        "feed",
    )
    none = {"written": 0, "unchanged": 0, "removed": 0, "kept": 0}
    assert first["by_kind"] == {
        "feeds": {**none, "written": 9},
        "opml": {**none, "written": 1},
        "pages": {**none, "written": 3},
        "archive_files": none,
    }
    tag = group(first, "tag", "株洲")
    assert tag is not None
    assert tag["name"] == "株洲" and tag["title"] == "测试站 · 株洲" and not tag["removed"]
    assert tag["entered"] == [
        {
            "path": "_posts/2022-03-08-b.md",
            "url": "https://news.example/2022/03/08/b.html",
            "title": "乙",
        },
        {
            "path": "_posts/2022-03-07-a.md",
            "url": "https://news.example/2022/03/07/a.html",
            "title": "甲 & <b>",
        },
    ]
    assert tag["left"] == []

    # A newer post pushes the oldest out of the two-entry feeds; 乙 leaves 民生 for 交通.
    post(site, "2022-03-10-c.md", "丙", ["株洲"], "2022-03-10 08:00:00 +0800")
    post(site, "2022-03-08-b.md", "乙", ["株洲", "交通"], "2022-03-08 08:00:00 +0800")
    second = report_of(cli_build(site, "--json"))
    assert not second["cold"]
    tag = group(second, "tag", "株洲")
    assert tag is not None
    assert [e["path"] for e in tag["entered"]] == ["_posts/2022-03-10-c.md"]
    assert tag["left"] == [{"path": "_posts/2022-03-07-a.md"}]
    gone = group(second, "tag", "民生")
    assert gone == {
        "kind": "tag",
        "slug": "民生",
        "name": "民生",
        "title": "测试站 · 民生",
        "removed": True,
        "entered": [],
        "left": [{"path": "_posts/2022-03-08-b.md"}],
    }
    new = group(second, "tag", "交通")
    assert new is not None and [e["title"] for e in new["entered"]] == ["乙"]
    removed = {f["path"]: f["url"] for f in second["files"] if f["change"] == "removed"}
    folder = "https://news.example/feeds/tags/%E6%B0%91%E7%94%9F/"
    assert removed == {
        **{f"tags/民生/{name}": folder + name for name in ("atom.xml", "rss.xml", "feed.json")},
        "tags/民生/index.html": folder,
    }
    assert not (site.out / "tags/民生").exists()
    assert (second["by_kind"]["feeds"]["removed"], second["by_kind"]["pages"]["removed"]) == (3, 1)
    assert sum(k["written"] for k in second["by_kind"].values()) == second["written"]
    assert sum(k["unchanged"] for k in second["by_kind"].values()) == second["unchanged"]
    # Nothing changed: an empty report, and still one JSON object.
    third = report_of(cli_build(site, "--json"))
    assert third["changed"] is False
    assert third["files"] == [] and third["groups"] == []
    assert third["unchanged"] == second["written"] + second["unchanged"]


def test_reported_memberships_match_the_feeds_over_edits(make_site):
    """What the report says entered and left each group is what its feeds show."""
    site = make_site(feeds={"limit": 3})
    names = [f"2022-03-{d:02d}-p{d}.md" for d in range(1, 9)]
    edits = [
        (0, ["x"]),
        (1, ["x", "y"]),
        (2, ["y"]),
        (3, ["x"]),
        (4, ["x", "z"]),
        (1, ["z"]),
        (5, ["x"]),
        (3, []),
        (6, ["y", "z"]),
        (0, ["z"]),
    ]
    url_of: dict[str, str] = {}
    for step, (index, tags) in enumerate(edits):
        name = names[index]
        date = f"2022-03-{index + 1:02d} 08:00:00 +0800"
        post(site, name, f"t{index}", tags, date)
        before = {g: feed_urls(site, f"tags/{g}/feed.json") for g in "xyz"}
        report = report_of(cli_build(site, "--json"))
        for g in report["groups"]:
            for e in g["entered"]:
                url_of[e["path"]] = e["url"]
        for g in "xyz":
            after = feed_urls(site, f"tags/{g}/feed.json")
            change = group(report, "tag", g) or {"entered": [], "left": []}
            entered = [e["url"] for e in change["entered"]]
            left = sorted(url_of[e["path"]] for e in change["left"])
            assert entered == [u for u in after if u not in before[g]], (step, g)
            assert left == sorted(u for u in before[g] if u not in after), (step, g)


def test_after_build_gets_the_report_on_stdin_in_the_config_folder(make_site, tmp_path):
    log = tmp_path / "hook.log"
    site = make_site(hooks={"after_build": [sys.executable, "-c", SAVE, str(log)]})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    result = cli_build(site)
    assert result.exit_code == 0
    assert result.stdout.startswith("1 post, 0 rejected")
    runs = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert len(runs) == 1
    assert runs[0]["cwd"] == str(site.config_path.parent)
    sent = json.loads(runs[0]["stdin"])
    assert sent["written"] == 4 + 4 + 1 and sent["posts"] == 1
    # --json prints the very report the hook read.
    post(site, "2022-03-08-b.md", "乙", ["株洲"], "2022-03-08 08:00:00 +0800")
    printed = report_of(cli_build(site, "--json"))
    runs = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert json.loads(runs[1]["stdin"]) == printed
    # A build that changes nothing runs no hook.
    assert cli_build(site).exit_code == 0
    assert len(log.read_text("utf-8").splitlines()) == 2


def test_a_failing_hook_is_reported_and_never_fails_the_build(make_site, tmp_path):
    log = tmp_path / "hook.log"
    site = make_site(hooks={"after_build": [sys.executable, "-c", SAVE, str(log), "3"]})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    result = cli_build(site, "--strict")
    assert result.exit_code == 0
    assert "hooks.after_build failed: " in result.stderr
    assert "exited with 3: hook says: broken pipe to the CDN" in result.stderr
    assert [e.title for e in parse_feed(site.out / "atom.xml").entries] == ["甲"]


def test_a_missing_hook_command_is_reported(make_site, tmp_path):
    site = make_site(hooks={"after_build": [str(tmp_path / "no-such-command")]})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    result = cli_build(site)
    assert result.exit_code == 0
    assert "hooks.after_build failed: cannot run" in result.stderr
    assert "No such file or directory" in result.stderr


def test_a_hanging_hook_is_stopped_at_the_timeout_with_its_children(make_site, tmp_path):
    mark = uuid.uuid4().hex
    pidfile = tmp_path / "child.pid"
    command = ["env", f"FW_HOOK_TEST={mark}", sys.executable, "-c", HANG, str(pidfile)]
    # long enough for the hook to start its child on a loaded machine before it is stopped
    site = make_site(hooks={"after_build": command, "timeout": 4})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    started = time.monotonic()
    result = cli_build(site, "--json")
    took = time.monotonic() - started
    assert result.exit_code == 0
    assert json.loads(result.stdout)["posts"] == 1
    assert "did not finish in 4 s; stopped" in result.stderr
    assert 3.9 < took < 20
    assert pidfile.exists()
    left = procs.survivors(lambda: procs.marked("FW_HOOK_TEST", mark), timeout=5)
    assert left == [], procs.describe(left)


@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        ({"after_build": "purge-cdn --all"}, "hooks.after_build: expected a list of strings"),
        ({"after_build": []}, "hooks.after_build: expected a non-empty list"),
        ({"after_build": [["a"]]}, "hooks.after_build: expected a list of strings"),
        ({"timeout": "soon"}, f"hooks.timeout: {SECONDS}, got 'soon'"),
        ({"timeout": 0}, f"hooks.timeout: {SECONDS}, got 0"),
        ({"timeout": -1}, f"hooks.timeout: {SECONDS}, got -1"),
        ({"timeout": float("nan")}, f"hooks.timeout: {SECONDS}, got nan"),
        ({"timeout": float("inf")}, f"hooks.timeout: {SECONDS}, got inf"),
        ({"timeout": 99999999999999999999}, f"hooks.timeout: {SECONDS}, got 99999999999999999999"),
        ({"timeout": 86400.5}, f"hooks.timeout: {SECONDS}, got 86400.5"),
        ({"after_biuld": ["x"]}, "hooks.after_biuld: unknown key (did you mean"),
        ("purge", "hooks: expected a mapping"),
    ],
)
def test_bad_hooks_config_exits_2_naming_the_key(make_site, hooks: Any, message: str):
    site = make_site(hooks=hooks)
    if isinstance(hooks, dict) and isinstance(hooks.get("timeout"), float):
        # YAML's own spellings of the special numbers, as a user writes them
        assert re.search(r"timeout: (\.nan|\.inf|86400\.5)\n", site.config_path.read_text())
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    result = cli_build(site)
    assert result.exit_code == 2
    assert f"config.yaml: {message}" in result.stderr
    assert "Traceback" not in result.output


def test_watch_runs_the_hook_after_each_build_that_changed_a_file(make_site, tmp_path):
    log = tmp_path / "hook.log"
    site = make_site(hooks={"after_build": [sys.executable, "-c", SAVE, str(log)]})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    results: list[Any] = []
    reports: list[Any] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(site.config_path,),
        kwargs={
            "on_report": reports.append,
            "on_error": print,
            "on_hook": results.append,
            "stop_event": stop,
            "debounce_ms": 800,
            "step_ms": 100,
        },
        daemon=True,
    )
    thread.start()
    try:
        wait_until(lambda: results, timeout=20)
        time.sleep(0.5)
        post(site, "2022-03-08-b.md", "乙", ["株洲"], "2022-03-08 08:00:00 +0800")
        wait_until(lambda: len(results) == 2, timeout=20)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert all(r.ok for r in results)
    runs = [json.loads(json.loads(line)["stdin"]) for line in log.read_text("utf-8").splitlines()]
    assert [r["cold"] for r in runs] == [True, False]
    assert [e["title"] for e in group(runs[1], "tag", "株洲")["entered"]] == ["乙"]  # type: ignore[index]


def test_serve_runs_the_hook_and_shows_a_hanging_one_in_status(make_site, tmp_path):
    mark = uuid.uuid4().hex
    pidfile = tmp_path / "child.pid"
    command = ["env", f"FW_HOOK_TEST={mark}", sys.executable, "-c", HANG, str(pidfile)]
    site = make_site(hooks={"after_build": command, "timeout": 1})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    with serve_site(site.config, cwd=str(site.config_path.parent)) as served:
        served.rebuilder.request("startup")
        status = served.settle()
        assert status["last"]["ok"]
        # The hook is still hanging, and a second build is not held up by it.
        assert status["after_build"]["running"]
        post(site, "2022-03-08-b.md", "乙", ["株洲"], "2022-03-08 08:00:00 +0800")
        assert served.hook().status_code == 202
        status = served.settle()
        assert status["last"]["ok"] and status["runs"] == 2
        titles = [e.title for e in parse_feed(site.out / "atom.xml").entries]
        assert titles == ["乙", "甲"]
        status = wait_until(
            lambda: (s := served.status())["after_build"]["runs"] == 2 and s, timeout=20
        )
        hook = status["after_build"]
        assert hook["failures"] == 2 and not hook["running"]
        assert hook["last"]["ok"] is False
        assert "did not finish in 1 s; stopped" in hook["last"]["message"]
    left = procs.survivors(lambda: procs.marked("FW_HOOK_TEST", mark), timeout=5)
    assert left == [], procs.describe(left)


def test_closing_the_runner_stops_a_running_hook(make_site, tmp_path):
    mark = uuid.uuid4().hex
    command = ["env", f"FW_HOOK_TEST={mark}", sys.executable, "-c", HANG, str(tmp_path / "p")]
    site = make_site(hooks={"after_build": command, "timeout": 60})
    post(site, "2022-03-07-a.md", "甲", ["株洲"], "2022-03-07 08:00:00 +0800")
    report = site.build()
    results: list[Any] = []
    runner = HookRunner(results.append)
    assert runner.submit(site.config, report)
    wait_until(lambda: (tmp_path / "p").exists(), timeout=20)
    started = time.monotonic()
    assert runner.close(timeout=10)
    assert time.monotonic() - started < 10
    assert [r.ok for r in results] == [False]
    left = procs.survivors(lambda: procs.marked("FW_HOOK_TEST", mark), timeout=5)
    assert left == [], procs.describe(left)


def test_the_readme_documents_the_change_report():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    for key in ("after_build", "--json", '"entered"', '"left"', '"errors"', '"files"'):
        assert key in readme
