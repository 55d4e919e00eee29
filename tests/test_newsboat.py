"""A second real feed reader: Debian's newsboat subscribes to a real ``feedwright serve``.

newsboat runs without its interface (``newsboat -x reload``, with a url file, a cache and a
config of its own, as a cron job would run it); what it stored is read back from its
SQLite cache, and what it asked for from the server's access log. Without newsboat the test
skips (under ``CI`` it fails: ``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
from conftest import installed
from live import sign, wait_until
from served import Served, serving, stop

FORMATS = ("atom.xml", "rss.xml")


def post(day: int, title: str) -> tuple[str, dict[str, str], str]:
    """A post of March ``day`` 2022: its file name, front matter and body."""
    front = {"title": title, "date": f"2022-03-0{day} 08:00:00 +0800"}
    return f"2022-03-0{day}-p{day}.md", front, f"<p>第{day}天的正文。</p>"


def entry_id(day: int) -> str:
    return f"https://news.example/2022/03/0{day}/p{day}.html"


@dataclass
class Newsboat:
    """One newsboat, subscribed to one feed, with its own cache."""

    program: str
    folder: Path
    url: str

    def __post_init__(self) -> None:
        self.folder.mkdir()
        (self.folder / "urls").write_text(self.url + "\n", "utf-8")
        (self.folder / "config").write_text("download-retries 1\ndownload-timeout 30\n", "utf-8")

    @property
    def cache(self) -> Path:
        return self.folder / "cache.db"

    def reload(self) -> None:
        """Fetch the feed once, as ``newsboat -x reload`` does."""
        files = ["-u", "urls", "-c", "cache.db", "-C", "config"]
        result = subprocess.run(
            [self.program, "-x", "reload", *files],
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result
        assert "rror" not in result.stdout + result.stderr, result

    def items(self) -> list[tuple[int, str, str]]:
        """``(row, guid, title)`` of every item newsboat keeps, newest first."""
        with closing(sqlite3.connect(self.cache)) as db:
            query = "SELECT id, guid, title FROM rss_item WHERE deleted = 0 ORDER BY pubDate DESC"
            return [(int(row), str(guid), str(title)) for row, guid, title in db.execute(query)]

    def validators(self) -> tuple[int, str]:
        """The ``Last-Modified`` (a Unix time) and ``ETag`` newsboat keeps for its feed."""
        with closing(sqlite3.connect(self.cache)) as db:
            ((modified, etag),) = db.execute("SELECT lastmodified, etag FROM rss_feed")
        return int(modified), str(etag)


def answers(served: Served) -> list[tuple[str, int]]:
    """``(path, status)`` of every request the server answered, in order (its access log)."""
    records = [json.loads(line) for line in served.stderr().splitlines() if line.startswith("{")]
    return [(r["path"], r["status"]) for r in records if r.get("event") == "access"]


def polled(served: Served, before: int, readers: list[Newsboat]) -> dict[str, int]:
    """Reload every reader; the status each feed was answered with (each fetched once)."""
    for reader in readers:
        reader.reload()
    new = wait_until(lambda: answers(served)[before:] if len(answers(served)) > before else None)
    paths = Counter(path for path, _status in new)
    assert all(count == 1 for count in paths.values()), new
    return dict(new)


def test_newsboat_keeps_the_newest_posts_polls_conditionally_and_updates_in_place(
    make_site, tmp_path
):
    program = installed("newsboat")
    site = make_site(feeds={"limit": 3})
    for day in range(1, 6):
        site.post(*post(day, f"第{day}篇"))
    with serving(site, "--log-format", "json") as served:
        atom, rss = (
            Newsboat(program, tmp_path / name, f"{served.url}/feeds/{name}") for name in FORMATS
        )
        readers = [atom, rss]
        paths = [f"/feeds/{name}" for name in FORMATS]

        # It stores exactly the newest posts, and Atom and RSS give it the same ids.
        seen = polled(served, len(answers(served)), readers)
        assert seen == dict.fromkeys(paths, 200)
        newest = [(entry_id(day), f"第{day}篇") for day in (5, 4, 3)]
        assert [(guid, title) for _row, guid, title in atom.items()] == newest
        assert [(guid, title) for _row, guid, title in rss.items()] == newest

        # Its re-polls are answered 304, once it holds the feed's validators (newsboat keeps
        # them from its second fetch of a feed on).
        polled(served, len(answers(served)), readers)
        for reader in readers:
            modified, etag = reader.validators()
            assert modified > 0 and etag.startswith('"'), reader.validators()
        assert polled(served, len(answers(served)), readers) == dict.fromkeys(paths, 304)
        before = atom.items(), rss.items()

        # An edited post is the same item, changed in place: no duplicate. It is published
        # at once, most likely within the second of the last build: a Last-Modified counts
        # whole seconds and libcurl drops a 200 whose Last-Modified is not later than the
        # If-Modified-Since it sent, so the writer moves a changed file to a later second.
        site.post(*post(4, "第4篇（更正）"))
        body = b'{"ref":"refs/heads/main"}'
        with httpx.Client(trust_env=False, timeout=10) as client:
            signed = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
            assert client.post(served.url + "/webhook", content=body, headers=signed).is_success
        wait_until(lambda: served.status()["runs"] == 2 and not served.status()["running"])
        assert polled(served, len(answers(served)), readers) == dict.fromkeys(paths, 200)
        for reader, rows in zip(readers, before, strict=True):
            after = reader.items()
            assert [row for row, _guid, _title in after] == [row for row, _g, _t in rows]
            assert [(guid, title) for _row, guid, title in after] == [
                (entry_id(5), "第5篇"),
                (entry_id(4), "第4篇（更正）"),
                (entry_id(3), "第3篇"),
            ]
        assert stop(served) == 0
