"""Dates as Jekyll reads them: offsets kept; a YAML timestamp without one (seconds
included) is UTC; text and a date alone are wall time in the site's zone (DST-correct); and
what each feed format says.

Every build here runs under several process time zones (``process_tz``): the output
must not depend on ``TZ``.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta, timezone

import pytest
from conftest import ATOM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

NAME = "2022-03-07-post.md"


def post_with_date(site, value: str, *, name: str = NAME, extra: str = "") -> None:
    site.post(name, f"title: 日期\ndate: {value}\n{extra}")


def atom_text(site, tag: str, relpath: str = "atom.xml") -> list[str]:
    root = etree.fromstring(site.read(relpath))
    return [e.findtext(ATOM + tag) for e in root.findall(ATOM + "entry")]


def rss_text(site, tag: str, relpath: str = "rss.xml") -> list[str]:
    root = etree.fromstring(site.read(relpath))
    return [item.findtext(tag) for item in root.iter("item")]


def instants(site) -> dict[str, int]:
    """The entry's instant (UTC seconds) as feedparser reads each format."""
    atom = site.feed("atom.xml").entries[0]
    rss = site.feed("rss.xml").entries[0]
    item = site.feed("feed.json")["items"][0]
    return {
        "atom": calendar.timegm(atom.published_parsed),
        "rss": calendar.timegm(rss.published_parsed),
        "json": int(datetime.fromisoformat(item["date_published"]).timestamp()),
    }


def check(site, atom: str, rss: str) -> None:
    """Atom and JSON say ``atom`` (RFC 3339, the post's offset); RSS says ``rss`` (RFC 822)."""
    assert atom_text(site, "published") == [atom]
    assert atom_text(site, "updated") == [atom]
    assert rss_text(site, "pubDate") == [rss]
    item = site.feed("feed.json")["items"][0]
    assert (item["date_published"], item["date_modified"]) == (atom, atom)
    expected = int(datetime.fromisoformat(atom).timestamp())
    assert instants(site) == {"atom": expected, "rss": expected, "json": expected}


# value in the front matter → (Atom/JSON, RSS), with the site in Asia/Shanghai
FORMS = {
    "+0800": ("2022-03-07 08:30:46 +0800", "2022-03-07T08:30:46+08:00"),
    "+08:00": ("2022-03-07 08:30:46 +08:00", "2022-03-07T08:30:46+08:00"),
    "T+08:00": ("2022-03-07T08:30:46+08:00", "2022-03-07T08:30:46+08:00"),
    "space-Z": ("2022-03-07 08:30:46 Z", "2022-03-07T08:30:46+00:00"),
    "T-Z": ("2022-03-07T08:30:46Z", "2022-03-07T08:30:46+00:00"),
    "-0500": ("2022-03-07 08:30:46 -0500", "2022-03-07T08:30:46-05:00"),
    "+08": ("2022-03-07 08:30:46 +08", "2022-03-07T08:30:46+08:00"),
    "+0545": ("2022-03-07 08:30:46 +0545", "2022-03-07T08:30:46+05:45"),
    "-09:30": ("2022-03-07 08:30:46 -09:30", "2022-03-07T08:30:46-09:30"),
    # A YAML timestamp without an offset is UTC (Psych), shown in the site's zone.
    "naive": ("2022-03-07 08:30:46", "2022-03-07T16:30:46+08:00"),
    "naive-T": ("2022-03-07T08:30:46", "2022-03-07T16:30:46+08:00"),
    "naive-late": ("2022-03-07 23:30:00", "2022-03-08T07:30:00+08:00"),
    "no-seconds": ("2022-03-07 08:30", "2022-03-07T08:30:00+08:00"),
    "no-seconds-T": ("2022-03-07T08:30", "2022-03-07T08:30:00+08:00"),
    "date-only": ("2022-03-07", "2022-03-07T00:00:00+08:00"),
    "unpadded": ("2022-3-7 8:30:46", "2022-03-07T16:30:46+08:00"),
    # Jekyll shows and links whole seconds.
    "fraction": ("2022-03-07 08:30:46.5 +0800", "2022-03-07T08:30:46+08:00"),
    "nanoseconds": ("2022-03-07T08:30:46.123456789Z", "2022-03-07T08:30:46+00:00"),
    "quoted-fraction": ('"2022-03-07 08:30:46.9"', "2022-03-07T08:30:46+08:00"),
    "quoted": ('"2022-03-07 08:30:46 +0800"', "2022-03-07T08:30:46+08:00"),
    "single-quoted": ("'2022-03-07 08:30:46 +08:00'", "2022-03-07T08:30:46+08:00"),
    "quoted-naive": ('"2022-03-07 08:30:46"', "2022-03-07T08:30:46+08:00"),
    "quoted-date": ('"2022-03-07"', "2022-03-07T00:00:00+08:00"),
    "late-evening-west": ("2022-03-07 23:30:00 -0500", "2022-03-07T23:30:00-05:00"),
    "early-morning-east": ("2022-03-06 00:30:00 +0800", "2022-03-06T00:30:00+08:00"),
}
RSS = {
    "+0800": "Mon, 07 Mar 2022 08:30:46 +0800",
    "+08:00": "Mon, 07 Mar 2022 08:30:46 +0800",
    "T+08:00": "Mon, 07 Mar 2022 08:30:46 +0800",
    "space-Z": "Mon, 07 Mar 2022 08:30:46 +0000",
    "T-Z": "Mon, 07 Mar 2022 08:30:46 +0000",
    "-0500": "Mon, 07 Mar 2022 08:30:46 -0500",
    "+08": "Mon, 07 Mar 2022 08:30:46 +0800",
    "+0545": "Mon, 07 Mar 2022 08:30:46 +0545",
    "-09:30": "Mon, 07 Mar 2022 08:30:46 -0930",
    "naive": "Mon, 07 Mar 2022 16:30:46 +0800",
    "naive-T": "Mon, 07 Mar 2022 16:30:46 +0800",
    "naive-late": "Tue, 08 Mar 2022 07:30:00 +0800",
    "no-seconds": "Mon, 07 Mar 2022 08:30:00 +0800",
    "no-seconds-T": "Mon, 07 Mar 2022 08:30:00 +0800",
    "date-only": "Mon, 07 Mar 2022 00:00:00 +0800",
    "unpadded": "Mon, 07 Mar 2022 16:30:46 +0800",
    "fraction": "Mon, 07 Mar 2022 08:30:46 +0800",
    "nanoseconds": "Mon, 07 Mar 2022 08:30:46 +0000",
    "quoted-fraction": "Mon, 07 Mar 2022 08:30:46 +0800",
    "quoted": "Mon, 07 Mar 2022 08:30:46 +0800",
    "single-quoted": "Mon, 07 Mar 2022 08:30:46 +0800",
    "quoted-naive": "Mon, 07 Mar 2022 08:30:46 +0800",
    "quoted-date": "Mon, 07 Mar 2022 00:00:00 +0800",
    "late-evening-west": "Mon, 07 Mar 2022 23:30:00 -0500",  # Tuesday in UTC
    "early-morning-east": "Sun, 06 Mar 2022 00:30:00 +0800",  # Saturday in UTC
}


@pytest.mark.parametrize("form", FORMS, ids=list(FORMS))
def test_every_date_form_keeps_instant_and_offset(make_site, process_tz, form):
    value, atom = FORMS[form]
    site = make_site()
    post_with_date(site, value)
    report = site.build()
    assert report.errors == ()
    check(site, atom, RSS[form])


@pytest.mark.parametrize(
    "tz, value, atom, rss",
    [
        # Shanghai kept DST 1986–1991: +09:00 then, and never the +08:06 LMT of pytz replace()
        (
            "Asia/Shanghai",
            "'1988-06-01 12:00:00'",
            "1988-06-01T12:00:00+09:00",
            "Wed, 01 Jun 1988 12:00:00 +0900",
        ),
        (
            "Asia/Shanghai",
            "1988-06-01",
            "1988-06-01T00:00:00+09:00",
            "Wed, 01 Jun 1988 00:00:00 +0900",
        ),
        (
            "Asia/Shanghai",
            "1988-12-01 12:00",
            "1988-12-01T12:00:00+08:00",
            "Thu, 01 Dec 1988 12:00:00 +0800",
        ),
        (
            "Asia/Shanghai",
            '"1910-01-01 12:00:00"',
            "1910-01-01T12:00:00+08:00",
            "Sat, 01 Jan 1910 12:00:00 +0800",
        ),
        # The skipped hour moves forward; the repeated hour is its second occurrence (the
        # later reading, as Ruby's Time.local takes it: what Jekyll shows and links)
        (
            "America/New_York",
            '"2022-03-13 02:30:00"',
            "2022-03-13T03:30:00-04:00",
            "Sun, 13 Mar 2022 03:30:00 -0400",
        ),
        (
            "America/New_York",
            "2022-11-06 01:30",
            "2022-11-06T01:30:00-05:00",
            "Sun, 06 Nov 2022 01:30:00 -0500",
        ),
        (
            "America/New_York",
            "'2022-11-06 00:59:59'",
            "2022-11-06T00:59:59-04:00",
            "Sun, 06 Nov 2022 00:59:59 -0400",
        ),
        (
            "America/New_York",
            '"2022-11-06 02:30:00"',
            "2022-11-06T02:30:00-05:00",
            "Sun, 06 Nov 2022 02:30:00 -0500",
        ),
        (
            "America/New_York",
            "2022-01-15 12:00",
            "2022-01-15T12:00:00-05:00",
            "Sat, 15 Jan 2022 12:00:00 -0500",
        ),
        (
            "America/New_York",
            "2022-07-04",
            "2022-07-04T00:00:00-04:00",
            "Mon, 04 Jul 2022 00:00:00 -0400",
        ),
        (
            "UTC",
            "2022-03-07 08:30:46",
            "2022-03-07T08:30:46+00:00",
            "Mon, 07 Mar 2022 08:30:46 +0000",
        ),
        (
            "Europe/Helsinki",
            "2022-03-27 03:30",
            "2022-03-27T04:30:00+03:00",
            "Sun, 27 Mar 2022 04:30:00 +0300",
        ),
        (
            "Australia/Lord_Howe",  # a 30-minute DST: the repeated half hour, the later one
            "2024-04-07 01:45",
            "2024-04-07T01:45:00+10:30",
            "Sun, 07 Apr 2024 01:45:00 +1030",
        ),
    ],
)
def test_text_dates_are_wall_time_in_the_site_zone_with_dst(
    make_site, process_tz, tz, value, atom, rss
):
    site = make_site(site={"timezone": tz})
    post_with_date(site, value, name="2022-01-01-post.md")
    assert site.build().errors == ()
    check(site, atom, rss)


@pytest.mark.parametrize(
    "tz, value, atom",
    [
        # A YAML timestamp without an offset is UTC, shown in the site's zone: the same
        # wall-clock text lands on another day (and another URL) east and west of UTC.
        ("Asia/Shanghai", "2024-04-05 23:30:00", "2024-04-06T07:30:00+08:00"),
        ("Asia/Shanghai", "2024-04-05 15:59:59", "2024-04-05T23:59:59+08:00"),
        ("Asia/Shanghai", "1988-06-01 12:00:00", "1988-06-01T21:00:00+09:00"),
        ("America/New_York", "2024-04-05 02:00:00", "2024-04-04T22:00:00-04:00"),
        ("America/New_York", "2024-11-03 05:30:00", "2024-11-03T01:30:00-04:00"),
        ("America/New_York", "2024-11-03 06:30:00", "2024-11-03T01:30:00-05:00"),
        ("America/New_York", "2024-03-10 07:30:00", "2024-03-10T03:30:00-04:00"),
    ],
)
def test_yaml_timestamps_without_an_offset_are_utc(make_site, process_tz, tz, value, atom):
    site = make_site(site={"timezone": tz})
    post_with_date(site, value, name="2022-01-01-post.md")
    assert site.build().errors == ()
    assert atom_text(site, "published") == [atom]
    assert site.feed("feed.json")["items"][0]["date_published"] == atom


@pytest.mark.parametrize(
    "value, atom, tz",
    [
        # Psych's own arithmetic (Jekyll's YAML): the sign of -00 is lost, "+800" is 80 hours
        # (given up on: the text is then parsed, and Time.parse ignores "+800").
        ("2024-04-05 23:30:00 -00:30", "2024-04-05T23:30:00+00:30", "UTC"),
        ("'2024-04-05 23:30:00 -00:30'", "2024-04-05T23:30:00-00:30", "UTC"),
        ("2024-04-05 23:30:00 +800", "2024-04-05T23:30:00-04:00", "America/New_York"),
        ("2024-04-05 23:30:00 +8", "2024-04-05T23:30:00+08:00", "America/New_York"),
        ("'2024-04-05 23:30:00 +8'", "2024-04-05T23:30:00-04:00", "America/New_York"),
        ("2024-04-05 23:30:00 -030", "2024-04-05T23:30:00-03:00", "UTC"),
        ("'2024-04-05 23:30 CST'", "2024-04-05T23:30:00-06:00", "Asia/Shanghai"),
        ("'2024-04-05 23:30 utc'", "2024-04-05T23:30:00+00:00", "Asia/Shanghai"),
    ],
)
def test_odd_offsets_are_read_as_jekyll_reads_them(make_site, value, atom, tz):
    site = make_site(site={"timezone": tz})
    post_with_date(site, value, name="2022-01-01-post.md")
    assert site.build().errors == ()
    assert atom_text(site, "published") == [atom]


@pytest.mark.parametrize(
    "tz, name, atom",
    [
        ("Asia/Shanghai", "2022-03-07-no-date.md", "2022-03-07T00:00:00+08:00"),
        ("America/New_York", "2022-07-04-no-date.md", "2022-07-04T00:00:00-04:00"),
        ("America/New_York", "2022-12-25-no-date.html", "2022-12-25T00:00:00-05:00"),
        ("UTC", "2022-3-7-no-date.md", "2022-03-07T00:00:00+00:00"),
    ],
)
def test_no_date_uses_the_file_name_at_midnight(make_site, process_tz, tz, name, atom):
    site = make_site(site={"timezone": tz})
    site.post(name, {"title": "无日期"})
    assert site.build().errors == ()
    assert atom_text(site, "published") == [atom]
    assert site.feed("feed.json")["items"][0]["date_published"] == atom


def test_updated_is_read_like_date(make_site, process_tz):
    site = make_site()
    post_with_date(site, "2022-03-07 08:30:46 +0800", extra="updated: 2022-03-08 09:00\n")
    site.post("2022-03-01-b.md", "date: 2022-03-01\nlast_modified_at: 2022-03-02 10:00 -0500\n")
    assert site.build().errors == ()
    assert atom_text(site, "updated") == ["2022-03-08T09:00:00+08:00", "2022-03-02T10:00:00-05:00"]
    assert atom_text(site, "published") == [
        "2022-03-07T08:30:46+08:00",
        "2022-03-01T00:00:00+08:00",
    ]
    items = site.feed("feed.json")["items"]
    assert [i["date_modified"] for i in items] == [
        "2022-03-08T09:00:00+08:00",
        "2022-03-02T10:00:00-05:00",
    ]
    root = etree.fromstring(site.read("atom.xml"))
    assert root.findtext(ATOM + "updated") == "2022-03-08T09:00:00+08:00"


@pytest.mark.parametrize(
    "key, value, message",
    [
        (
            "date",
            "yesterday",
            "cannot read 'yesterday' as a date (expected e.g. 2022-03-07 08:30:46 +0800)",
        ),
        (
            "date",
            "2022-02-30 10:00:00",
            "'2022-02-30 10:00:00' is not a real date: day is out of range for month",
        ),
        (
            "date",
            "2022-03-07 25:00:00",
            "'2022-03-07 25:00:00' is not a real date: hour must be in 0..23",
        ),
        ("date", "2022-13-01", "'2022-13-01' is not a real date: month must be in 1..12"),
        ("date", "2022-03-07 08:30:46 +2500", "offset '+2500' is out of range"),
        (
            "date",
            "2022-03-07 23:30:61",
            "'2022-03-07 23:30:61' is not a real date: second must be in 0..59",
        ),
        (
            "date",
            "2022-03-07 23:60",
            "'2022-03-07 23:60' is not a real date: minute must be in 0..59",
        ),
        (
            "date",
            "2022-03-07 24:00:00",
            "'2022-03-07 24:00:00' is not a real date: hour must be in 0..23",
        ),
        (
            "date",
            "'2022-03-07 08:30 HKT'",
            "cannot read '2022-03-07 08:30 HKT' as a date "
            "(expected e.g. 2022-03-07 08:30:46 +0800)",
        ),
        ("date", "[2022, 3, 7]", "expected a date such as 2022-03-07 08:30:46 +0800, got a list"),
        ("date", "{y: 2022}", "expected a date such as 2022-03-07 08:30:46 +0800, got a mapping"),
        ("date", "20220307", "expected a date such as 2022-03-07 08:30:46 +0800, got 20220307"),
        ("date", "true", "expected a date such as 2022-03-07 08:30:46 +0800, got True"),
        (
            "updated",
            "soon",
            "cannot read 'soon' as a date (expected e.g. 2022-03-07 08:30:46 +0800)",
        ),
    ],
)
def test_unreadable_date_names_the_keys_line(make_site, key, value, message):
    site = make_site()
    site.post("2022-03-01-good.md", {"title": "好", "date": "2022-03-01 10:00:00 +0800"})
    site.post("2022-03-07-bad.md", f"title: 坏\n\n# comment\ntags: a\n{key}: {value}\n")
    report = site.build()
    assert report.errors == (f"_posts/2022-03-07-bad.md:6: {key}: {message}",)
    assert [e.title for e in site.feed("atom.xml").entries] == ["好"]


FUTURE_POSTS = {
    "2026-11-26-now.md": "date: 2026-11-26 08:00:00 +0800\n",  # exactly NOW: published
    "2026-11-26-later.md": "date: 2026-11-26 08:00:01 +0800\n",
    "2026-11-25-naive.md": "date: 2026-11-26 08:00:01\n",  # a timestamp: UTC, 8 h after NOW
    "2026-11-25-wall.md": "date: '2026-11-26 08:00:01'\n",  # Shanghai wall time, NOW + 1 s
    "2027-01-01-next-year.md": "",
    "2027-02-01-flagged.md": "future: true\n",
}


@pytest.mark.parametrize(
    "config_future, expected",
    [
        (False, ["Flagged", "Now"]),
        (True, ["Flagged", "Next Year", "Naive", "Later", "Wall", "Now"]),  # ties: by URL
    ],
)
def test_future_posts_are_left_out_unless_future(make_site, process_tz, config_future, expected):
    site = make_site(future=config_future)
    for name, front in FUTURE_POSTS.items():
        site.post(name, front)
    report = site.build()
    assert report.errors == ()
    assert report.posts == len(expected)
    assert [e.title for e in site.feed("atom.xml").entries] == expected


# --- round trip: any instant, any offset, through Atom and RSS --------------------------

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timedelta(minutes=m))
MOMENTS = st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2199, 12, 31))


def _offset_text(offset: timedelta, colon: bool) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(abs(minutes), 60)
    return f"{sign}{h:02d}{':' if colon else ''}{m:02d}"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moment=MOMENTS, offset=OFFSETS, colon=st.booleans(), sep=st.sampled_from([" ", "T"]))
def test_any_instant_survives_atom_and_rss(make_site, process_tz, moment, offset, colon, sep):
    moment = moment.replace(microsecond=0)
    written = moment.replace(tzinfo=timezone(offset))
    site = make_site(future=True)
    text = f"{moment:%Y-%m-%d}{sep}{moment:%H:%M:%S} {_offset_text(offset, colon)}"
    site.post("2000-01-01-round-trip.md", f"title: 往返\ndate: '{text}'\n")
    assert site.build().errors == ()
    expected = calendar.timegm(written.astimezone(UTC).timetuple())
    assert instants(site) == {"atom": expected, "rss": expected, "json": expected}
    published = datetime.fromisoformat(atom_text(site, "published")[0])
    assert published == written and published.utcoffset() == offset


# --- no time zone configured anywhere ---------------------------------------------------


def _cli(*args: str):
    from click.testing import CliRunner

    from feedwright.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_naive_dates_with_no_zone_set_are_utc_with_one_warning_naming_the_setting(make_site):
    site = make_site()
    del site.settings["site"]["timezone"]
    site.save()
    post_with_date(site, "2024-05-06 10:00:00", name="2024-05-06-a.md")
    post_with_date(site, "2024-05-07", name="2024-05-07-b.md")
    site.post("2024-05-08-c.md", "title: 无日期\n")  # the file name's date: midnight
    post_with_date(site, "2024-05-09 10:00:00 +0800", name="2024-05-09-d.md")
    for command in ("build", "check", "build"):  # the no-op rebuild says it again, once
        result = _cli(command, "--config", str(site.config_path))
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        assert warnings == [
            "warning: dates without a UTC offset are read as UTC because no time zone is set: "
            "set site.timezone in config.yaml (or timezone in _config.yml), e.g. Asia/Shanghai"
        ]
    assert sorted(atom_text(site, "published")) == [
        "2024-05-06T10:00:00+00:00",
        "2024-05-07T00:00:00+00:00",
        "2024-05-08T00:00:00+00:00",
        "2024-05-09T10:00:00+08:00",
    ]


@pytest.mark.parametrize("zone", [None, "UTC"], ids=["offsets-only", "utc-set"])
def test_no_warning_when_every_date_has_an_offset_or_a_zone_is_set(make_site, zone):
    site = make_site()
    if zone is None:
        del site.settings["site"]["timezone"]
        post_with_date(site, "2024-05-09 10:00:00 +0800")
        front = "title: u\ndate: 2024-05-10T01:00:00Z\nupdated: 2024-05-11 00:00 Z\n"
        site.post("2024-05-10-u.md", front)
    else:
        site.settings["site"]["timezone"] = zone
        post_with_date(site, "2024-05-06 10:00:00")
    site.save()
    result = _cli("build", "--config", str(site.config_path))
    assert (result.exit_code, result.stderr) == (0, "")


def test_naive_timestamps_get_one_counted_line_from_build_and_check(make_site):
    """Each post with a YAML timestamp without an offset is read as UTC, as Jekyll reads it:
    one line says how many there are and what to write instead, in build (cached or not)
    and check alike; text and a date alone draw nothing."""
    site = make_site()
    post_with_date(site, "2024-05-06 23:30:00", name="2024-05-06-a.md")
    post_with_date(site, "2024-05-07T01:00:00", name="2024-05-07-b.md")
    site.post(
        "2024-05-08-c.md", "title: c\ndate: 2024-05-08 10:00 +0800\nupdated: 2024-05-09 10:00:00\n"
    )
    post_with_date(site, "'2024-05-09 10:00:00'", name="2024-05-09-d.md")
    post_with_date(site, "2024-05-10 10:00", name="2024-05-10-e.md")
    post_with_date(site, "2024-05-11", name="2024-05-11-f.md")
    expected = [
        "warning: 3 posts with a date and time but no UTC offset (a YAML timestamp, such as "
        "2024-04-05 23:30:00): read as UTC, as Jekyll reads them, so shown and linked as "
        "2024-04-06 07:30 +0800 in Asia/Shanghai; to mean Asia/Shanghai time, write the "
        "offset (2024-04-05 23:30:00 +0800)"
    ]
    for command in ("build", "check", "build", "build --full"):
        result = _cli(*command.split(), "--config", str(site.config_path))
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        assert warnings == expected, command
    published = dict(zip(atom_text(site, "id"), atom_text(site, "published"), strict=True))
    assert published["https://news.example/2024/05/07/a.html"] == "2024-05-07T07:30:00+08:00"


def test_a_zone_with_summer_time_names_both_offsets(make_site):
    site = make_site(site={"timezone": "America/New_York"})
    post_with_date(site, "2024-05-06 23:30:00")
    result = _cli("build", "--config", str(site.config_path))
    assert result.exit_code == 0, result.output
    assert "warning: 1 post with a date and time but no UTC offset" in result.stderr
    assert "(2024-04-05 23:30:00 -0500, or -0400 in summer time)" in result.stderr


def test_an_offset_jekyll_ignores_in_text_is_named(make_site):
    site = make_site()
    site.post("2024-05-06-a.md", "title: a\n\ndate: '2024-05-06 10:00:00 +8'\n")
    report = site.build()
    assert report.errors == ()
    assert report.distinct_warnings == (
        "_posts/2024-05-06-a.md:4: date: Jekyll does not read '+8' as an offset there, nor "
        "does feedwright: the time is Asia/Shanghai time (write a time of day, then +HH, "
        "+HHMM or +HH:MM)",
    )
    assert atom_text(site, "published") == ["2024-05-06T10:00:00+08:00"]


def test_the_archive_period_is_the_site_zones_month(make_site):
    """2024-03-31 23:30:00 (a timestamp: UTC) is April 1 in Shanghai: April's archive, as
    its permalink says."""
    site = make_site(feeds={"archives": "monthly"})
    post_with_date(site, "2024-03-31 23:30:00", name="2024-03-31-a.md")
    post_with_date(site, "2024-03-31 20:00:00 -0500", name="2024-03-31-b.md")
    post_with_date(site, "'2024-03-31 23:30:00'", name="2024-03-31-c.md")
    assert site.build().errors == ()
    april = atom_text(site, "id", "archive/2024/04/atom.xml")
    march = atom_text(site, "id", "archive/2024/03/atom.xml")
    assert sorted(april) == [
        "https://news.example/2024/04/01/a.html",
        "https://news.example/2024/04/01/b.html",
    ]
    assert march == ["https://news.example/2024/03/31/c.html"]


ZONES = [
    "Asia/Shanghai",
    "America/New_York",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Apia",
    "Africa/Casablanca",
    "UTC",
    "EST",
    "Etc/GMT-14",
]


@settings(max_examples=400, deadline=None)
@given(
    seconds=st.integers(min_value=-(2**34), max_value=2**34),
    offset_min=st.integers(min_value=-23 * 60, max_value=23 * 60),
    name=st.sampled_from(ZONES),
)
def test_in_zone_is_pytz_astimezone(seconds: int, offset_min: int, name: str) -> None:
    """:func:`in_zone` looks the offset up itself: the same wall time and offset as the
    pytz-zoned datetime, at any instant (transitions included)."""
    from feedwright.dates import _fix, in_zone, zone

    moment = datetime.fromtimestamp(seconds, timezone(timedelta(minutes=offset_min)))
    got, want = in_zone(moment, name), _fix(moment.astimezone(zone(name)))
    assert got.isoformat() == want.isoformat()
    assert got.utcoffset() == want.utcoffset()


@pytest.mark.parametrize("name", ZONES)
def test_in_zone_at_every_transition(name: str) -> None:
    from feedwright.dates import _fix, in_zone, zone

    tz = zone(name)
    for t in getattr(tz, "_utc_transition_times", [])[1:]:
        for step in (-1, 0, 1):
            moment = (t + timedelta(seconds=step)).replace(tzinfo=UTC)
            assert in_zone(moment, name).isoformat() == _fix(moment.astimezone(tz)).isoformat()
