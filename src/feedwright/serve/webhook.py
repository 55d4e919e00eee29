"""Pure webhook authentication: who may trigger a rebuild. No I/O, no clock, no environment.

A request is authentic when it proves it knows the shared secret in one of the ways
the usual senders use:

- GitHub (and Gitea, which sends it too): ``X-Hub-Signature-256: sha256=<hex>``, the
  HMAC-SHA256 of the raw body;
- Gitea: ``X-Gitea-Signature: <hex>``, the same HMAC without the prefix;
- GitLab: ``X-Gitlab-Token: <secret>``, the secret itself;
- anything else (curl, a scraper): ``Authorization: Bearer <secret>``.

Every comparison is constant-time and on bytes: the header's bytes as they came over
the wire against the expected bytes. The signature covers the exact body bytes, so the
body is never decoded or re-serialised before it is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

#: Bodies larger than this are refused (``413``) before any hashing.
MAX_BODY = 1 << 20

#: Headers that carry a per-event delivery id, most specific first. A redelivery
#: reuses the id (GitHub, Gitea) or the idempotency key (GitLab 17.4+).
DELIVERY_HEADERS = (
    "x-github-delivery",
    "x-gitea-delivery",
    "idempotency-key",
    "x-gitlab-event-uuid",
)
#: Headers naming the event type.
EVENT_HEADERS = ("x-github-event", "x-gitea-event", "x-gitlab-event")


def signature(secret: bytes, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 of ``body`` under ``secret`` (what GitHub and Gitea send)."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _raw(value: str) -> bytes:
    """The header's bytes. HTTP servers decode header bytes as Latin-1, so this undoes it."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def authenticate(secret: bytes, body: bytes, headers: Mapping[str, str]) -> str | None:
    """The method that proved knowledge of ``secret`` (``github``, ``gitea``, ``gitlab``,
    ``bearer``), or ``None``. ``headers`` is any mapping; names are matched case-insensitively.

    An empty ``secret`` never authenticates anything.
    """
    if not secret:
        return None
    h = _lower_keys(headers)
    expected = signature(secret, body).encode("ascii")
    checks: list[tuple[str, bytes, bytes]] = []
    if "x-hub-signature-256" in h:
        checks.append(("github", b"sha256=" + expected, _raw(h["x-hub-signature-256"].strip())))
    if "x-gitea-signature" in h:
        checks.append(("gitea", expected, _raw(h["x-gitea-signature"].strip())))
    if "x-gitlab-token" in h:
        checks.append(("gitlab", secret, _raw(h["x-gitlab-token"])))
    scheme, _, token = h.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        checks.append(("bearer", secret, _raw(token.strip())))
    method = None
    for name, want, given in checks:
        # Hex digests may arrive in upper case; the secret itself is compared as sent.
        if name in ("github", "gitea"):
            given = given.lower()
        if hmac.compare_digest(want, given) and method is None:
            method = name
    return method


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """The sender's id for this delivery (reused when it redelivers), if it sent one."""
    found = _first_header(headers, DELIVERY_HEADERS)
    return None if found is None else f"{found[0]}:{found[1][:200]}"


def event(headers: Mapping[str, str]) -> str | None:
    """The event type the sender names (``push``, ``ping``, ``Push Hook``…), if any."""
    found = _first_header(headers, EVENT_HEADERS)
    return None if found is None else found[1]


def _first_header(headers: Mapping[str, str], names: Iterable[str]) -> tuple[str, str] | None:
    """(name, value) of the first of ``names`` sent with a non-blank value."""
    h = _lower_keys(headers)
    for name in names:
        value = h.get(name, "").strip()
        if value:
            return name, value
    return None


def is_ping(headers: Mapping[str, str]) -> bool:
    """GitHub's ``ping`` event, sent when a hook is created: answer it, build nothing."""
    return (event(headers) or "").lower() == "ping"


class DeliveryLog:
    """The most recent delivery ids, so a redelivered event does not build twice."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, delivery: str) -> bool:
        """Record ``delivery``; ``False`` if it was already seen (recently)."""
        with self._lock:
            if delivery in self._seen:
                self._seen.move_to_end(delivery)
                return False
            self._seen[delivery] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True
