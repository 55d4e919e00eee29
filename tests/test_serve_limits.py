"""Slow and many clients (#11): ``server.read_timeout`` and ``server.max_connections``.

Real sockets on loopback against a real ``feedwright serve``; every loop is bounded, and
the timeouts are made small through the config.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from live import SECRET
from served import seed, serving, stop

READ_TIMEOUT = 1.0


@contextmanager
def connect(url: str) -> Iterator[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    try:
        yield sock
    finally:
        sock.close()


def response(sock: socket.socket) -> bytes:
    """One whole HTTP response (head and ``Content-Length`` body) read from ``sock``."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed in the body"
        body += chunk
    return head + b"\r\n\r\n" + body


def closed_within(sock: socket.socket, seconds: float, drip: bytes = b"") -> float | None:
    """Send ``drip`` one byte every 0.2 s; when the server closed the connection (seconds
    after the start), or ``None`` if it is still open after ``seconds``."""
    start = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - start < seconds:
        if sent < len(drip):
            try:
                sock.sendall(drip[sent : sent + 1])
            except OSError:
                return time.monotonic() - start
            sent += 1
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - start
    return None


def test_a_client_dripping_its_headers_or_body_is_disconnected(make_site):
    site = seed(make_site, server={"read_timeout": READ_TIMEOUT})
    with serving(site) as served:
        headers = b"GET /feeds/atom.xml HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200
        body = (
            b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"Authorization: Bearer " + SECRET.encode("latin-1") + b"\r\n\r\n" + b"{" * 200
        )
        with connect(served.url) as slow_headers, connect(served.url) as slow_body:
            slow_body.sendall(body[: body.index(b"\r\n\r\n") + 4])  # the headers at once
            start = time.monotonic()
            # While they drip, others are served at once.
            with httpx.Client(trust_env=False, timeout=5) as client:
                for _ in range(3):
                    assert client.get(served.url + "/feeds/atom.xml").status_code == 200
            assert time.monotonic() - start < READ_TIMEOUT
            waited = closed_within(slow_headers, 10, drip=headers)
            assert waited is not None, "a client dripping its headers was not disconnected"
            assert waited < READ_TIMEOUT + 2
            waited = closed_within(slow_body, 10, drip=body[body.index(b"\r\n\r\n") + 4 :])
            assert waited is not None, "a client dripping its body was not disconnected"
        # An idle connection that never sends anything is closed too.
        with connect(served.url) as silent:
            waited = closed_within(silent, 10)
            assert waited is not None and waited < READ_TIMEOUT + 2
        # A client that is quick enough is served.
        with connect(served.url) as quick:
            quick.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            assert response(quick).startswith(b"HTTP/1.1 200")
        text = served.stderr()
        assert "not received within 1 s; disconnected" in text
        # The webhook body cut off: one line, no traceback (#18.5).
        cut = [line for line in text.splitlines() if "result=disconnected" in line]
        assert len(cut) == 1 and "webhook delivery" in cut[0], text
        assert "Traceback" not in text and "ClientDisconnect" not in text
        assert served.status()["runs"] == 1  # nothing built for it
        assert stop(served) == 0


def test_the_connection_over_the_limit_is_refused_and_the_others_go_on(make_site):
    limit = 5
    site = seed(make_site, server={"max_connections": limit, "read_timeout": 30})
    with serving(site) as served, ExitStack() as stack:
        open_ = [stack.enter_context(connect(served.url)) for _ in range(limit)]
        for sock in open_:  # each one served once, and kept alive: the server counts them
            sock.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
            assert response(sock).startswith(b"HTTP/1.1 200")
        with connect(served.url) as extra:
            extra.settimeout(5)
            answer = b""
            while chunk := extra.recv(65536):
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), answer
            assert b"connection: close" in answer
        for sock in open_:  # the open ones are not disturbed
            sock.sendall(b"GET /feeds/atom.xml HTTP/1.1\r\nHost: x\r\n\r\n")
            assert response(sock).startswith(b"HTTP/1.1 200")
        for sock in open_:
            sock.close()
        # Once they are gone, a new connection is served again.
        with httpx.Client(trust_env=False, timeout=5) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    if client.get(served.url + "/status").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "no connection accepted after the others left"
                time.sleep(0.05)
        assert stop(served) == 0
