"""The command line, through click's runner and as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import check_tree, parse_feed

from feedwright import __version__
from feedwright.cli import cli

#: The summary line: posts, rejected; feeds (and the OPML) written (unchanged, removed);
#: pages written (unchanged, removed), when the site has pages; seconds.
SUMMARY = re.compile(
    r"^(\d+) posts?, (\d+) rejected, (\d+) feeds?( and feeds\.opml)? written "
    r"\((\d+) unchanged, (\d+) removed\)"
    r"(?:; (\d+) pages? written \((\d+) unchanged, (\d+) removed\))?; \d+\.\d\d s\n$"
)
BAD_POST = {"title": "坏", "date": "2022-02-30 08:00:00 +0800"}
BAD_LINE = re.compile(r"^_posts/2022-03-09-bad\.md:3: date: .+$", re.M)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def counts(stdout: str) -> tuple[int, ...]:
    """(posts, rejected, feeds written, unchanged, removed, OPML written (1/0), pages
    written, unchanged, removed)."""
    m = SUMMARY.match(stdout)
    assert m is not None, stdout
    posts, rejected, written, opml, unchanged, removed, *pages = m.groups()
    numbers = (posts, rejected, written, unchanged, removed, int(bool(opml)), *pages)
    return tuple(int(n or 0) for n in numbers)


@pytest.fixture
def site(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-03-08-b.md", {"title": "乙"})
    return site


def test_build_prints_one_summary_line(site):
    result = run("build", "--config", str(site.config_path))
    assert result.exit_code == 0
    # 3 groups (site, news, 株洲) × 3 formats, the OPML, a page each
    assert counts(result.stdout) == (2, 0, 9, 0, 0, 1, 3, 0, 0)
    assert result.stderr == ""
    check_tree(site.out)
    again = run("build", "--config", str(site.config_path))
    assert counts(again.stdout) == (2, 0, 0, 9, 0, 0, 0, 3, 0)


def test_a_bad_post_is_reported_and_the_rest_published(site):
    site.post("2022-03-09-bad.md", BAD_POST)
    result = run("build", "--config", str(site.config_path))
    assert result.exit_code == 0
    assert counts(result.stdout) == (2, 1, 9, 0, 0, 1, 3, 0, 0)
    assert len(BAD_LINE.findall(result.stderr)) == 1
    assert [e.title for e in site.feed("atom.xml").entries] == ["乙", "甲"]


def test_strict_exits_1_on_a_rejected_post_but_still_publishes(site):
    site.post("2022-03-09-bad.md", BAD_POST)
    result = run("build", "--strict", "--config", str(site.config_path))
    assert result.exit_code == 1
    assert BAD_LINE.search(result.stderr)
    assert counts(result.stdout)[:3] == (2, 1, 9)
    assert (site.out / "atom.xml").is_file()
    check_tree(site.out)


def test_strict_exits_0_when_every_post_is_good(site):
    assert run("build", "--strict", "--config", str(site.config_path)).exit_code == 0


def test_quiet_prints_nothing_on_success(site):
    result = run("build", "-q", "--config", str(site.config_path))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert (site.out / "atom.xml").is_file()


def test_quiet_still_prints_errors(site):
    site.post("2022-03-09-bad.md", BAD_POST)
    result = run("build", "-q", "--config", str(site.config_path))
    assert result.stdout == ""
    assert BAD_LINE.fullmatch(result.stderr.strip())


def test_source_and_output_override_the_config(site, tmp_path, monkeypatch):
    other = tmp_path / "work" / "other-site"
    (other / "_posts").mkdir(parents=True)
    (other / "_posts" / "2022-03-07-x.md").write_text("---\ntitle: 另一个\n---\n正文", "utf-8")
    monkeypatch.chdir(tmp_path / "work")  # relative paths on the command line: from here
    result = run(
        "build", "--config", str(site.config_path), "--source", "other-site", "--output", "built"
    )
    assert result.exit_code == 0, result.output
    assert counts(result.stdout) == (1, 0, 3, 0, 0, 1, 1, 0, 0)
    built = tmp_path / "work" / "built"
    check_tree(built)
    assert [e.title for e in parse_feed(built / "atom.xml").entries] == ["另一个"]
    assert not site.out.exists()
    assert not (site.root / "built").exists()


def test_check_writes_nothing_and_exits_1_on_a_bad_post(site):
    result = run("check", "--config", str(site.config_path))
    assert (result.exit_code, result.stdout) == (0, "2 posts, 0 rejected\n")
    site.post("2022-03-09-bad.md", BAD_POST)
    result = run("check", "--config", str(site.config_path))
    assert result.exit_code == 1
    assert result.stdout == "2 posts, 1 rejected\n"
    assert BAD_LINE.search(result.stderr)
    assert not site.out.exists()


def test_feeds_lists_every_feed_url(site):
    result = run("feeds", "--config", str(site.config_path))
    assert result.exit_code == 0
    base = "https://news.example/feeds/"
    tag = "tags/%E6%A0%AA%E6%B4%B2/"
    assert result.stdout.splitlines() == [
        f"{kind}\t{title}\t{fmt}\t{base}{folder}{name}"
        for kind, title, folder in (
            ("site", "测试站", ""),
            ("category", "测试站 · news", "categories/news/"),
            ("tag", "测试站 · 株洲", tag),
        )
        for fmt, name in (("atom", "atom.xml"), ("rss", "rss.xml"), ("json", "feed.json"))
    ]
    assert not site.out.exists()


def test_version():
    result = run("--version")
    assert (result.exit_code, result.stdout) == (0, f"feedwright, version {__version__}\n")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"feeds": {"limit": "many"}}, "feeds.limit"),
        ({"feeds": {"limt": 3}}, "feeds.limt"),
        ({"site": {"url": "not a url"}}, "site.url"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
@pytest.mark.parametrize("command", ["build", "check", "feeds"])
def test_a_bad_config_exits_2_naming_the_key(make_site, change, key, command):
    site = make_site(**change)
    result = CliRunner().invoke(cli, [command, "--config", str(site.config_path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: config.yaml: {key}: "), result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not site.out.exists()


def test_a_missing_config_file_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["build", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.output


def test_unknown_command_or_option_exits_2(site):
    assert CliRunner().invoke(cli, ["bild"]).exit_code == 2
    assert CliRunner().invoke(cli, ["build", "--frobnicate"]).exit_code == 2


# -- real processes -------------------------------------------------------------------------

FEEDWRIGHT = Path(sys.executable).parent / "feedwright"


def test_real_process_build_and_strict(site):
    site.post("2022-03-09-bad.md", BAD_POST)
    done = subprocess.run(
        [str(FEEDWRIGHT), "build", "--strict", "--config", str(site.config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert counts(done.stdout)[:3] == (2, 1, 9)
    assert BAD_LINE.search(done.stderr)
    check_tree(site.out)


def test_real_process_module_bad_config(make_site):
    site = make_site(feeds={"formats": ["atom", "rdf"]})
    done = subprocess.run(
        [sys.executable, "-m", "feedwright", "build", "--config", "config.yaml"],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Error: config.yaml: feeds.formats: ")
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_real_process_default_config_in_the_working_directory(site):
    settings = yaml.safe_load(site.config_path.read_text("utf-8"))
    assert settings["output"] == "out"
    done = subprocess.run(
        [sys.executable, "-m", "feedwright", "build"],
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == (2, 0, 9, 0, 0, 1, 3, 0, 0)
    check_tree(site.out)


def test_full_ignores_the_cache(site):
    assert run("build", "--config", str(site.config_path)).exit_code == 0
    path = site.src / "_posts" / "2022-03-08-b.md"
    st = path.stat()
    path.write_bytes(path.read_bytes().replace("乙".encode(), "丙".encode()))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    result = run("build", "--full", "--config", str(site.config_path))
    assert counts(result.stdout) == (2, 0, 3, 6, 0, 0, 1, 2, 0)  # the site's feeds and page
    assert site.feed("atom.xml").entries[0].title == "丙"


def test_summary_counts_removals_and_verbose_names_each_removed_feed(site):
    assert run("build", "--config", str(site.config_path)).exit_code == 0
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news"})  # the tag is gone
    result = run("build", "-v", "--config", str(site.config_path))
    assert result.exit_code == 0
    # the tag's 3 feeds and page removed; the site's and news's feeds and the site's page
    # written (the news page shows no tags: unchanged), and the OPML
    assert counts(result.stdout) == (2, 0, 6, 0, 3, 1, 1, 1, 1)
    removed = sorted(line for line in result.stderr.splitlines() if line.startswith("removed "))
    tag = "tags/株洲/"
    assert removed == [
        f"removed {tag}atom.xml",
        f"removed {tag}feed.json",
        f"removed {tag}index.html",
        f"removed {tag}rss.xml",
    ]
    assert not (site.out / "tags").exists() or not any((site.out / "tags").rglob("*.xml"))
