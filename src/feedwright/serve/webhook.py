"""Pure webhook decisions: who may trigger a rebuild, and which events mean a push. No I/O,
no clock, no environment.

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

Once authentic, :func:`decide` says whether the event means new commits: GitHub's,
Gitea's (Forgejo's, Gogs') ``push`` and GitLab's ``Push Hook`` build; a request that names
no event (the Bearer form, curl) builds too; ``ping`` and every other event are ignored.
With ``webhook.branches``, a push builds only when its ``ref`` is one of those branches.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

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
#: Headers naming the event type (Gitea sends its own and GitHub's and Gogs' names).
EVENT_HEADERS = (
    "x-github-event",
    "x-gitea-event",
    "x-forgejo-event",
    "x-gogs-event",
    "x-gitlab-event",
)
#: Event names (lower-cased) that mean commits were pushed.
PUSH_EVENTS = frozenset({"push", "push hook"})
#: Where a push's ``ref`` names a branch.
_HEADS = "refs/heads/"
#: The header each method checks, as its sender spells it.
PROOF_HEADERS = {
    "github": "X-Hub-Signature-256",
    "gitea": "X-Gitea-Signature",
    "gitlab": "X-Gitlab-Token",
    "bearer": "Authorization: Bearer",
}


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


@dataclass(frozen=True, slots=True)
class Auth:
    """Who proved knowledge of the secret, and what was checked."""

    #: ``github``, ``gitea``, ``gitlab`` or ``bearer``; ``None``: not authenticated.
    method: str | None
    #: The proof headers the request carried, as senders spell them (all were checked).
    checked: tuple[str, ...]

    def problem(self) -> str:
        """Why it was refused, naming the headers (for the log); empty when authenticated."""
        if self.method is not None:
            return ""
        if not self.checked:
            names = list(PROOF_HEADERS.values())
            return f"no {', '.join(names[:-1])} or {names[-1]} header"
        verb = "does" if len(self.checked) == 1 else "do"
        return f"{' and '.join(self.checked)} {verb} not match the secret"


def check(secret: bytes, body: bytes, headers: Mapping[str, str]) -> Auth:
    """Which method proved knowledge of ``secret`` (see :class:`Auth`). ``headers`` is any
    mapping; names are matched case-insensitively. An empty ``secret`` proves nothing."""
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
        if hmac.compare_digest(want, given) and method is None and secret:
            method = name
    return Auth(method, tuple(PROOF_HEADERS[name] for name, _, _ in checks))


def authenticate(secret: bytes, body: bytes, headers: Mapping[str, str]) -> str | None:
    """The method that proved knowledge of ``secret`` (``github``, ``gitea``, ``gitlab``,
    ``bearer``), or ``None``. ``headers`` is any mapping; names are matched case-insensitively.

    An empty ``secret`` never authenticates anything.
    """
    return check(secret, body, headers).method


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


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an authentic delivery builds, and why."""

    #: It builds.
    build: bool
    #: The event the sender named, if any.
    event: str | None
    #: Why, in a few words (``/status``-safe: names no secret).
    reason: str


def decide(headers: Mapping[str, str], body: bytes, branches: tuple[str, ...] | None) -> Decision:
    """Whether an authentic delivery means a push that should build (see the module).

    ``branches``: build only pushes to these (``None``: every push builds).
    """
    name = event(headers)
    name = name[:100] if name is not None else None  # it is logged and answered
    if name is not None and name.lower() not in PUSH_EVENTS:
        return Decision(False, name, f"the {name!r} event is not a push")
    if branches is None:
        return Decision(True, name, "push" if name is not None else "no event named")
    ref = push_ref(body)
    if ref is None:
        if name is None:  # a plain request (curl, the Bearer form): it asks for a build
            return Decision(True, name, "no event named")
        return Decision(False, name, "the push names no ref (webhook.branches)")
    branch = ref[len(_HEADS) :] if ref.startswith(_HEADS) else None
    if branch is None or branch not in branches:
        return Decision(False, name, f"{ref[:200]} is not in webhook.branches")
    return Decision(True, name, f"push to {branch}")


def push_ref(body: bytes) -> str | None:
    """The ``ref`` of a push payload (JSON, or GitHub's form type: ``payload=<JSON>``)."""
    if body.startswith(b"payload="):
        try:
            values = parse_qs(body.decode("ascii"), max_num_fields=8).get("payload", [])
        except (UnicodeDecodeError, ValueError):
            return None
        body = values[0].encode("utf-8") if values else b""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    ref = doc.get("ref") if isinstance(doc, dict) else None
    return ref if isinstance(ref, str) else None


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
