"""``GET /metrics``: the server's counters in the Prometheus text format.

Every server has a registry of its own (never ``prometheus_client``'s global one), so
two servers in one process (the tests) do not share counters. Counters are bumped where
things happen (:meth:`Metrics.build_finished`, :meth:`Metrics.webhook`,
:meth:`Metrics.feed_request`); what is better read than counted (a build running or
queued, WebSub pings, slow and refused connections) is read at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from ..layout import is_feed_name
from ..model import BuildReport

#: Webhook results counted (``result`` label).
WEBHOOK_RESULTS = ("accepted", "duplicate", "unauthorised", "too_large", "ping")
#: Feed request statuses always present (others appear when they happen).
FEED_STATUSES = ("200", "304", "404")
#: Build durations, seconds: a no-op rebuild is under a second, a cold build at
#: 100,000 posts about half a minute.
BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


def trigger_kind(trigger: str) -> str:
    """``webhook (github)`` → ``webhook``: a label with few values."""
    return trigger.split(" ", 1)[0] or "unknown"


class _Live(Collector):
    """What is read at scrape time from the objects that know it."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        now = self._read()
        yield GaugeMetricFamily(
            "feedwright_build_running", "1 while a build runs", value=int(now["running"])
        )
        yield GaugeMetricFamily(
            "feedwright_build_queued", "1 while a build waits to run", value=int(now["queued"])
        )
        pings = CounterMetricFamily(
            "feedwright_websub_pings", "WebSub publish pings by result", labels=["result"]
        )
        pings.add_metric(["sent"], now["pings_sent"])
        pings.add_metric(["failed"], now["pings_failed"])
        yield pings
        conns = CounterMetricFamily(
            "feedwright_connections_dropped",
            "Connections closed for sending too slowly, or refused over max_connections",
            labels=["reason"],
        )
        conns.add_metric(["read_timeout"], now["timed_out"])
        conns.add_metric(["max_connections"], now["refused"])
        yield conns


class Metrics:
    """The server's metrics, in a registry of its own."""

    def __init__(self, live: Callable[[], dict[str, Any]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.builds = Counter(
            "feedwright_builds", "Builds by trigger and result", ["trigger", "result"], registry=r
        )
        self.duration = Histogram(
            "feedwright_build_duration_seconds", "Build wall time", buckets=BUCKETS, registry=r
        )
        self.posts = Gauge(
            "feedwright_last_build_posts", "Posts published by the last build", registry=r
        )
        self.feeds = Gauge(
            "feedwright_last_build_feeds",
            "Feeds the last build published (written, unchanged or kept; not OPML or pages)",
            registry=r,
        )
        self.rejected = Gauge(
            "feedwright_last_build_rejected_posts", "Posts the last build rejected", registry=r
        )
        self.rejected_total = Counter(
            "feedwright_rejected_posts", "Posts rejected, summed over builds", registry=r
        )
        self.webhooks = Counter(
            "feedwright_webhook_requests", "Webhook requests by result", ["result"], registry=r
        )
        for result in WEBHOOK_RESULTS:
            self.webhooks.labels(result)
        self.requests = Counter(
            "feedwright_feed_requests", "Requests for feed files by status", ["status"], registry=r
        )
        for status in FEED_STATUSES:
            self.requests.labels(status)
        r.register(_Live(live))

    def build_finished(self, record: dict[str, Any], report: BuildReport | None) -> None:
        result = "ok" if report is not None else "failed"
        self.builds.labels(trigger_kind(record["trigger"]), result).inc()
        self.duration.observe(record["seconds"])
        if report is not None:
            self.posts.set(report.posts)
            files = (*report.written, *report.unchanged, *report.kept)
            listed = sum(1 for path in files if is_feed_name(path.rsplit("/", 1)[-1]))
            self.feeds.set(listed + report.unlisted)  # archive files, all of them feeds
            self.rejected.set(report.rejected)
            self.rejected_total.inc(report.rejected)

    def webhook(self, result: str) -> None:
        self.webhooks.labels(result).inc()

    def feed_request(self, status: int) -> None:
        self.requests.labels(str(status)).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, request: Request) -> Response:
        return Response(
            self.text(),
            media_type=CONTENT_TYPE_LATEST,
            headers={"cache-control": "no-store"},
        )
