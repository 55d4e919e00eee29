"""The webhook: pure authentication, then the real endpoint on a real server."""

from __future__ import annotations

import asyncio
import hmac
import sys
import time

import feedparser
import httpx
import pytest
from live import SECRET, serve_site, sign

from feedwright.serve import webhook

GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_documented_vector():
    assert "sha256=" + webhook.signature(SECRET.encode(), GITHUB_BODY) == GITHUB_SIGNATURE
    assert sign(GITHUB_BODY) == GITHUB_SIGNATURE


RIGHT = [
    ("github", {"X-Hub-Signature-256": GITHUB_SIGNATURE}),
    ("github", {"x-hub-signature-256": GITHUB_SIGNATURE.upper().replace("SHA256", "sha256")}),
    ("gitea", {"X-Gitea-Signature": GITHUB_SIGNATURE.removeprefix("sha256=")}),
    ("gitlab", {"X-Gitlab-Token": SECRET}),
    ("bearer", {"Authorization": f"Bearer {SECRET}"}),
    ("bearer", {"Authorization": f"bearer {SECRET}"}),
    # Gitea sends both headers; and a wrong legacy sha1 header does not matter.
    ("github", {"X-Hub-Signature-256": GITHUB_SIGNATURE, "X-Hub-Signature": "sha1=00"}),
]
WRONG = [
    {},
    {"X-Hub-Signature-256": GITHUB_SIGNATURE.removeprefix("sha256=")},
    {"X-Hub-Signature-256": "sha256="},
    {"X-Hub-Signature-256": GITHUB_SIGNATURE[:-1] + "0"},
    {"X-Hub-Signature-256": "sha1=" + GITHUB_SIGNATURE.removeprefix("sha256=")},
    {"X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), GITHUB_BODY, "sha1").hexdigest()},
    {"X-Gitea-Signature": ""},
    {"X-Gitea-Signature": GITHUB_SIGNATURE},
    {"X-Gitlab-Token": SECRET[:-1]},
    {"X-Gitlab-Token": SECRET.upper()},
    {"X-Gitlab-Token": ""},
    {"Authorization": f"Basic {SECRET}"},
    {"Authorization": f"Bearer {SECRET}x"},
    {"Authorization": "Bearer"},
    {"X-Gitlab-Token": "ünïcödé"},
]


@pytest.mark.parametrize(("method", "headers"), RIGHT)
def test_authenticate_accepts_each_method(method, headers):
    assert webhook.authenticate(SECRET.encode(), GITHUB_BODY, headers) == method


@pytest.mark.parametrize("headers", WRONG)
def test_authenticate_refuses(headers):
    assert webhook.authenticate(SECRET.encode(), GITHUB_BODY, headers) is None


def test_signature_covers_the_exact_bytes():
    secret = b"secret"
    body = b'{"ref":"refs/heads/main"}'
    spaced = b'{"ref": "refs/heads/main"}'
    good = {"X-Hub-Signature-256": "sha256=" + webhook.signature(secret, body)}
    assert webhook.authenticate(secret, body, good) == "github"
    assert webhook.authenticate(secret, spaced, good) is None
    assert webhook.authenticate(b"", body, {"Authorization": "Bearer "}) is None


def test_non_ascii_secret_compares_bytes():
    secret = "株洲-秘密".encode()
    # A server hands header bytes over decoded as Latin-1.
    as_received = secret.decode("latin-1")
    assert webhook.authenticate(secret, b"", {"X-Gitlab-Token": as_received}) == "gitlab"
    assert webhook.authenticate(secret, b"", {"X-Gitlab-Token": "株洲-秘密"}) == "gitlab"


def test_delivery_ids_events_and_log():
    assert webhook.delivery_id({"X-GitHub-Delivery": " abc "}) == "x-github-delivery:abc"
    assert webhook.delivery_id({"Idempotency-Key": "k"}) == "idempotency-key:k"
    assert webhook.delivery_id({"X-Gitlab-Event-UUID": "u"}) == "x-gitlab-event-uuid:u"
    assert webhook.delivery_id({"X-Gitea-Delivery": ""}) is None
    assert webhook.is_ping({"X-GitHub-Event": "ping"})
    assert not webhook.is_ping({"X-Gitlab-Event": "Push Hook"})
    log = webhook.DeliveryLog(size=2)
    assert log.first_time("a") and log.first_time("b")
    assert not log.first_time("a")
    assert log.first_time("c")  # evicts b (a was used more recently)
    assert log.first_time("b") and not log.first_time("c")


# -- over HTTP ----------------------------------------------------------------------------


def small_site(make_site, **overrides):
    site = make_site(**overrides)
    site.post("2022-03-07-NW1.md", {"title": "切实提高", "date": "2022-03-07 08:30:46 +0800"})
    site.build()
    return site


def titles(s) -> list[str]:
    parsed = feedparser.parse(s.get("/feeds/atom.xml").content)
    assert not parsed.bozo
    return [e.title for e in parsed.entries]


def test_every_auth_method_over_http(make_site):
    site = small_site(make_site)
    with serve_site(site.config) as s:
        hook = s.url + "/webhook"
        for _method, headers in RIGHT:
            r = s.client.post(hook, content=GITHUB_BODY, headers=headers)
            assert r.status_code == 202, headers
            assert r.json()["ok"] is True
        for headers in WRONG:
            raw = {name: value.encode() for name, value in headers.items()}
            r = s.client.post(hook, content=GITHUB_BODY, headers=raw)
            assert r.status_code == 401, headers
        # The signature is over the body actually sent.
        r = s.client.post(hook, content=b"Hello, World?", headers=dict(RIGHT[0][1]))
        assert r.status_code == 401
        assert s.client.get(hook).status_code == 405
        status = s.settle()
        assert 1 <= status["runs"] <= len(RIGHT)
        assert status["last"]["ok"]


def test_size_limit_is_checked_before_anything_else(make_site):
    site = small_site(make_site)
    with serve_site(site.config) as s:
        hook = s.url + "/webhook"
        big = b"x" * (webhook.MAX_BODY + 1)
        r = s.client.post(hook, content=big, headers={"X-Hub-Signature-256": sign(big)})
        assert r.status_code == 413
        # No Content-Length (chunked): counted while reading.
        chunks = (b"y" * 65536 for _ in range(17))
        r = s.client.post(hook, content=chunks, headers={"Authorization": f"Bearer {SECRET}"})
        assert r.status_code == 413
        exact = b"z" * webhook.MAX_BODY
        r = s.client.post(hook, content=exact, headers={"X-Hub-Signature-256": sign(exact)})
        assert r.status_code == 202
        s.settle()


def test_ping_and_redelivery_do_not_build(make_site):
    site = small_site(make_site)
    with serve_site(site.config) as s:
        r = s.hook(X_GitHub_Event="ping", X_GitHub_Delivery="d-0")
        assert r.status_code == 202 and r.json()["event"] == "ping"
        assert r.json()["result"] == "ignored" and r.json()["build"] == "none"
        assert s.status()["runs"] == 0
        # A forged delivery does not burn the id.
        forged = s.client.post(
            s.url + "/webhook",
            content=b"{}",
            headers={"X-Hub-Signature-256": "sha256=00", "X-GitHub-Delivery": "d-1"},
        )
        assert forged.status_code == 401
        for headers in (
            {"X_GitHub_Delivery": "d-1", "X_GitHub_Event": "push"},
            {"X_Gitea_Delivery": "g-1"},
            {"Idempotency_Key": "k-1"},
            {"X_Gitlab_Event_UUID": "u-1"},
        ):
            assert s.hook(**headers).status_code == 202
            s.settle()
            runs = s.status()["runs"]
            again = s.hook(**headers)
            assert again.status_code == 200 and again.json()["duplicate"] is True
            assert s.settle()["runs"] == runs
        assert s.status()["runs"] == 4


def test_a_post_added_then_a_signed_hook_is_served(make_site):
    site = small_site(make_site)
    with serve_site(site.config) as s:
        assert titles(s) == ["切实提高"]
        site.post("2022-03-08-NW2.md", {"title": "新的一篇", "date": "2022-03-08 09:00:00 +0800"})
        started = time.monotonic()
        r = s.hook()
        assert r.status_code == 202 and r.json()["build"] == "started"
        assert time.monotonic() - started < 2
        status = s.settle()
        assert status["last"]["result"] == "ok"
        assert status["last"]["trigger"] == "webhook (github)"
        assert status["last"]["posts"] == 2 and status["last"]["written"] > 0
        assert titles(s) == ["新的一篇", "切实提高"]


def test_a_failing_build_keeps_the_old_feed_and_status_says_so(make_site):
    fail = "import sys; print('merge conflict in _posts', file=sys.stderr); sys.exit(3)"
    site = small_site(
        make_site,
        webhook={"before_build": [sys.executable, "-c", fail]},
        server={"status_details": True},
    )
    before = site.read("atom.xml")
    with serve_site(site.config) as s:
        etag = s.get("/feeds/atom.xml").headers["etag"]
        site.post("2022-03-08-NW2.md", {"title": "不该出现", "date": "2022-03-08 09:00:00 +0800"})
        assert s.hook().status_code == 202
        last = s.settle()["last"]
        assert last["ok"] is False and last["result"] == "before_build failed"
        assert "exited with 3" in last["errors"][0]
        assert "merge conflict in _posts" in last["errors"][0]
        assert s.status()["last_success"] is None
        assert site.read("atom.xml") == before
        assert s.get("/feeds/atom.xml", headers={"If-None-Match": etag}).status_code == 304
        assert titles(s) == ["切实提高"]


def test_a_build_that_raises_keeps_the_old_feeds_then_recovers(make_site):
    site = small_site(make_site)
    with serve_site(site.config) as s:
        assert s.hook(X_GitHub_Delivery="first").status_code == 202
        ok_time = s.settle()["last_success"]
        assert ok_time is not None
        before = site.read("atom.xml")
        # The bookkeeping folder turns into a file: the build cannot record what it writes.
        state = site.out / ".feedwright"
        saved = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
        for p in state.iterdir():
            p.unlink() if p.is_file() else None
        state.rmdir()
        state.write_bytes(b"not a folder")
        site.post("2022-03-08-NW2.md", {"title": "新的一篇", "date": "2022-03-08 09:00:00 +0800"})
        assert s.hook(X_GitHub_Delivery="second").status_code == 202
        status = s.settle()
        assert status["last"]["result"] == "build failed"
        assert status["last"]["errors"] and status["last_success"] == ok_time
        assert site.read("atom.xml") == before
        assert titles(s) == ["切实提高"]
        # Fixed: the next hook publishes.
        state.unlink()
        state.mkdir()
        for name, data in saved.items():
            (state / name).write_bytes(data)
        assert s.hook(X_GitHub_Delivery="third").status_code == 202
        assert s.settle()["last"]["ok"]
        assert titles(s) == ["新的一篇", "切实提高"]


def test_a_missing_source_folder_never_empties_the_feeds(make_site):
    site = small_site(make_site)
    before = site.read("atom.xml")
    with serve_site(site.config) as s:
        site.src.rename(site.root / "elsewhere")
        assert s.hook().status_code == 202
        last = s.settle()["last"]
        assert last["result"] == "build failed"
        assert "source: no such folder" in last["errors"][0]
        assert site.read("atom.xml") == before
        assert titles(s) == ["切实提高"]


def test_a_storm_of_hooks_builds_at_most_twice_while_gets_answer(make_site, tmp_path):
    # before_build holds the first build until the storm is over (bounded: 20 s).
    gate = tmp_path / "gate"
    hold = "import os, sys, time\nt = time.monotonic()\n" + (
        "while not os.path.exists(sys.argv[1]) and time.monotonic() - t < 20: time.sleep(0.01)"
    )
    site = small_site(make_site, webhook={"before_build": [sys.executable, "-c", hold, str(gate)]})
    with serve_site(site.config) as s:
        site.post("2022-03-08-NW2.md", {"title": "风暴", "date": "2022-03-08 09:00:00 +0800"})
        get_times: list[float] = []

        async def storm() -> list[int]:
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(timeout=20, trust_env=False, limits=limits) as client:

                async def one(i: int) -> int:
                    body = f'{{"n": {i}}}'.encode()
                    r = await client.post(
                        s.url + "/webhook",
                        content=body,
                        headers={"X-Hub-Signature-256": sign(body), "X-GitHub-Delivery": str(i)},
                    )
                    return r.status_code

                async def reader() -> None:
                    for _ in range(10):
                        started = time.monotonic()
                        r = await client.get(s.url + "/feeds/atom.xml")
                        assert r.status_code == 200
                        get_times.append(time.monotonic() - started)
                        await asyncio.sleep(0.05)

                codes = await asyncio.gather(*(one(i) for i in range(100)))
                # the build is held now: reads must not wait for it (timed apart from the
                # storm itself, whose 100 requests a GET would queue behind on a busy CI core)
                await reader()
                return list(codes)

        codes = asyncio.run(storm())
        assert codes == [202] * 100
        mid = s.status()
        assert mid["running"] and mid["queued"] and mid["runs"] == 1  # answered at once
        assert max(get_times) < 1.0
        gate.write_bytes(b"")
        status = s.settle(timeout=30)
        assert status["runs"] == 2
        assert status["last"]["ok"] and not status["running"] and not status["queued"]
        assert titles(s) == ["风暴", "切实提高"]


# -- events that mean a push (#18.6) ------------------------------------------------------------
PUSH_MAIN = b'{"ref":"refs/heads/main","commits":[]}'
PUSH_DEV = b'{"ref":"refs/heads/dev","commits":[]}'
GITEA = {"X-Gitea-Event": "push", "X-GitHub-Event": "push", "X-Gogs-Event": "push"}


@pytest.mark.parametrize(
    ("headers", "body", "branches", "build", "reason"),
    [
        ({"X-GitHub-Event": "push"}, PUSH_MAIN, None, True, "push"),
        ({"X-Gitlab-Event": "Push Hook"}, PUSH_MAIN, None, True, "push"),
        (GITEA, PUSH_MAIN, None, True, "push"),
        ({"X-Forgejo-Event": "push", "X-Gitea-Event": "push"}, PUSH_MAIN, None, True, "push"),
        ({}, b"", None, True, "no event named"),  # the Bearer form, curl
        ({}, b"", ("main",), True, "no event named"),
        ({}, PUSH_DEV, ("main",), False, "refs/heads/dev is not in webhook.branches"),
        ({"X-GitHub-Event": "ping"}, b"{}", None, False, "the 'ping' event is not a push"),
        ({"X-GitHub-Event": "issues"}, b"{}", None, False, "the 'issues' event is not a push"),
        ({"X-Gitlab-Event": "Tag Push Hook"}, b"{}", None, False, "is not a push"),
        ({"X-Gitlab-Event": "Merge Request Hook"}, b"{}", None, False, "is not a push"),
        ({"X-GitHub-Event": "push"}, PUSH_MAIN, ("main",), True, "push to main"),
        ({"X-GitHub-Event": "push"}, PUSH_DEV, ("main", "release"), False, "refs/heads/dev"),
        ({"X-Gitlab-Event": "Push Hook"}, PUSH_DEV, ("dev",), True, "push to dev"),
        (GITEA, b'{"ref":"refs/tags/main"}', ("main",), False, "refs/tags/main is not in"),
        ({"X-GitHub-Event": "push"}, b"not json", ("main",), False, "names no ref"),
        ({"X-GitHub-Event": "push"}, b"[1, 2]", ("main",), False, "names no ref"),
        # GitHub's form content type: payload=<the JSON, form-encoded>
        (
            {"X-GitHub-Event": "push"},
            b"payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D",
            ("main",),
            True,
            "push to main",
        ),
    ],
)
def test_decide_builds_on_pushes_only(headers, body, branches, build, reason):
    decision = webhook.decide(headers, body, branches)
    assert decision.build is build
    assert reason in decision.reason


def test_a_refused_proof_names_the_headers_it_checked():
    secret = SECRET.encode()
    assert webhook.check(secret, b"", {"X-Gitlab-Token": "wrong"}).problem() == (
        "X-Gitlab-Token does not match the secret"
    )
    both = {"X-Hub-Signature-256": "sha256=00", "X-Gitea-Signature": "00"}
    assert webhook.check(secret, b"", both).problem() == (
        "X-Hub-Signature-256 and X-Gitea-Signature do not match the secret"
    )
    assert webhook.check(secret, b"", {}).problem() == (
        "no X-Hub-Signature-256, X-Gitea-Signature, X-Gitlab-Token or Authorization: Bearer header"
    )
    assert webhook.check(secret, b"", {"X-Gitlab-Token": SECRET}).problem() == ""


def test_only_pushes_to_the_given_branches_build_over_http(make_site):
    site = small_site(make_site, webhook={"branches": ["main"]})
    with serve_site(site.config) as s:
        ignored = [
            s.hook(PUSH_DEV, X_GitHub_Event="push"),
            s.hook(b'{"action":"opened"}', X_GitHub_Event="issues"),
            s.client.post(
                s.url + "/webhook",
                content=PUSH_DEV,
                headers={"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook"},
            ),
        ]
        for r in ignored:
            assert r.status_code == 202
            assert r.json()["result"] == "ignored" and r.json()["build"] == "none"
        assert ignored[1].json()["event"] == "issues"
        assert s.status()["runs"] == 0
        site.post("2022-03-08-NW2.md", {"title": "新的一篇", "date": "2022-03-08 09:00:00 +0800"})
        gitlab = {"X-Gitlab-Token": SECRET, "X-Gitlab-Event": "Push Hook"}
        r = s.client.post(s.url + "/webhook", content=PUSH_MAIN, headers=gitlab)
        assert r.status_code == 202 and r.json()["result"] == "accepted"
        assert s.settle()["runs"] == 1
        assert titles(s) == ["新的一篇", "切实提高"]
        bearer = {"Authorization": f"Bearer {SECRET}"}  # no event: asks for a build
        r = s.client.post(s.url + "/webhook", content=b"", headers=bearer)
        assert r.status_code == 202 and r.json()["build"] == "started"
        assert s.settle()["runs"] == 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("main", "webhook.branches: expected a list of strings"),
        ([], "webhook.branches: expected a list of branch names such as [main]"),
        ([""], "webhook.branches: expected a list of branch names such as [main]"),
        ([["main"]], "webhook.branches: expected a list of strings"),
    ],
)
def test_bad_branches_exit_2_naming_the_key(make_site, value, message):
    from click.testing import CliRunner

    from feedwright.cli import cli

    site = small_site(make_site)
    site.settings["webhook"] = {"branches": value}
    site.save()
    result = CliRunner().invoke(cli, ["check", "--config", str(site.config_path)])
    assert result.exit_code == 2
    assert f"config.yaml: {message}" in result.stderr
