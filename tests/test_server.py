"""`feedwright serve` for feed readers: a real uvicorn on loopback, spoken to over HTTP."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from conftest import Site, atom_problems
from live import ENV, raw_get, serve_site, sign, uvicorn_server, wait_until
from lxml import etree
from lxml import html as lxml_html

from feedwright.serve.app import create_app
from feedwright.serve.files import media_type, not_modified, resolve, wants_gzip
from feedwright.serve.rebuild import Rebuilder

TAG = "株洲日报新闻"
TAG_PATH = "/feeds/tags/%E6%A0%AA%E6%B4%B2%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB/atom.xml"
TYPES = {
    "/feeds/atom.xml": "application/atom+xml; charset=utf-8",
    "/feeds/rss.xml": "application/rss+xml; charset=utf-8",
    "/feeds/feed.json": "application/feed+json; charset=utf-8",
    "/feeds/feeds.opml": "text/x-opml; charset=utf-8",
}


def seed_site(make_site: Any, **overrides: Any) -> Site:
    site = make_site(**overrides)
    site.post(
        "2022-03-07-NW1.md",
        {
            "title": "切实提高",
            "date": "2022-03-07 08:30:46 +0800",
            "categories": "zhuzhouribao",
            "tags": TAG,
        },
        "<p>　　株洲日报讯 记者 正文第一段。</p>\n" * 20,
    )
    site.post(
        "2022-03-08-NW2.md",
        {"title": "第二篇", "date": "2022-03-08 09:00:00 +0800", "categories": "hunanribao"},
        "<p>湖南日报讯。</p>\n" * 20,
    )
    site.build()
    return site


def parse_served(response: httpx.Response) -> Any:
    """Parse a served feed with a real parser, by its Content-Type; fail on any problem."""
    assert response.status_code == 200, response
    kind = response.headers["content-type"].split(";")[0]
    data = response.content
    if kind == "application/feed+json":
        doc = json.loads(data)
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        return doc
    if kind == "text/x-opml":
        return etree.fromstring(data)
    if kind == "application/atom+xml":
        assert atom_problems(data) == []
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_exact_media_types_and_every_feed_parses(make_site):
    site = seed_site(make_site)
    with serve_site(site.config) as s:
        for path, expected in TYPES.items():
            r = s.get(path)
            assert r.headers["content-type"] == expected
            parse_served(r)
        tag_feed = parse_served(s.get(TAG_PATH))
        assert tag_feed.feed.title == f"测试站 · {TAG}"
        assert [e.title for e in tag_feed.entries] == ["切实提高"]
        assert s.client.post(s.url + "/feeds/atom.xml").status_code == 405


def test_validators_follow_the_bytes_and_answer_304(make_site):
    site = seed_site(make_site)
    with serve_site(site.config) as s:
        first = s.get("/feeds/atom.xml")
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('"') and etag.endswith('"')
        parse_served(first)
        # 304 by ETag, by date, and ETag decides when both are sent.
        by_tag = s.get("/feeds/atom.xml", headers={"If-None-Match": etag})
        assert by_tag.status_code == 304 and by_tag.content == b""
        assert by_tag.headers["etag"] == etag
        assert s.get("/feeds/atom.xml", headers={"If-None-Match": f"W/{etag}"}).status_code == 304
        assert s.get("/feeds/atom.xml", headers={"If-Modified-Since": modified}).status_code == 304
        later = formatdate(parsedate_to_datetime(modified).timestamp() + 60, usegmt=True)
        assert s.get("/feeds/atom.xml", headers={"If-Modified-Since": later}).status_code == 304
        earlier = formatdate(parsedate_to_datetime(modified).timestamp() - 60, usegmt=True)
        assert s.get("/feeds/atom.xml", headers={"If-Modified-Since": earlier}).status_code == 200
        both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
        assert s.get("/feeds/atom.xml", headers=both).status_code == 200
        assert s.get("/feeds/atom.xml", headers={"If-Modified-Since": "garbage"}).status_code == 200

        # A no-op rebuild and a touch keep both validators: only bytes move them.
        site.build()
        path = site.out / "atom.xml"
        os.utime(path, (time.time() + 100, time.time() + 100))
        again = s.get("/feeds/atom.xml")
        assert (again.headers["etag"], again.headers["last-modified"]) == (etag, modified)

        # New bytes: new ETag; the old one gets the new feed.
        site.post("2022-03-09-NW3.md", {"title": "第三篇", "date": "2022-03-09 10:00:00 +0800"})
        site.build()
        changed = s.get("/feeds/atom.xml", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        assert parse_served(changed).entries[0].title == "第三篇"
        new_date = parsedate_to_datetime(changed.headers["last-modified"])
        assert new_date >= parsedate_to_datetime(modified)


def test_head_gzip_and_cache_control(make_site):
    site = seed_site(make_site, server={"max_age": 1234})
    with serve_site(site.config) as s:
        plain = s.get("/feeds/rss.xml", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "public, max-age=1234"
        assert plain.headers["vary"] == "Accept-Encoding"
        head = s.client.head(s.url + "/feeds/rss.xml", headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200 and head.content == b""
        for name in ("content-type", "content-length", "etag", "last-modified", "cache-control"):
            assert head.headers[name] == plain.headers[name]
        assert int(head.headers["content-length"]) == len(plain.content)

        # httpx decodes gzip for us; read the raw bytes off the stream to see them.
        with s.client.stream(
            "GET", s.url + "/feeds/rss.xml", headers={"Accept-Encoding": "gzip"}
        ) as zipped:
            raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert zipped.headers["vary"] == "Accept-Encoding"
        assert zipped.headers["etag"] != plain.headers["etag"]
        assert int(zipped.headers["content-length"]) == len(raw) < len(plain.content)
        assert gzip.decompress(raw) == plain.content
        hz = {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
        assert s.get("/feeds/rss.xml", headers=hz).status_code == 304
        head_gz = s.client.head(s.url + "/feeds/rss.xml", headers={"Accept-Encoding": "gzip"})
        assert head_gz.headers["content-length"] == zipped.headers["content-length"]
        refused = s.get("/feeds/rss.xml", headers={"Accept-Encoding": "gzip;q=0, br"})
        assert "content-encoding" not in refused.headers
        parse_served(s.get("/feeds/rss.xml", headers={"Accept-Encoding": "gzip, deflate"}))


def test_websub_link_headers_match_the_feeds(make_site):
    hubs = ["https://hub.example/", "https://hub2.example/websub"]
    site = seed_site(make_site, websub={"hubs": hubs})
    with serve_site(site.config) as s:
        for path in ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json", TAG_PATH):
            r = s.get(path)
            links = httpx.Headers(r.headers).get("link")
            public = "https://news.example" + path
            assert links == (
                f'<{hubs[0]}>; rel="hub", <{hubs[1]}>; rel="hub", <{public}>; rel="self"'
            )
            feed = parse_served(r)
            if path.endswith(".json"):
                assert feed["feed_url"] == public
                assert [h["url"] for h in feed["hubs"]] == hubs
            else:
                rels = {(link.rel, link.href) for link in feed.feed.links}
                assert ("self", public) in rels
                assert {("hub", h) for h in hubs} <= rels
            assert s.get(path, headers={"If-None-Match": r.headers["etag"]}).headers["link"]
        assert "link" not in s.get("/feeds/feeds.opml").headers
    plain = seed_site(make_site)
    with serve_site(plain.config) as s:
        assert "link" not in s.get("/feeds/atom.xml").headers


ESCAPES = [
    "/feeds/../config.yaml",
    "/feeds/%2e%2e/config.yaml",
    "/feeds/%2E%2E%2Fconfig.yaml",
    "/feeds/..%2fconfig.yaml",
    "/feeds/..%5cconfig.yaml",
    "/feeds/categories/../../config.yaml",
    "/../config.yaml",
    "/%2e%2e/config.yaml",
    "/feeds//etc/passwd",
    "/feeds/%2fetc%2fpasswd",
    "/feeds/leak.xml",
    "/feeds/linked/config.yaml",
    "/feeds/.feedwright/manifest",
    "/feeds/%2efeedwright/manifest",
    "/feeds/hidden.xml",
    "/feeds/.atom.xml.0123456789abcdef.fwtmp",
    "/feeds/%00",
    "/feeds/categories",
    "/feeds/categories/",
    "/feeds/nothing.xml",
    "/config.yaml",
]


def test_no_path_escapes_the_output_folder(make_site):
    site = seed_site(make_site)
    out: Path = site.out
    secret = site.config_path.read_bytes()
    (out / "leak.xml").symlink_to(site.config_path)
    (out / "linked").symlink_to(site.root)
    (out / "hidden.xml").symlink_to(out / ".feedwright" / "manifest")
    (out / ".atom.xml.0123456789abcdef.fwtmp").write_bytes(b"half-written")
    with serve_site(site.config) as s:
        for target in ESCAPES:
            status, body = raw_get(s.url, target)
            assert status in (400, 404), (target, status)
            assert secret not in body and b"half-written" not in body, target
        # A symlink that stays inside the folder is fine.
        (out / "alias.xml").symlink_to(out / "atom.xml")
        assert s.get("/feeds/alias.xml").content == (out / "atom.xml").read_bytes()


def test_index_lists_every_feed_with_autodiscovery(make_site):
    site = seed_site(make_site)
    with serve_site(site.config) as s:
        r = s.get("/")
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        doc = lxml_html.fromstring(r.content)
        alternates = doc.xpath('//head/link[@rel="alternate"]')
        assert [(a.get("type"), a.get("href")) for a in alternates] == [
            ("application/atom+xml", "/feeds/atom.xml"),
            ("application/rss+xml", "/feeds/rss.xml"),
            ("application/feed+json", "/feeds/feed.json"),
        ]
        for a in alternates:
            parse_served(s.get(a.get("href")))
        opml = parse_served(s.get("/feeds/feeds.opml"))
        listed = {o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")}
        rows = doc.xpath("//table//a")
        shown = {a.text_content() for a in rows}  # every format; the OPML: each group once
        assert {u for u in shown if u.endswith("/atom.xml")} == listed
        assert len(rows) == 3 * len(listed) == 3 * (1 + 2 + 1)
        for a in rows:  # every listed link works on this server
            parse_served(s.get(a.get("href")))
        assert f"测试站 · {TAG}" in r.text
        assert s.get("/", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_index_before_any_build_and_other_feeds_url(make_site):
    site = make_site(feeds_url="https://news.example/static/地方/feeds/")
    site.post("2022-03-07-a.md", {"title": "A"})
    with serve_site(site.config) as s:
        assert "No feeds have been built yet" in s.get("/").text
        assert s.get("/static/地方/feeds/atom.xml").status_code == 404
        site.build()
        r = s.get("/")
        href = lxml_html.fromstring(r.content).xpath('//link[@rel="alternate"]')[0].get("href")
        assert href == "/static/%E5%9C%B0%E6%96%B9/feeds/atom.xml"
        feed = parse_served(s.get(href))
        assert feed.feed.links[0].href == "https://news.example" + href
        assert s.get("/feeds/atom.xml").status_code == 404
        bare = s.get("/static/地方/feeds")  # the output folder's URL without its slash
        assert bare.status_code == 301
        assert bare.headers["location"] == "/static/%E5%9C%B0%E6%96%B9/feeds/"


def test_webhook_is_off_without_a_secret(make_site):
    site = seed_site(make_site)
    with serve_site(site.config, environ={}) as s:
        body = b"Hello, World!"
        r = s.client.post(
            s.url + "/webhook", content=body, headers={"X-Hub-Signature-256": sign(body)}
        )
        assert r.status_code == 404
        assert s.status()["runs"] == 0


def test_a_slow_client_does_not_stall_others(make_site):
    site = seed_site(make_site)
    with serve_site(site.config) as s:
        host, port = s.url.removeprefix("http://").split(":")
        request = b"GET /feeds/atom.xml HTTP/1.1\r\nHost: slow\r\nUser-Agent: drip\r\n\r\n"
        stop = threading.Event()
        sent = []

        def drip() -> None:
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                for byte in request[:-2]:  # never finishes its headers
                    if stop.wait(0.02):
                        return
                    sock.sendall(bytes([byte]))
                    sent.append(byte)

        slow = threading.Thread(target=drip, daemon=True)
        slow.start()
        try:
            wait_until(lambda: len(sent) > 5)
            for _ in range(20):
                started = time.monotonic()
                r = s.get("/feeds/atom.xml")
                assert r.status_code == 200
                assert time.monotonic() - started < 1.0
            assert slow.is_alive()  # still dripping while everyone else was served
        finally:
            stop.set()
            slow.join(timeout=5)


def test_a_feed_reader_library_polls_conditionally_and_sees_new_posts(make_site, tmp_path):
    reader_mod = pytest.importorskip("reader")
    site = seed_site(make_site)
    with serve_site(site.config) as s:
        url = s.url + "/feeds/atom.xml"
        reader = reader_mod.make_reader(str(tmp_path / "reader.sqlite"))
        try:
            reader.add_feed(url)
            (first,) = list(reader.update_feeds_iter(scheduled=False))
            assert first.value is not None and not isinstance(first.value, Exception)
            assert first.value.new == 2
            (second,) = list(reader.update_feeds_iter(scheduled=False))
            assert second.not_modified, second

            site.post(
                "2022-03-10-NW4.md",
                {"title": "新条目 <一> & 二", "date": "2022-03-10 07:15:30 +0800"},
                "<p>新的正文。</p>",
            )
            assert s.hook().status_code == 202
            assert s.settle()["last"]["ok"]
            (third,) = list(reader.update_feeds_iter(scheduled=False))
            assert third.value.new == 1
            entry = reader.get_entry((url, "https://news.example/2022/03/10/NW4.html"))
            assert entry.title == "新条目 <一> & 二"
            from datetime import UTC, datetime

            assert entry.published == datetime(2022, 3, 9, 23, 15, 30, tzinfo=UTC)
        finally:
            reader.close()


def test_serve_command_runs_a_real_server(make_site):
    site = seed_site(make_site)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **ENV, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "feedwright", "serve", "--config", str(site.config_path)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(trust_env=False, timeout=5) as client:

            def up() -> bool:
                try:
                    return client.get(f"http://127.0.0.1:{port}/status").json()["runs"] >= 1
                except httpx.TransportError:
                    return False

            wait_until(up, timeout=15, step=0.1)
            parse_served(client.get(f"http://127.0.0.1:{port}/feeds/atom.xml"))
            body = b"Hello, World!"
            r = client.post(
                f"http://127.0.0.1:{port}/webhook",
                content=body,
                headers={"X-Hub-Signature-256": sign(body)},
            )
            assert r.status_code == 202

            def second_done() -> bool:  # started, then finished (SIGTERM would stop it)
                status = client.get(f"http://127.0.0.1:{port}/status").json()
                return status["runs"] == 2 and not status["running"]

            wait_until(second_done, timeout=15)
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    text = output.decode()
    assert "webhook: POST /webhook" in text
    assert "startup: 2 posts, 0 rejected" in text
    # the build's summary line, as `feedwright build` words it (feeds apart from pages)
    assert re.search(
        r"webhook \(github\): 2 posts, 0 rejected, 0 feeds written \(\d+ unchanged, 0 removed\); "
        r"0 pages written \(\d+ unchanged, 0 removed\); \d+\.\d\d s",
        text,
    ), text


def test_status_before_any_build(make_site):
    site = make_site()
    app = create_app(site.config, Rebuilder(site.config), environ={})
    with uvicorn_server(app) as url, httpx.Client(trust_env=False) as client:
        assert client.get(url + "/feeds/atom.xml").status_code == 404
        status = client.get(url + "/status").json()
        assert status == {
            "running": False,
            "queued": False,
            "runs": 0,
            "current": None,
            "last": None,
            "last_success": None,
        }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("atom.xml", "application/atom+xml; charset=utf-8"),
        ("rss.xml", "application/rss+xml; charset=utf-8"),
        ("feed.json", "application/feed+json; charset=utf-8"),
        ("feeds.opml", "text/x-opml; charset=utf-8"),
        ("other.xml", "application/xml; charset=utf-8"),
        ("logo.png", "image/png"),
        ("blob", "application/octet-stream"),
    ],
)
def test_media_type(name, expected):
    assert media_type(name) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("br, *;q=0.1", True),
        ("*;q=0", False),
        ("gzip;q=0, *", False),
        ("x-gzip", True),
        ("identity", False),
        ("gzip;q=abc", False),
    ],
)
def test_wants_gzip(header, expected):
    assert wants_gzip(header) is expected


def test_not_modified_rules():
    tags = {'"a"', '"a-gzip"'}
    assert not_modified({"if-none-match": '"a"'}, tags, 100)
    assert not_modified({"if-none-match": '"x", W/"a-gzip"'}, tags, 100)
    assert not_modified({"if-none-match": "*"}, tags, 100)
    assert not not_modified({"if-none-match": '"b"'}, tags, 100)
    assert not_modified({"if-modified-since": formatdate(100, usegmt=True)}, tags, 100)
    assert not not_modified({"if-modified-since": formatdate(99, usegmt=True)}, tags, 100)
    assert not not_modified({}, tags, 100)


def test_resolve_refuses_escapes(tmp_path):
    root = tmp_path / "out"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.xml").write_text("x")
    assert resolve(root, "a/f.xml") == (root / "a" / "f.xml").resolve()
    for bad in ["", "/etc/passwd", "../x", "a/../a/f.xml", "a//f.xml", ".feedwright/m", "a\\f"]:
        assert resolve(root, bad) is None, bad


def test_serve_says_at_once_when_its_port_is_taken_and_builds_nothing(make_site):
    from click.testing import CliRunner

    from feedwright.cli import cli

    site = make_site()
    site.post("2022-03-07-a.md", {"title": "甲", "date": "2022-03-07 08:30:46 +0800"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, ["serve", "--config", str(site.config_path), "--port", str(port)]
        )
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: 127.0.0.1:{port}: cannot listen here: Address already in use; "
        "is another server running? choose another --port"
    )
    assert "Traceback" not in result.output
    assert not site.out.exists()  # the check comes before the first build
