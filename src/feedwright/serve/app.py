"""The HTTP server: an app factory with no build logic in it.

- ``GET /``: an HTML page listing every feed, with autodiscovery links for the site feeds;
- ``GET <path of feeds_url>/…``: the output folder, for feed readers (:mod:`.files`);
  a folder (``/feeds/tags/<slug>/``, ``/feeds/``) answers with its ``index.html``
  (``feeds.pages``), and its URL without the slash redirects (``301``) to it;
- ``GET /status``: the :class:`~feedwright.serve.rebuild.Rebuilder`'s status, as JSON, with
  paths relative to the config's folder (:mod:`.privacy`);
- ``GET /metrics``: Prometheus metrics (:mod:`.metrics`), only with ``server.metrics: true``;
- ``POST <webhook.path>``: authenticated and decided (:mod:`.webhook`), answered ``202``
  at once, and handed to the rebuilder when it means a push. Absent (``404``) when no
  secret is configured.
"""

from __future__ import annotations

import html
import logging
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..config import METRICS_PATH, Config
from ..errors import ServeError
from ..layout import (
    FILENAMES,
    LABELS,
    MEDIA_TYPES,
    OPML,
    PAGE,
    feed_url,
    feeds_prefix,
    is_feed_name,
)
from . import privacy, webhook
from .files import FileCache, Representation, resolve, respond
from .metrics import Metrics
from .rebuild import Rebuilder

log = logging.getLogger(__name__)


def link_header(config: Config, relpath: str) -> str | None:
    """``Link`` for a feed: every hub, then its self URL (the one written in the feed)."""
    if not config.websub.hubs or not is_feed_name(relpath.rsplit("/", 1)[-1]):
        return None
    links = [f'<{hub}>; rel="hub"' for hub in config.websub.hubs]
    links.append(f'<{feed_url(config, relpath)}>; rel="self"')
    return ", ".join(links)


class FeedServer:
    """The read-only side: index page and output folder."""

    def __init__(self, config: Config, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics
        self.root = config.output
        self.cache = FileCache()
        self.cache_control = f"public, max-age={config.server.max_age}"
        self._index: tuple[str, Representation] | None = None

    async def feed(self, request: Request) -> Response:
        relpath: str = request.path_params["path"]
        response = await self._feed(request, relpath)
        if self.metrics is not None:
            self.metrics.feed_request(response.status_code)
        return response

    async def _feed(self, request: Request, relpath: str) -> Response:
        folder = relpath == "" or relpath.endswith("/")
        if folder:  # a folder answers with its page (feeds.pages)
            relpath += PAGE
        rep = await run_in_threadpool(self._lookup, relpath)
        if rep is None and folder and relpath == PAGE:
            return await self.index(request)
        if rep is None and not folder and await run_in_threadpool(self._has_page, relpath):
            return await _add_slash(request)
        if rep is None:
            return Response("Not Found\n", status_code=404, media_type="text/plain")
        link = link_header(self.config, relpath)
        return respond(
            request.headers,
            rep,
            cache_control=self.cache_control,
            extra={"link": link} if link else None,
        )

    def _lookup(self, relpath: str) -> Representation | None:
        path = resolve(self.root, relpath)
        return None if path is None else self.cache.get(path)

    def _has_page(self, relpath: str) -> bool:
        """Whether ``relpath`` is a folder with a page (its URL wants a slash)."""
        path = resolve(self.root, relpath)
        return path is not None and path.is_dir() and self._lookup(f"{relpath}/{PAGE}") is not None

    async def index(self, request: Request) -> Response:
        rep = await run_in_threadpool(self._index_page)
        return respond(request.headers, rep, cache_control="no-cache")

    def _index_page(self) -> Representation:
        """The index, rebuilt when ``feeds.opml`` changes (it lists every feed)."""
        opml = self.cache.get(self.root / OPML)
        tag = opml.etag if opml is not None else ""
        cached = self._index
        if cached is not None and cached[0] == tag:
            return cached[1]
        page = render_index(self.config, opml.data if opml is not None else None)
        rep = Representation(page, "text/html; charset=utf-8", opml.last_modified if opml else 0)
        self._index = (tag, rep)
        return rep


def _local(config: Config, url: str) -> str:
    """A public feed URL as a path on this server (it serves the output at that path)."""
    if url.startswith(config.feeds_url):
        return urlsplit(config.feeds_url).path + url[len(config.feeds_url) :]
    return url


def render_index(config: Config, opml: bytes | None) -> bytes:
    """The ``/`` page: every feed of the groups in ``feeds.opml`` (each in every configured
    format) by section, with autodiscovery links."""
    e = html.escape
    site = config.site
    sections: list[tuple[str, list[tuple[str, str, str]]]] = []
    if opml is not None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            body = etree.fromstring(opml, parser).find("body")
        except etree.XMLSyntaxError:  # not ours any more: list nothing rather than fail
            body = None
        for node in body if body is not None else []:
            if node.get("xmlUrl"):
                section, items = "Site", [node]
            else:
                section, items = node.get("text", ""), list(node)
            found = [(n.get("title", ""), n.get("xmlUrl", "")) for n in items if n.get("xmlUrl")]
            # the OPML lists each group once: its folder holds every configured format
            named = [
                (t, LABELS[fmt], u.rsplit("/", 1)[0] + "/" + FILENAMES[fmt])
                for t, u in found
                for fmt in config.feeds.formats
            ]
            if sections and sections[-1][0] == section:
                sections[-1][1].extend(named)
            else:
                sections.append((section, named))
    head = [
        "<!doctype html>",
        f'<html lang="{e(site.language or "en")}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(site.title)} · feeds</title>",
    ]
    for fmt in config.feeds.formats:
        name = FILENAMES[fmt]
        head.append(
            f'<link rel="alternate" type="{MEDIA_TYPES[fmt]}" '
            f'title="{e(site.title)} ({LABELS[fmt]})"'
            f' href="{e(_local(config, feed_url(config, name)))}">'
        )
    head.append("</head><body>")
    out = [*head, f"<h1>{e(site.title)}</h1>"]
    if site.description:
        out.append(f"<p>{e(site.description)}</p>")
    if opml is None:
        out.append("<p>No feeds have been built yet.</p>")
    else:
        opml_href = _local(config, feed_url(config, OPML))
        out.append(f'<p>Every feed at once: <a href="{e(opml_href)}">{e(OPML)}</a> (OPML).</p>')
    for section, rows in sections:
        out.append(f"<h2>{e(section)}</h2>")
        out.append("<table><tr><th>Feed</th><th>Format</th><th>URL</th></tr>")
        for title, label, url in rows:
            out.append(
                f"<tr><td>{e(title)}</td><td>{e(label)}</td>"
                f'<td><a href="{e(_local(config, url))}">{e(url)}</a></td></tr>'
            )
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out).encode("utf-8")


class WebhookEndpoint:
    """``POST <webhook.path>``: size limit, authentication, event, dedupe, then 202."""

    def __init__(
        self,
        secret: bytes,
        rebuilder: Rebuilder,
        metrics: Metrics | None = None,
        deliveries: webhook.DeliveryLog | None = None,
        branches: tuple[str, ...] | None = None,
    ) -> None:
        self.secret = secret
        self.rebuilder = rebuilder
        self.metrics = metrics
        self.deliveries = deliveries if deliveries is not None else webhook.DeliveryLog()
        self.branches = branches

    async def handle(self, request: Request) -> Response:
        delivery = webhook.delivery_id(request.headers) or "-"
        client = request.client.host if request.client else "-"
        try:
            response, sender, result = await self._handle(request)
        except ClientDisconnect:  # cut off by server.read_timeout, or the client left
            response, sender = Response(status_code=400), "-"
            result = "disconnected (the body did not arrive whole; nothing built)"
        event = webhook.event(request.headers) or "-"
        log.info(
            "webhook delivery: sender=%s delivery=%s result=%s event=%s client=%s",
            sender,
            delivery,
            result,
            event[:100],
            client,
            extra={
                "event": "webhook",
                "sender": sender,
                "delivery": delivery,
                "result": result,
                "webhook_event": event[:100],
                "client": client,
            },
        )
        if self.metrics is not None:
            self.metrics.webhook(result.split(" ", 1)[0])
        return response

    async def _handle(self, request: Request) -> tuple[Response, str, str]:
        """The response, who sent it (the authentication method) and the result."""
        too_large = _json({"error": "body too large (limit 1 MiB)"}, 413)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > webhook.MAX_BODY):
            return too_large, "-", "too_large"
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > webhook.MAX_BODY:
                return too_large, "-", "too_large"
        auth = webhook.check(self.secret, bytes(body), request.headers)
        if auth.method is None:
            denied = _json({"error": "not authenticated"}, 401, {"www-authenticate": "Bearer"})
            return denied, "-", f"unauthorised ({auth.problem()})"
        decision = webhook.decide(request.headers, bytes(body), self.branches)
        if not decision.build:
            doc = {"ok": True, "result": "ignored", "event": decision.event}
            doc.update(reason=decision.reason, build="none")
            outcome = "ping" if webhook.is_ping(request.headers) else "ignored"
            return _json(doc, 202), auth.method, f"{outcome} ({decision.reason})"
        delivery = webhook.delivery_id(request.headers)
        if delivery is not None and not self.deliveries.first_time(delivery):
            seen = {"ok": True, "result": "duplicate", "duplicate": True, "build": "none"}
            duplicate = _json(seen, 200)
            return duplicate, auth.method, "duplicate"
        outcome = self.rebuilder.request(f"webhook ({auth.method})")
        accepted = {"ok": True, "result": "accepted", "build": outcome}
        return _json(accepted, 202), auth.method, f"accepted (build {outcome})"


def _json(doc: Any, status: int, headers: Mapping[str, str] | None = None) -> Response:
    response = JSONResponse(doc, status_code=status, headers=dict(headers or {}))
    response.headers["cache-control"] = "no-store"
    return response


def create_app(
    config: Config,
    rebuilder: Rebuilder,
    *,
    environ: Mapping[str, str] | None = None,
    metrics: Metrics | None = None,
    status_extra: Callable[[], Mapping[str, Any]] | None = None,
    deliveries: webhook.DeliveryLog | None = None,
) -> Starlette:
    """The ASGI app. The webhook secret is read once, here, from ``environ``
    (default: the process environment) under the name ``webhook.secret_env``.

    ``metrics`` is served at ``/metrics`` when ``server.metrics`` is on (and counted
    either way); ``status_extra`` adds keys to ``/status`` (the server's reload state);
    ``deliveries`` keeps the webhook's seen delivery ids across apps (a reload).
    """
    env = os.environ if environ is None else environ
    secret = env.get(config.webhook.secret_env, "")
    files = FeedServer(config, metrics)

    relative = privacy.Relative(config)

    async def status(request: Request) -> Response:
        doc = rebuilder.status()
        if status_extra is not None:
            doc.update(status_extra())
        return _json(relative.apply(doc), 200)

    routes = [
        Route("/", files.index, methods=["GET", "HEAD"]),
        Route("/status", status, methods=["GET", "HEAD"]),
    ]
    if metrics is not None and config.server.metrics:
        routes.append(Route(METRICS_PATH, metrics.endpoint, methods=["GET", "HEAD"]))
    if secret:
        hook = WebhookEndpoint(
            secret.encode("utf-8"), rebuilder, metrics, deliveries, config.webhook.branches
        )
        routes.append(Route(config.webhook.path, hook.handle, methods=["POST"]))
    prefix = feeds_prefix(config)
    if prefix:  # the output folder's URL without its slash: 301, like any folder's
        routes.append(Route(prefix, _add_slash, methods=["GET", "HEAD"]))
    routes.append(Route(prefix + "/{path:path}", files.feed, methods=["GET", "HEAD"]))
    return Starlette(routes=routes)


async def _add_slash(request: Request) -> Response:
    location = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    return RedirectResponse(location.split("?", 1)[0] + "/", status_code=301)


def webhook_enabled(config: Config, environ: Mapping[str, str]) -> bool:
    return bool(environ.get(config.webhook.secret_env, ""))


def check_address(host: str, port: int) -> None:
    """Raise :class:`ServeError` unless ``host:port`` can be listened on right now.

    Checked before the first build, so that a port in use is said at once and clearly,
    not after a long build by a server that then cannot start.
    """
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise ServeError(address, f"cannot listen here: unknown host ({e.strerror})") from e
    for family, kind, proto, _name, sockaddr in infos:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(sockaddr)
        except OSError as e:
            advice = "; is another server running? choose another --port" if port else ""
            raise ServeError(address, f"cannot listen here: {e.strerror}{advice}") from e


__all__ = ["check_address", "create_app", "link_header", "render_index", "webhook_enabled"]
