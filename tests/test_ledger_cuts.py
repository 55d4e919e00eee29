"""A cut id ledger never gives an id that was not a whole line (issue #18, point 1).

The ledger of a small real site is cut at every byte offset and built: the build stops
(``ids:LINE``, nothing written), or, for the lines a build was appending when it was killed
(which no feed carried yet), drops them with a warning and publishes the ids it had before.
The issue's own reproductions run through the command line.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW

from feedwright.cli import cli
from feedwright.engine import build
from feedwright.errors import LedgerError
from feedwright.ledger import load_ledger

CUT_SHORT = re.compile(r":(\d+): the line is cut short \(the file was cut\)\. Restore ")


def entries(site) -> list[tuple[str, str]]:
    """``(id, link)`` of every entry of the site's feeds, in every format."""
    atom = [(e.id, e.link) for e in site.feed("atom.xml").entries]
    rss = [(e.id, e.link) for e in site.feed("rss.xml").entries]
    json_feed = [(i["id"], i["url"]) for i in site.feed("feed.json")["items"]]
    assert atom == rss == json_feed
    return atom


def state(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``out``: its bytes and mtime."""
    return {
        str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def restore(saved: Path, out: Path) -> None:
    """Put ``out`` back as ``saved`` holds it (bytes and mtimes), copying only what differs."""
    keep = {p.relative_to(saved) for p in saved.rglob("*") if p.is_file()}
    for path in [p for p in out.rglob("*") if p.is_file()]:
        if path.relative_to(out) not in keep:
            path.unlink()
    for rel in keep:
        source, target = saved / rel, out / rel
        s = source.stat()
        try:
            t = target.stat()
            if (t.st_size, t.st_mtime_ns) == (s.st_size, s.st_mtime_ns):
                continue
        except FileNotFoundError:
            target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@pytest.fixture
def moved(make_site, tmp_path):
    """A site whose ledger was written whole, then appended to by a build in which a post's
    permalink moved (its id stays its old permalink); and the output as the first build
    left it (``moved.first``)."""
    site = make_site(site={"url": "http://news.example"})
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia"})
    site.post("2022-03-08-b.md", {"title": "乙", "categories": "sport"})
    site.build()
    site.first = tmp_path / "first"
    shutil.copytree(site.out, site.first)
    site.post("2022-03-07-a.md", {"title": "甲", "categories": "news", "slug": "jia-xin"})
    site.build()
    site.ledger = site.out / ".feedwright" / "ids"
    site.expected = entries(site)
    a = "http://news.example/news/2022/03/07/"
    assert (a + "jia.html", a + "jia-xin.html") in site.expected  # an id that is not the link
    return site


def test_a_ledger_cut_at_any_byte_stops_every_build_with_its_line(moved, tmp_path):
    data = moved.ledger.read_bytes()
    assert data.count(b"\nend\n") == 2  # written whole, then one build's lines appended
    first = (moved.first / ".feedwright" / "ids").read_bytes()
    assert data.startswith(first)
    saved = tmp_path / "saved"
    shutil.copytree(moved.out, saved)
    config = moved.config
    outcomes: Counter[str] = Counter()
    for cut in range(len(data)):
        moved.ledger.write_bytes(data[:cut])
        before = state(moved.out)
        try:
            build(config, now=NOW, durable=False)
        except LedgerError as e:
            assert str(e).startswith(f"{moved.ledger}:"), (cut, str(e))
            assert re.match(r":\d+: ", str(e)[len(str(moved.ledger)) :]), (cut, str(e))
            assert state(moved.out) == before, cut  # nothing written
            outcomes["stopped"] += 1
        else:
            # only where the file is exactly what the first build left: its ids are those
            # of the whole lines it holds, which the second build kept
            assert cut == len(first), cut
            assert entries(moved) == moved.expected
            outcomes["as the first build left it"] += 1
            restore(saved, moved.out)
    assert outcomes == {"stopped": len(data) - 1, "as the first build left it": 1}


def test_lines_a_killed_build_was_appending_are_dropped_with_a_warning_at_any_byte(moved):
    """What a build killed during its append leaves: the output of the build before, the
    ledger with part of the new lines, and no ``clean`` marker (it began writing)."""
    data = moved.ledger.read_bytes()
    start = len((moved.first / ".feedwright" / "ids").read_bytes())
    config = moved.config
    for cut in range(start + 1, len(data)):
        restore(moved.first, moved.out)
        (moved.out / ".feedwright" / "clean").unlink()
        moved.ledger.write_bytes(data[:cut])
        report = build(config, now=NOW, durable=False)
        torn = data[start:cut].count(b"\n") + (not data[:cut].endswith(b"\n"))
        lines = "1 line" if torn == 1 else f"{torn} lines"  # (the row, and part of 'end')
        dropped = [w for w in report.warnings if "the last build stopped while adding" in w]
        assert dropped == [
            f"{moved.ledger}:6: the last build stopped while adding {lines} here, so no "
            "feed carries their ids: dropped (the file is written again whole)"
        ], cut
        assert entries(moved) == moved.expected, cut
        load_ledger(moved.ledger.read_bytes(), "ids")  # whole again
    # a cut before those lines is not the killed build's: it stops the build
    restore(moved.first, moved.out)
    (moved.out / ".feedwright" / "clean").unlink()
    moved.ledger.write_bytes(data[: start - 5])
    with pytest.raises(LedgerError, match=r"ids:4: the line is cut short"):
        build(config, now=NOW, durable=False)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_the_issues_2000_post_site_cut_at_200000_bytes(make_site):
    site = make_site(site={"url": "https://big.example"})
    for i in range(2000):
        day = f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}"
        site.post(f"{day}-{i:07d}.md", {"title": f"第{i}篇", "categories": f"paper{i % 60}"})
    site.build()
    ledger = site.out / ".feedwright" / "ids"
    assert ledger.stat().st_size > 200_000
    os.truncate(ledger, 200_000)
    before = state(site.out)
    for command in ("build", "check", "feeds"):
        result = run(command, "--config", str(site.config_path))
        assert result.exit_code == 2, (command, result.output)
        found = CUT_SHORT.search(result.stderr)
        assert found and result.stderr.startswith(f"Error: {ledger}:"), result.stderr
        assert "Traceback" not in result.output
    assert state(site.out) == before  # nothing written: no "htt" anywhere
    assert int(found.group(1)) == ledger.read_bytes().count(b"\n") + 1


def test_the_issues_30_byte_cut_of_a_finished_build(moved):
    data = moved.ledger.read_bytes()
    moved.ledger.write_bytes(data[:-30])  # the end line and the tail of the last row
    assert data[:-30].endswith(b"\thttp://news.example/news/202")  # an id's stub
    result = run("build", "--config", str(moved.config_path))
    assert result.exit_code == 2 and CUT_SHORT.search(result.stderr), result.output
    assert f"{moved.ledger}:6: " in result.stderr


def test_the_warning_for_a_torn_append_on_the_command_line(moved):
    data = moved.ledger.read_bytes()
    restore(moved.first, moved.out)
    (moved.out / ".feedwright" / "clean").unlink()
    moved.ledger.write_bytes(data[:-30])
    result = run("check", "--config", str(moved.config_path))  # a dry run: says, writes not
    assert result.exit_code == 0, result.output
    assert f"{moved.ledger}:6: the last build stopped while adding 1 line here" in result.stderr
    assert "the next build drops them" in result.stderr
    assert moved.ledger.read_bytes() == data[:-30]
    result = run("build", "--config", str(moved.config_path))
    assert result.exit_code == 0, result.output
    assert "dropped (the file is written again whole)" in result.stderr
    assert entries(moved) == moved.expected
    assert run("build", "--config", str(moved.config_path)).stderr == ""  # repaired for good
