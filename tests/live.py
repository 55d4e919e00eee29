"""Real servers for the tests, on loopback only: feedwright's app under uvicorn, and a hub.

Everything here is bounded: servers start within a timeout and are stopped and joined
on exit; ``wait_until`` polls with a deadline.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
import uvicorn

from feedwright.config import Config
from feedwright.serve.app import create_app
from feedwright.serve.rebuild import Rebuilder
from feedwright.serve.websub import Publisher

SECRET = "It's a Secret to Everybody"
ENV = {"FEEDWRIGHT_WEBHOOK_SECRET": SECRET}


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(step)


@contextmanager
def uvicorn_server(app: Any) -> Iterator[str]:
    """Run ``app`` under a real uvicorn in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout=10)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Served:
    """A running feedwright server for a site."""

    url: str
    config: Config
    rebuilder: Rebuilder
    client: httpx.Client
    publisher: Publisher | None = None

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(self.url + path, **kwargs)

    def status(self) -> dict[str, Any]:
        return self.client.get(self.url + "/status").json()

    def hook(self, body: bytes = b'{"ref":"refs/heads/main"}', **headers: str) -> httpx.Response:
        """A GitHub-signed webhook (extra headers given as keyword arguments)."""
        h = {"X-Hub-Signature-256": sign(body), "Content-Type": "application/json"}
        h.update({k.replace("_", "-"): v for k, v in headers.items()})
        return self.client.post(self.url + self.config.webhook.path, content=body, headers=h)

    def settle(self, timeout: float = 20.0) -> dict[str, Any]:
        """Wait until no build runs or waits (and pings are sent); the status."""
        assert self.rebuilder.wait(timeout), "build did not finish"
        if self.publisher is not None:
            assert self.publisher.join(timeout), "pings were not sent"
        return self.status()


@contextmanager
def serve_site(
    config: Config,
    *,
    environ: dict[str, str] | None = None,
    publisher: Publisher | None = None,
    cwd: str | None = None,
) -> Iterator[Served]:
    rebuilder = Rebuilder(config, publisher=publisher, cwd=cwd)
    app = create_app(config, rebuilder, environ=ENV if environ is None else environ)
    with (
        uvicorn_server(app) as url,
        httpx.Client(timeout=10, trust_env=False) as client,
    ):
        try:
            yield Served(url, config, rebuilder, client, publisher)
        finally:
            rebuilder.close(timeout=20)


@dataclass
class Hub:
    """A WebSub hub that records the publish pings it receives."""

    url: str = ""
    #: ``hub.url`` of every ping answered 2xx, in arrival order.
    received: list[str] = field(default_factory=list)
    #: Every request seen (including ones answered with an error).
    attempts: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    #: Answer this many requests with ``error_status`` first.
    fail_first: int = 0
    error_status: int = 503
    #: Called with each received feed URL (e.g. to check the file is in place).
    on_ping: Callable[[str], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def hub_server(hub: Hub | None = None) -> Iterator[Hub]:
    hub = hub or Hub()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode("ascii"), strict_parsing=True)
            (url,) = form["hub.url"]
            assert form["hub.mode"] == ["publish"]
            with hub.lock:
                hub.attempts.append(url)
                hub.content_types.append(self.headers.get("Content-Type", ""))
                failing = len(hub.attempts) <= hub.fail_first
            if failing:
                self.send_response(hub.error_status)
            else:
                if hub.on_ping is not None:
                    hub.on_ping(url)
                with hub.lock:
                    hub.received.append(url)
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    hub.url = f"http://127.0.0.1:{httpd.server_address[1]}/hub"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield hub
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hub"


def raw_get(base: str, target: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send a request line exactly as given (no client-side path normalisation)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
