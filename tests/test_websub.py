"""WebSub: a real local hub receives exactly the changed feeds, after they are in place."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from conftest import parse_feed
from live import Hub, closed_port_url, hub_server, serve_site

from feedwright.model import BuildReport
from feedwright.serve.websub import Publisher, changed_feeds, ping, publish_body

FEEDS = "https://news.example/feeds/"
TAG = "%E6%A0%AA%E6%B4%B2%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB"  # 株洲日报新闻


def test_publish_body_encodes_the_percent_encoded_url_once_more():
    url = f"https://finews.example/feeds/tags/{TAG}/atom.xml"
    body = publish_body(url).decode()
    assert body == (
        "hub.mode=publish&hub.url=https%3A%2F%2Ffinews.example%2Ffeeds%2Ftags%2F"
        + TAG.replace("%", "%25")
        + "%2Fatom.xml"
    )


def test_changed_feeds_leaves_out_the_opml():
    report = BuildReport(
        posts=1,
        errors=(),
        warnings=(),
        written=("atom.xml", "feeds.opml", "tags/x/feed.json"),
        unchanged=("rss.xml",),
        removed=(),
        kept=(),
        seconds=0.0,
        written_urls=(FEEDS + "atom.xml", FEEDS + "feeds.opml", FEEDS + "tags/x/feed.json"),
    )
    assert changed_feeds(report) == [FEEDS + "atom.xml", FEEDS + "tags/x/feed.json"]


def seeded(make_site, hubs):
    site = make_site(websub={"hubs": hubs})
    site.post(
        "2022-03-07-old.md",
        {"title": "旧闻", "date": "2022-03-07 08:30:46 +0800", "categories": "old"},
    )
    site.build()
    return site


def test_the_hub_gets_exactly_the_changed_feeds_after_they_are_written(make_site):
    in_place: dict[str, bool] = {}
    with hub_server() as hub:
        site = seeded(make_site, [hub.url])
        out: Path = site.out

        def check(url: str) -> None:  # the hub fetches at once: the new bytes must be there
            data = (out / unquote(url.removeprefix(FEEDS))).read_bytes()
            in_place[url] = "新闻一则".encode() in data

        hub.on_ping = check
        publisher = Publisher([hub.url], backoff=0.01)
        with serve_site(site.config, publisher=publisher) as s:
            # Atom and RSS carry the hub link, JSON Feed the hubs array.
            for path in ("atom.xml", "rss.xml", "feed.json"):
                feed = parse_feed(out / path)
                if path == "feed.json":
                    assert feed["hubs"] == [{"type": "WebSub", "url": hub.url}]
                else:
                    assert ("hub", hub.url) in {(x.rel, x.href) for x in feed.feed.links}

            site.post(
                "2022-03-08-new.md",
                {
                    "title": "新闻一则",
                    "date": "2022-03-08 09:00:00 +0800",
                    "categories": "fresh",
                    "tags": "株洲日报新闻",
                },
            )
            assert s.hook().status_code == 202
            status = s.settle()
            expected = {
                FEEDS + f"{folder}{name}"
                for folder in ("", "categories/fresh/", f"tags/{TAG}/")
                for name in ("atom.xml", "rss.xml", "feed.json")
            }
            assert sorted(hub.received) == sorted(expected)  # each once; not old/, not OPML
            assert in_place == dict.fromkeys(expected, True)
            assert set(hub.content_types) == {"application/x-www-form-urlencoded"}
            assert status["websub"]["sent"] == 9 and status["websub"]["failed"] == 0

            # A hook that changes nothing pings nothing.
            assert s.hook(X_GitHub_Delivery="noop").status_code == 202
            s.settle()
            assert len(hub.attempts) == 9


def test_retries_with_backoff_until_the_hub_answers():
    delays: list[float] = []
    with hub_server(Hub(fail_first=2)) as hub:
        result = ping(hub.url, FEEDS + "atom.xml", backoff=0.5, sleep=delays.append)
    assert result.ok and result.attempts == 3 and result.status == 204
    assert delays == [0.5, 1.0]
    assert hub.received == [FEEDS + "atom.xml"]


def test_a_client_error_is_not_retried():
    with hub_server(Hub(fail_first=5, error_status=400)) as hub:
        result = ping(hub.url, FEEDS + "atom.xml", sleep=lambda _: None)
    assert not result.ok and result.attempts == 1 and result.status == 400
    assert "400" in result.error


def test_a_hub_that_is_down_never_fails_the_build(make_site):
    down = closed_port_url()
    with hub_server() as hub:
        site = seeded(make_site, [down, hub.url])
        publisher = Publisher([down, hub.url], attempts=3, backoff=0.01, timeout=2)
        with serve_site(site.config, publisher=publisher) as s:
            site.post("2022-03-08-new.md", {"title": "新", "date": "2022-03-08 09:00:00 +0800"})
            assert s.hook().status_code == 202
            status = s.settle()
            assert status["last"]["ok"]
            websub = status["websub"]
            assert websub["sent"] == 3 and websub["failed"] == 3 and websub["pending"] == 0
            assert websub["last_error"]["hub"] == down
            assert "Connection refused" in websub["last_error"]["error"]
            assert sorted(hub.received) == sorted(
                FEEDS + name for name in ("atom.xml", "rss.xml", "feed.json")
            )
            assert [e.title for e in parse_feed(site.out / "atom.xml").entries][0] == "新"
