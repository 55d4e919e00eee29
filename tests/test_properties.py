"""Invariants over generated sites: determinism, and what survives render → feedparser."""

from __future__ import annotations

import calendar
import email.utils
import html
import json
import re
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytz
import yaml
from conftest import ATOM, Site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedwright.posts import titleize
from feedwright.render import looks_like_markup

SETTINGS = {
    "site": {
        "title": "测试站",
        "url": "https://news.example",
        "author": {"name": "编辑部", "email": "ed@news.example"},
        "timezone": "Asia/Shanghai",
    },
    "source": "site",
    "output": "out",
}
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# feedparser reads C1 controls as windows-1252 and "repairs" what looks like UTF-8 read
# as Latin-1 ("Â¡" → "¡"): titles with U+0080–U+00FF are checked in the raw XML only.
FEEDPARSER_QUIRKS = re.compile("[\x80-\xff]")
ASCII_SPACE = re.compile(r"[ \t\n\v\f\r]+")
FAST = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Text a YAML file can carry: anything but lone surrogates.
titles = st.text(
    st.characters(blacklist_categories=("Cs",))
    | st.sampled_from(list("株洲日报新闻<>&\"' \t\u3000\x00\x0b\x1b\ufffe")),
    max_size=40,
)
# Not -00:15 … -00:45: Psych (and so Jekyll) drops the sign of a timestamp's offset whose
# hours are -00 (pinned in test_dates.py and test_jekyll.py), so they are not round trips.
offsets = (
    st.integers(-12 * 4, 14 * 4)
    .filter(lambda q: not -4 < q < 0)
    .map(lambda q: timezone(timedelta(minutes=15 * q)))
)
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2026, 10, 30)),
    offsets,
).map(lambda d: d.replace(microsecond=0))
own_ids = st.none() | st.text("abcXYZ0189-._~:", min_size=1, max_size=12).map(
    lambda s: f"urn:x-feedwright:{s}"
)


@st.composite
def posts(draw: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 5))):
        out.append(
            {
                "slug": f"p{i}",
                "title": draw(titles),
                "date": draw(instants),
                "id": draw(own_ids),
                "tags": draw(st.lists(st.sampled_from(["株洲", "R&D", "民生 新闻"]), max_size=2)),
                "categories": draw(st.sampled_from([[], ["zhuzhouribao"], ["衡阳日报"]])),
            }
        )
    return out


def offset_text(d: datetime) -> str:
    minutes = int(d.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar: CJK raw, what YAML cannot hold raw escaped.

    (``yaml.safe_dump`` writes U+0085 raw in single quotes, which loads back as a space.)
    """

    def escape(ch: str) -> str:
        if ch in '"\\':
            return "\\" + ch
        if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029\ufeff\ufffe\uffff":
            return f"\\u{ord(ch):04x}"
        return ch

    return '"' + "".join(map(escape, text)) + '"'


def make(root: Path, items: list[dict[str, Any]]) -> Site:
    site = Site(root, SETTINGS)
    for i, item in enumerate(items):
        d = item["date"]
        fm: dict[str, Any] = {
            # alternate the two offset spellings the archive uses
            "date": d.strftime("%Y-%m-%d %H:%M:%S ")
            + (offset_text(d) if i % 2 else d.isoformat()[-6:]),
            "tags": item["tags"],
            "categories": item["categories"],
        }
        if item["id"]:
            fm["id"] = f"{item['id']}-{i}"
        text = f"title: {yaml_quoted(item['title'])}\n"
        text += yaml.safe_dump(fm, allow_unicode=True, sort_keys=False, width=1 << 20)
        site.post(f"{d:%Y-%m-%d}-{item['slug']}.md", text, body="正文 <b>&amp;</b>")
    return site


def as_text(title: Any) -> str:
    """A title element's text as a reader shows it (HTML when it is marked so, or when
    feedwright wrote it as such in RSS: escaped in character data)."""
    text = title.text or ""
    return html.unescape(text) if title.get("type") == "html" or "&#x" in text else text


def feed_files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and ".feedwright" not in p.relative_to(out).parts
    }


def expected_title(item: dict[str, Any]) -> str:
    """The title as the site shows it (character references decoded, as a browser does),
    then jekyll-feed's normalize_whitespace, after removing what XML cannot carry."""
    text = ASCII_SPACE.sub(" ", ILLEGAL.sub("", html.unescape(item["title"]))).strip(" ")
    return text or titleize(item["slug"])


@FAST
@given(items=posts())
def test_the_same_input_gives_the_same_bytes(items):
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        first, second = make(Path(a), items), make(Path(b), items)
        first.build()
        second.build()
        files = feed_files(first.out)
        assert "atom.xml" in files and "feeds.opml" in files
        assert feed_files(second.out) == files
        assert first.build().written == ()


@FAST
@given(items=posts())
def test_ids_titles_and_instants_survive_render_and_parse(items):
    with tempfile.TemporaryDirectory() as tmp:
        site = make(Path(tmp), items)
        report = site.build()
        assert report.errors == ()
        atom = {e.link: e for e in site.feed("atom.xml").entries}
        rss = {e.link: e for e in site.feed("rss.xml").entries}
        root = etree.fromstring(site.read("atom.xml"))
        atom_titles = {
            e.find(ATOM + "link").get("href"): as_text(e.find(ATOM + "title"))
            for e in root.iter(ATOM + "entry")
        }
        rss_titles = {
            i.findtext("link"): as_text(i.find("title"))
            for i in etree.fromstring(site.read("rss.xml")).iter("item")
        }
        items_json = {i["url"]: i for i in json.loads(site.read("feed.json"))["items"]}
        assert len(atom) == len(rss) == len(items_json) == len(items)
        for i, item in enumerate(items):
            d = item["date"]
            (url,) = [u for u in items_json if u.endswith(f"/{item['slug']}.html")]
            entry, rss_item, json_item = atom[url], rss[url], items_json[url]
            want_id = f"{item['id']}-{i}" if item["id"] else url
            assert entry.id == rss_item.id == json_item["id"] == want_id
            title = expected_title(item)
            assert json_item["title"] == title
            assert atom_titles[url] == title
            assert rss_titles[url] == title
            if not FEEDPARSER_QUIRKS.search(title) and not looks_like_markup(title):
                assert entry.title == title.strip()  # feedparser strips Unicode white space
            assert json_item["date_published"] == d.isoformat()
            assert entry.published == d.isoformat()
            assert calendar.timegm(entry.published_parsed) == int(d.timestamp())
            pub = email.utils.parsedate_to_datetime(rss_item.published)
            assert (pub, pub.utcoffset()) == (d, d.utcoffset())
            # the permalink's date parts are the site zone's (Jekyll's Time#localtime)
            local = d.astimezone(pytz.timezone("Asia/Shanghai"))
            assert f"/{local:%Y/%m/%d}/{item['slug']}.html" in url
