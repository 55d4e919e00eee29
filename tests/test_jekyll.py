"""Against the anchor itself: one site with every way of writing a date, built by real Jekyll
(Debian's ``jekyll`` 4.3 with ``jekyll-feed``) and by feedwright, under two time zones and
five *site* permalink styles. Every post's link must be the URL Jekyll gave it, and its
instants those jekyll-feed writes (``<published>``, ``<updated>``).

The ten Jekyll builds run at once, as separate ``jekyll build`` processes, before the
comparisons. Without Jekyll the tests skip with the reason; under ``CI=true`` that is a
failure (CI installs ``jekyll`` and ``ruby-jekyll-feed``).
"""

from __future__ import annotations

import html
import os
import random
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from conftest import ATOM
from lxml import etree

from feedwright.config import load_config
from feedwright.dates import DateError, Timestamp, in_zone, read_date
from feedwright.engine import build
from feedwright.frontmatter import _Loader, load_simple

#: Read before the tests' fixtures clear ``CI`` from the environment.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ZONES = ("Asia/Shanghai", "America/New_York")
#: Five site permalink styles: three of Jekyll's names and two templates.
STYLES = {
    "date": "date",
    "pretty": "pretty",
    "ordinal": "ordinal",
    "hms": "/:categories/:year/:month/:day/:hour:minute:second/:title:output_ext",
    "short": "/:categories/:short_year/:i_month/:i_day/:title:output_ext",
}
#: (file, front matter lines): every way of writing a date Jekyll reads.
POSTS: list[tuple[str, str]] = [
    # offsets, east and west, and Z
    ("haiwai/_posts/2024-04-01-new-york.md", "date: 2024-04-01 21:00:00 -0500"),
    ("_posts/2024-04-05-east.md", "date: 2024-04-05 08:00:00 +0900"),
    ("_posts/2024-04-05-east-late.md", "date: 2024-04-05 23:30:00 +08:00"),
    ("_posts/2024-04-05-zulu.md", "date: 2024-04-05T23:30:00Z"),
    ("_posts/2024-04-05-zulu-space.md", "date: 2024-04-05 10:00:00 Z"),
    ("_posts/2024-04-05-short-offset.md", "date: 2024-04-05 23:30:00 -05"),
    # naive YAML timestamps: UTC, before and after 16:00 UTC (midnight in Shanghai)
    ("_posts/2024-04-05-naive-morning.md", "date: 2024-04-05 10:00:00"),
    ("_posts/2024-04-05-naive-1559.md", "date: 2024-04-05 15:59:59"),
    ("_posts/2024-04-05-naive-1600.md", "date: 2024-04-05T16:00:00"),
    ("_posts/2024-04-05-naive-late.md", "date: 2024-04-05 23:30:00"),
    ("_posts/2024-04-05-naive-fraction.md", "date: 2024-04-05 23:30:00.75"),
    ("_posts/2024-04-05-naive-unpadded.md", "date: 2024-4-5 3:30:00"),
    ("_posts/2024-12-31-year-end.md", "date: 2024-12-31 20:00:00"),
    ("_posts/2021-01-01-new-year.md", "date: 2021-01-01 02:00:00"),
    # naive text: wall time in the site's zone
    ("_posts/2024-04-05-text-no-seconds.md", "date: 2024-04-05 23:30"),
    ("_posts/2024-04-05-text-t.md", "date: 2024-04-05T23:30"),
    ("_posts/2024-04-05-quoted.md", 'date: "2024-04-05 23:30:00"'),
    ("_posts/2024-04-05-quoted-offset.md", "date: '2024-04-05 23:30:00 -0500'"),
    ("_posts/2024-04-05-quoted-fraction.md", 'date: "2024-04-05 10:00:00.5"'),
    ("_posts/2024-04-05-quoted-date.md", 'date: "2024-04-05"'),
    # a date alone, and none (the file name's date)
    ("_posts/2024-04-07-date-only.md", "date: 2024-04-07"),
    ("_posts/2024-04-08-no-date.md", ""),
    ("新闻/_posts/2024-04-09-cjk-category.md", "date: 2024-04-09 20:00:00"),
    # Shanghai's summer time of 1988 (+09:00 from April 17 to September 11)
    ("_posts/1988-06-01-summer-timestamp.md", "date: 1988-06-01 12:00:00"),
    ("_posts/1988-06-01-summer-text.md", 'date: "1988-06-01 20:30"'),
    ("_posts/1988-06-01-summer-date.md", "date: 1988-06-01"),
    ("_posts/1988-04-17-summer-starts.md", "date: 1988-04-17 02:30"),
    ("_posts/1988-09-11-summer-ends.md", 'date: "1988-09-11 01:30"'),
    ("_posts/1988-09-10-summer-ends-utc.md", "date: 1988-09-10 16:30:00"),
    # both New York DST switches of 2024
    ("_posts/2024-03-10-spring-gap.md", 'date: "2024-03-10 02:30"'),
    ("_posts/2024-03-10-spring-utc.md", "date: 2024-03-10 07:30:00"),
    ("_posts/2024-11-03-fall-repeated.md", "date: 2024-11-03 01:30"),
    ("_posts/2024-11-03-fall-first-utc.md", "date: 2024-11-03 05:30:00"),
    ("_posts/2024-11-03-fall-second-utc.md", "date: 2024-11-03 06:30:00"),
    ("_posts/2024-11-03-fall-offset.md", "date: 2024-11-03 01:30:00 -0400"),
    # Psych's own arithmetic: "-00:30" loses its sign; "+800" is given up on, then ignored
    ("_posts/2024-04-05-psych-minus-zero.md", "date: 2024-04-05 23:30:00 -00:30"),
    ("_posts/2024-04-05-psych-800.md", "date: 2024-04-05 23:30:00 +800"),
    # last_modified_at (jekyll-feed's <updated>): a timestamp and text
    (
        "_posts/2024-04-02-modified-timestamp.md",
        "date: 2024-04-02 09:00:00 +0800\nlast_modified_at: 2024-04-06 01:00:00",
    ),
    (
        "_posts/2024-04-02-modified-text.md",
        "date: 2024-04-02 09:00:00 +0800\nlast_modified_at: 2024-04-06 01:00",
    ),
    # titles as the site shows them: character references decoded
    ("_posts/2024-04-03-entity-title.md", "date: 2024-04-03\ntitle: Fish &amp; Chips"),
    ("_posts/2024-04-03-numeric-title.md", "date: 2024-04-03\ntitle: '&#x4E2D;文 &#20013;'"),
]


def _jekyll_missing() -> str | None:
    """Why real Jekyll with jekyll-feed cannot run here (``None`` when it can)."""
    if shutil.which("jekyll") is None:
        return "no jekyll here (Debian: apt-get install jekyll ruby-jekyll-feed)"
    probe = subprocess.run(
        ["ruby", "-e", 'require "jekyll-feed"'], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0:
        return "jekyll-feed is not installed (Debian: apt-get install ruby-jekyll-feed)"
    return None


def _write_site(root: Path, zone: str, permalink: str) -> None:
    site = root / "site"
    for relpath, front in POSTS:
        path = site / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        title = "" if "title:" in front else f"title: {path.stem[11:]}\n"
        path.write_text(f"---\n{title}{front}\n---\nBody.\n", encoding="utf-8")
    jekyll_config = {
        "url": "https://j.example",
        "timezone": zone,
        "permalink": permalink,
        "plugins": ["jekyll-feed"],
        "feed": {"posts_limit": 1000},
        "disable_disk_cache": True,
    }
    (site / "_config.yml").write_text(yaml.safe_dump(jekyll_config), encoding="utf-8")
    feeds = {"limit": 1000, "formats": ["atom"], "categories": False, "tags": False}
    config = {"source": "site", "output": "out", "feeds": {**feeds, "pages": False}}
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every zone × style site, built by Jekyll (all at once) into ``site/_site``."""
    missing = _jekyll_missing()
    if missing is not None:
        if IN_CI:
            pytest.fail(f"CI must compare with real Jekyll: {missing}")
        pytest.skip(missing)
    roots: dict[tuple[str, str], Path] = {}
    for zone in ZONES:
        for style, permalink in STYLES.items():
            root = tmp_path_factory.mktemp(f"jekyll-{style}")
            _write_site(root, zone, permalink)
            roots[(zone, style)] = root
    env = {**os.environ, "HOME": str(tmp_path_factory.mktemp("home")), "LANG": "C.UTF-8"}
    running = {
        key: subprocess.Popen(
            ["jekyll", "build", "--quiet", "-s", str(root / "site"), "-d", str(root / "_site")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        for key, root in roots.items()
    }
    failed = []
    for key, proc in running.items():
        out, _ = proc.communicate(timeout=300)
        if proc.returncode != 0:
            failed.append(f"{key}: {out.decode(errors='replace')}")
    assert failed == []
    return roots


def _entries(feed: Path) -> dict[str, tuple[str, datetime, datetime]]:
    """Title (as text) → (link, published, updated) of every entry of an Atom feed."""
    root = etree.parse(str(feed)).getroot()
    out = {}
    for entry in root.iter(ATOM + "entry"):
        title = entry.find(ATOM + "title")
        assert title is not None
        text = title.text or ""
        if title.get("type") == "html":
            text = html.unescape(text)
        link = next(
            e.get("href")
            for e in entry.iter(ATOM + "link")
            if e.get("rel", "alternate") == "alternate"
        )
        published = datetime.fromisoformat(entry.findtext(ATOM + "published") or "")
        updated = datetime.fromisoformat(entry.findtext(ATOM + "updated") or "")
        out[text] = (link, published, updated)
    return out


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("zone", ZONES)
def test_every_link_and_instant_is_jekylls(sites, zone: str, style: str):
    root = sites[(zone, style)]
    report = build(load_config(root / "config.yaml"), now=datetime.now(UTC))
    assert report.errors == ()
    theirs = _entries(root / "_site" / "feed.xml")
    ours = _entries(root / "out" / "atom.xml")
    assert len(theirs) == len(POSTS)
    assert sorted(ours) == sorted(theirs)
    differ = [
        f"{title}: ours {ours[title]}, Jekyll's {theirs[title]}"
        for title in sorted(theirs)
        if ours[title] != theirs[title]  # links equal, instants equal (aware datetimes)
    ]
    assert differ == []


def test_the_comparison_sees_the_rules_it_is_about(sites):
    """The sites do hold what the comparison is for: an offset west of Shanghai and a naive
    timestamp after 16:00 UTC that move to the next day's URL there, and DST in both."""
    shanghai = _entries(sites[("Asia/Shanghai", "date")] / "_site" / "feed.xml")
    assert shanghai["new-york"][0] == "https://j.example/haiwai/2024/04/02/new-york.html"
    assert shanghai["naive-late"][0] == "https://j.example/2024/04/06/naive-late.html"
    assert shanghai["text-no-seconds"][0] == "https://j.example/2024/04/05/text-no-seconds.html"
    assert shanghai["summer-timestamp"][1].utcoffset().total_seconds() == 9 * 3600
    new_york = _entries(sites[("America/New_York", "hms")] / "_site" / "feed.xml")
    assert new_york["fall-repeated"][1].isoformat() == "2024-11-03T01:30:00-05:00"
    assert new_york["Fish & Chips"][0].startswith("https://j.example/2024/04/03/000000/")


# -- every way of writing a date, read by Jekyll's own functions --------------------------------
#: Jekyll's own reading of a front-matter date: its YAML loader, then its parse_date (as
#: Document#merge_date! calls them), in the zone given as the first argument.
_RUBY_READ = """
require "jekyll"
ENV["TZ"] = ARGV[0]
STDIN.each_line do |line|
  v = line.chomp
  timestamp = Psych::ScalarScanner::TIME.match?(v) ? "T" : "-"
  begin
    d = Jekyll::Utils.safe_load_yaml("date: #{v}\\n")["date"]
  rescue Psych::Exception
    puts "#{timestamp}\\tYAML\\tFAIL"
    next
  end
  begin
    t = Jekyll::Utils.parse_date(d.to_s)
    puts "#{timestamp}\\t#{d.class}\\t#{t.to_i}\\t#{t.strftime("%Y-%m-%d %H:%M:%S %z")}"
  rescue Jekyll::Errors::InvalidDateError
    puts "#{timestamp}\\t#{d.class}\\tFAIL"
  end
end
"""
DAYS = ["2024-04-05", "2024-4-5", "2024-12-31", "2022-02-29", "2022-02-30", "2022-04-31"]
DAYS += ["2024-02-29", "2024-13-01", "2024-04-00", "1988-06-01", "1988-04-17", "1988-09-11"]
DAYS += ["2024-03-10", "2024-11-03", "2021-01-01"]
TIMES = ["", "10:00", "23:30", "9:05", "10:00:00", "23:30:00", "3:30:00", "02:30", "01:30"]
TIMES += ["01:30:00", "02:30:00", "24:00:00", "23:59:60", "23:60:00", "25:00:00", "16:00:00"]
TIMES += ["10:00:00.5", "10:00:00.123456789", "15:59:59"]
SEPARATORS = [" ", "T", "t", "  "]
OFFSETS = ["", "Z", " Z", "z", " +0800", "+08:00", " -0500", " -05:00", " +8", " +800", " +08"]
OFFSETS += [" -00:30", " -0030", " +05:30", " +0545", " +2400", " +2359", " UTC", " GMT"]
OFFSETS += [" CST", " utc", " -030", " +8:30", " -05"]


def _date_values(count: int, seed: int) -> list[str]:
    """Date values of every shape (plain, double- and single-quoted), reproducibly."""
    rng = random.Random(seed)
    values = []
    for _ in range(count):
        time = rng.choice(TIMES)
        text = rng.choice(DAYS) + (rng.choice(SEPARATORS) + time if time else "")
        text += rng.choice(OFFSETS) if time or rng.random() < 0.2 else ""
        quote = rng.choice(['"', "'", "", "", ""])
        values.append(f"{quote}{text}{quote}")
    return values


@pytest.mark.parametrize("zone", ZONES)
def test_every_date_value_reads_as_jekyll_reads_it(zone: str):
    """1,500 date values through Jekyll's YAML loader and parse_date and through
    feedwright's: the same timestamps (Psych's rule, in the fast path and PyYAML alike),
    the same instants and the same wall time in the site's zone; what Jekyll stops on,
    feedwright rejects. feedwright also rejects (on purpose) a day the month does not have,
    hour 24 and second 60, which Ruby rolls over."""
    missing = _jekyll_missing()
    if missing is not None:
        if IN_CI:
            pytest.fail(f"CI must compare with real Jekyll: {missing}")
        pytest.skip(missing)
    values = _date_values(1500, seed=17)
    done = subprocess.run(
        ["ruby", "-e", _RUBY_READ, zone],
        input="\n".join(values) + "\n",
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answers = done.stdout.splitlines()
    assert len(answers) == len(values)
    wrong = []
    for value, answer in zip(values, answers, strict=True):
        psych_time, kind, *read = answer.split("\t")
        raw = f"date: {value}\n"
        for meta in (load_simple(raw), yaml.load(raw, Loader=_Loader)):
            if meta is None:
                continue
            mine = meta["date"]
            if isinstance(mine, Timestamp) != (psych_time == "T" and value[0] not in "'\""):
                wrong.append(f"{value!r}: timestamp {isinstance(mine, Timestamp)}, Psych {kind}")
            try:
                when = in_zone(read_date(mine, zone).when, zone)
            except DateError as e:
                if read != ["FAIL"] and "is not a real date" not in str(e):
                    wrong.append(f"{value!r}: rejected ({e}); Jekyll: {read}")
                continue
            ours = [str(int(when.timestamp())), when.strftime("%Y-%m-%d %H:%M:%S %z")]
            if read != ours:
                wrong.append(f"{value!r}: {ours}; Jekyll: {read}")
    assert wrong == [], "\n".join(wrong)
