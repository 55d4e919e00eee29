"""Words that add up (#19): the summary line counts feeds apart from pages and archive
files, and each count is the number of such files on disk; ``-v`` sums up what a feed
policy leaves out and ``--explain`` lists every group; ``check`` and ``feeds`` read the
output folder given by ``--output``. Real builds through the CLI, files counted on disk."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from feedwright.cli import cli

#: Any summary line; each kind of file as (written, unchanged, kept, removed).
LINE = re.compile(
    r"^(?P<posts>\d+) posts?, (?P<rejected>\d+) rejected, "
    r"(?P<feed>\d+) feeds?(?P<opml> and feeds\.opml)? written \((?P<feed_rest>[^)]*)\)"
    r"(?:; (?P<page>\d+) pages? written \((?P<page_rest>[^)]*)\))?"
    r"(?:; (?P<archive>\d+) archive files? written \((?P<archive_rest>[^)]*)\))?"
    r"; \d+\.\d\d s$"
)
REST = re.compile(r"^(\d+) unchanged(?:, (\d+) kept as they were)?, (\d+) removed$")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def summary(stdout: str) -> dict[str, object]:
    """The summary line taken apart: ``posts``, ``rejected``, ``opml`` (written or not),
    and ``feed``, ``page``, ``archive``: (written, unchanged, kept, removed) or ``None``."""
    m = LINE.match(stdout.splitlines()[0])
    assert m is not None, stdout
    out: dict[str, object] = {
        "posts": int(m["posts"]),
        "rejected": int(m["rejected"]),
        "opml": bool(m["opml"]),
    }
    for kind in ("feed", "page", "archive"):
        if m[kind] is None:
            out[kind] = None
            continue
        rest = REST.match(m[f"{kind}_rest"])
        assert rest is not None, m[f"{kind}_rest"]
        unchanged, kept, removed = rest.groups()
        out[kind] = (int(m[kind]), int(unchanged), int(kept or 0), int(removed))
    return out


def on_disk(out: Path) -> dict[str, int]:
    """The files feedwright wrote, by kind, counted on disk."""
    files = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    files = [p for p in files if ".feedwright" not in p.parts]
    archive = [p for p in files if "archive" in p.parts[:-1]]
    pages = [p for p in files if p.name == "index.html"]
    feeds = [p for p in files if p.name in ("atom.xml", "rss.xml", "feed.json")]
    return {
        "feed": len(feeds) - len(archive),
        "page": len(pages),
        "archive": len(archive),
        "opml": int((out / "feeds.opml").exists()),
    }


def listed_feeds(site, *options: str) -> list[str]:
    result = run("feeds", "--config", str(site.config_path), *options)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def test_one_of_each_is_singular_and_pages_are_not_mentioned_when_off(make_site):
    site = make_site(feeds={"formats": ["atom"], "pages": False})
    site.post("2022-03-07-a.md", {"title": "甲"})
    first = run("build", "--config", str(site.config_path))
    assert first.exit_code == 0, first.output
    assert re.fullmatch(
        r"1 post, 0 rejected, 1 feed and feeds\.opml written \(0 unchanged, 0 removed\); "
        r"\d+\.\d\d s\n",
        first.stdout,
    )
    site.post("2022-03-07-a.md", {"title": "甲乙"})
    second = run("build", "--config", str(site.config_path))
    assert re.fullmatch(
        r"1 post, 0 rejected, 1 feed written \(0 unchanged, 0 removed\); \d+\.\d\d s\n",
        second.stdout,
    )
    site.post("2022-03-08-b.md", "title: 坏\ndate: not a date\n")
    check = run("check", "--config", str(site.config_path))
    assert check.stdout == "1 post, 1 rejected\n"


def test_the_counts_are_the_files_on_disk(make_site):
    """Feeds (as ``feedwright feeds`` lists them), pages and archive files each add up to
    what is in the output folder, over a cold build, a no-op, an edit, a rejected post and
    a removed group."""
    every = {
        "archives_formats": ["atom", "rss", "json"],
        "archives_groups": ["site", "categories", "tags"],
    }
    site = make_site(feeds={"archives": "monthly", **every})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "tags": ["株洲"]})
    site.post("2022-04-08-b.md", {"title": "乙", "categories": "news", "tags": ["体育"]})
    site.post("2022-04-09-c.md", {"title": "丙", "tags": ["体育"]})

    def build() -> tuple[dict[str, object], list[str]]:
        result = run("build", "--config", str(site.config_path))
        assert result.exit_code == 0, result.output
        return summary(result.stdout), result.stderr.splitlines()

    def assert_adds_up(said: dict[str, object]) -> None:
        disk = on_disk(site.out)
        for kind in ("feed", "page", "archive"):
            written, unchanged, kept, _removed = said[kind]  # type: ignore[misc]
            assert written + unchanged + kept == disk[kind], kind
        feed = said["feed"]
        assert feed[0] + feed[1] + feed[2] == len(listed_feeds(site))  # type: ignore[index]

    cold, _ = build()
    assert cold["opml"] and (cold["posts"], cold["rejected"]) == (3, 0)
    # 4 groups (site, news, 株洲, 体育) × 3 formats; a page each; archives: the site's two
    # months, news's two, 株洲's one, 体育's one → 6 × 3 files
    assert (cold["feed"], cold["page"], cold["archive"]) == (
        (12, 0, 0, 0),
        (4, 0, 0, 0),
        (18, 0, 0, 0),
    )
    assert_adds_up(cold)

    noop, _ = build()
    assert not noop["opml"]
    assert (noop["feed"], noop["page"], noop["archive"]) == (
        (0, 12, 0, 0),
        (0, 4, 0, 0),
        (0, 18, 0, 0),
    )

    # 株洲's only post turns bad: the files of every group that held it (site, news, 株洲)
    # are kept as they were, as the warnings say one by one
    site.post("2022-03-07-a.md", "title: 甲\ndate: not a date\ntags: [株洲]\n")
    bad, stderr = build()
    kept = [line for line in stderr if "kept as it was" in line]
    kinds = {"feed": 0, "page": 0, "archive": 0}
    for line in kept:
        path = line.removeprefix("warning: ").split(":")[0]
        folders = path.split("/")[:-1]
        kind = "archive" if "archive" in folders else "page" if path.endswith(".html") else "feed"
        kinds[kind] += 1
    assert kinds == {"feed": 9, "page": 3, "archive": 9}
    for kind, count in kinds.items():
        assert bad[kind][2] == count, kind  # type: ignore[index]
    assert_adds_up(bad)

    # 株洲 goes for good: its files are removed, and the counts say so
    (site.src / "_posts" / "2022-03-07-a.md").unlink()
    gone, _ = build()
    assert gone["opml"]
    assert gone["feed"][3] == 3 and gone["page"][3] == 1  # type: ignore[index]
    assert gone["archive"][3] == 9  # type: ignore[index]  # March: the site's, news's, 株洲's
    assert_adds_up(gone)


def policy_site(make_site, tags: int):
    """A site whose feed policy leaves ``tags`` one-post tags without feeds."""
    site = make_site(feeds={"tags": {"min_posts": 2}})
    names = [f"t{i:02d}" for i in range(tags)]
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["big", *names]})
    site.post("2022-03-08-b.md", {"title": "乙", "tags": ["big"]})
    return site, [f"tags/{n}: no feed: 1 post, fewer than feeds.tags.min_posts (2)" for n in names]


def test_verbose_sums_up_what_the_policy_leaves_out_and_explain_lists_every_one(make_site):
    site, reasons = policy_site(make_site, 12)
    verbose = run("build", "-v", "--config", str(site.config_path))
    assert verbose.exit_code == 0, verbose.output
    lines = verbose.stderr.splitlines()
    start = lines.index(
        "the feed policy leaves 12 categories and tags without feeds; the first 10, and why:"
    )
    assert lines[start + 1 : start + 12] == [
        *(f"  {r}" for r in reasons[:10]),
        "  … and 2 more: `feedwright build --explain` lists every one",
    ]
    assert any(line.startswith("wrote ") for line in lines)

    explain = run("build", "--explain", "--config", str(site.config_path))
    assert explain.exit_code == 0, explain.output
    assert explain.stderr.splitlines() == reasons  # every one, and nothing else of -v
    assert summary(explain.stdout)["posts"] == 2

    both = run("build", "-v", "--explain", "--config", str(site.config_path))
    assert [line for line in both.stderr.splitlines() if "no feed" in line] == reasons
    assert "more" not in both.stderr

    plain = run("build", "--config", str(site.config_path))
    assert "no feed" not in plain.output


def test_verbose_lists_a_few_groups_without_feeds_in_full(make_site):
    site, reasons = policy_site(make_site, 10)
    verbose = run("build", "-v", "--config", str(site.config_path))
    assert [line for line in verbose.stderr.splitlines() if "no feed" in line] == reasons
    assert "more" not in verbose.stderr


def test_check_reads_the_ledger_in_the_output_it_is_given(make_site, tmp_path):
    site = make_site(site={"url": "http://news.example"})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"})
    elsewhere = tmp_path / "elsewhere"
    built = run("build", "--config", str(site.config_path), "--output", str(elsewhere))
    assert built.exit_code == 0, built.output
    assert not site.out.exists()
    # the permalink moves: only the ledger in `elsewhere` knows the id it had
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "sport", "slug": "jia"})
    checked = run("check", "--config", str(site.config_path), "--output", str(elsewhere))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines() == [
        "moved: _posts/2022-03-07-a.md: the permalink moved to "
        "http://news.example/sport/2022/03/07/jia.html; the entry id stays "
        "http://news.example/news/2022/03/07/jia.html",
        "1 post, 0 rejected",
    ]
    default = run("check", "--config", str(site.config_path))  # the config's output: none
    assert default.stdout == "1 post, 0 rejected\n"
    # a broken ledger there stops check, naming the file and line; check wrote nothing
    ledger = elsewhere / ".feedwright" / "ids"
    ledger.write_text(ledger.read_text("utf-8") + "only one field\n", "utf-8")
    broken = run("check", "--config", str(site.config_path), "--output", str(elsewhere))
    assert broken.exit_code == 2
    assert f"{ledger}:" in broken.stderr
    assert run("check", "--config", str(site.config_path)).exit_code == 0
    assert not site.out.exists()


def test_feeds_lists_what_the_output_it_is_given_publishes(make_site, tmp_path):
    """A feed kept because its only post turned bad is published in the output that holds
    it: ``feeds --output`` there lists it; the config's own output (never built) does not."""
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "tags": ["株洲"]})
    site.post("2022-03-08-b.md", {"title": "乙"})
    elsewhere = tmp_path / "elsewhere"
    assert (
        run("build", "--config", str(site.config_path), "--output", str(elsewhere)).exit_code == 0
    )
    site.post("2022-03-07-a.md", "title: 甲\ndate: not a date\ntags: [株洲]\n")
    tag = "/tags/%E6%A0%AA%E6%B4%B2/"
    there = listed_feeds(site, "--output", str(elsewhere))
    assert len(there) == 6 and sum(tag in line for line in there) == 3
    here = listed_feeds(site)
    assert len(here) == 3 and not any(tag in line for line in here)
    html = run("feeds", "--config", str(site.config_path), "--output", str(elsewhere), "--html")
    assert html.exit_code == 0 and html.stdout.count("<link ") == 3
    assert not site.out.exists()
