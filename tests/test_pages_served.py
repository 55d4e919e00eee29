"""Pages served by ``feedwright serve`` (#10): a folder URL answers with its ``index.html``,
the URL without the slash redirects to it; and a real browser (headless Debian Chromium,
installed by ``.ci/run``) reads a page from a real ``feedwright serve``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import procs
import pytest
from conftest import parse_page
from live import ENV, raw_get, serve_site, wait_until
from lxml import html as lxml_html
from test_pages import alternates, text

TAG = "株洲 & <R&D>"
TAG_SLUG = "株洲-r-d"
TAG_PATH = "/feeds/tags/" + quote(TAG_SLUG) + "/"
TITLES = ["株洲新闻：1 < 2 & R&D", 'He said "hi" </script>', "第三篇"]
CHROMIUM = os.environ.get("FEEDWRIGHT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
#: Marks every process of one Chromium run (its helpers inherit the environment).
BROWSER_MARK = "FEEDWRIGHT_BROWSER_RUN"


def news_site(make_site: Any) -> Any:
    site = make_site()
    for i, title in enumerate(TITLES):
        site.post(
            f"2022-03-0{7 + i}-p{i}.md",
            {"title": title, "date": f"2022-03-0{7 + i} 08:30:00 +0800", "tags": [TAG]},
            f"<p>第{i}篇的正文。</p>",
        )
    return site


def test_a_folder_answers_with_its_page_and_redirects_to_its_slash(make_site):
    site = news_site(make_site)
    site.build()
    with serve_site(site.config) as s:
        r = s.get(TAG_PATH)
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.content == site.read(f"tags/{TAG_SLUG}/index.html")
        assert "link" not in r.headers  # no WebSub topic
        assert s.get(TAG_PATH, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
        assert s.get(TAG_PATH + "index.html").content == r.content
        head = s.client.head(s.url + TAG_PATH)
        assert head.status_code == 200 and head.content == b""
        moved = s.get(TAG_PATH.rstrip("/"))
        assert moved.status_code == 301
        assert moved.headers["location"] == TAG_PATH
        assert s.get(TAG_PATH.rstrip("/"), follow_redirects=True).content == r.content
        # The site's page at the output folder's URL; the server's own list stays at /.
        home = s.get("/feeds/")
        assert home.content == site.read("index.html")
        assert s.get("/feeds", follow_redirects=True).content == home.content
        # Its URL without the slash moves for good, like any folder's (#19.5).
        for method in ("GET", "HEAD"):
            bare = s.client.request(method, s.url + "/feeds?x=1")
            assert bare.status_code == 301 and bare.headers["location"] == "/feeds/"
        assert "No feeds" not in s.get("/").text
        # Folders without a page, and every way out of the output folder, are 404.
        outside = site.root / "outside"
        outside.mkdir()
        (outside / "index.html").write_text("<!DOCTYPE html>\n<title>secret</title>\n", "utf-8")
        (site.out / "tags" / "linked").symlink_to(outside)
        (site.out / ".feedwright" / "index.html").write_text("secret", "utf-8")
        for target in (
            "/feeds/tags/",
            "/feeds/tags",
            "/feeds/nope/",
            "/feeds/.feedwright/",
            "/feeds/.feedwright",
            "/feeds/tags/linked/",
            "/feeds/tags/linked",
            "/feeds/../outside/",
            "/feeds/tags/../../outside/",
            "/feeds/tags/%2E%2E/%2E%2E/outside/",
            "/feeds/tags/..%2F..%2Foutside",
            "/feeds/%2Efeedwright/",
            "/feeds//",
        ):
            status, body = raw_get(s.url, target)
            assert status in (400, 404), (target, status)
            assert b"secret" not in body, target


def test_without_pages_the_folder_url_is_the_servers_list(make_site):
    site = news_site(make_site)
    site.settings["feeds"] = {"pages": False}
    site.save()
    site.build()
    with serve_site(site.config) as s:
        assert s.get(TAG_PATH).status_code == 404
        assert s.get(TAG_PATH.rstrip("/")).status_code == 404
        assert s.get("/feeds/").content == s.get("/").content


# -- a real browser ----------------------------------------------------------------------------
def chromium(args: list[str], profile: Path, timeout: float = 90) -> str:
    """Run headless Chromium to completion and return its standard output; no process
    of it outlives this call (they are found by an environment marker and killed)."""
    if os.environ.get("FEEDWRIGHT_SKIP_BROWSER") == "1":
        pytest.skip("FEEDWRIGHT_SKIP_BROWSER=1")
    assert os.path.exists(CHROMIUM), "install Chromium: apt-get install -y chromium"
    mark = uuid.uuid4().hex
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = {**os.environ, BROWSER_MARK: mark, "HOME": str(profile)}
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        left = procs.survivors(lambda: procs.marked(BROWSER_MARK, mark), timeout=5)
        procs.kill(left)
    assert not left, "Chromium left processes behind:\n" + procs.describe(left)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode("utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_browser_reads_a_page_served_by_feedwright_serve(make_site, tmp_path):
    site = news_site(make_site)
    port = free_port()
    env = {**os.environ, **ENV, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "feedwright", "serve", "--config", str(site.config_path)]
    server = subprocess.Popen(
        [*cmd, "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(trust_env=False, timeout=5) as client:

            def built() -> bool:
                try:
                    return client.get(base + "/status").json()["runs"] >= 1
                except httpx.TransportError:
                    return False

            wait_until(built, timeout=30, step=0.1)
        # The folder URL without its slash: the browser follows the redirect.
        url = base + TAG_PATH.rstrip("/")
        dom = chromium(["--dump-dom", url], tmp_path / "profile-dom")
        shot = tmp_path / "page.png"
        chromium(
            ["--hide-scrollbars", "--window-size=412,1600", f"--screenshot={shot}", url],
            tmp_path / "profile-shot",
        )
    finally:
        server.terminate()
        server.communicate(timeout=20)
    doc = parse_page(dom.encode("utf-8"), "the rendered DOM")  # no script ran, nothing added
    shown = text(doc)
    title = f"测试站 · {TAG}"
    assert doc.find(".//title").text == title and doc.find(".//h1").text == title
    assert [a.text for a in doc.findall(".//ol/li/h3/a")] == list(reversed(TITLES))
    public = "https://news.example" + TAG_PATH
    for name in ("atom.xml", "rss.xml", "feed.json"):  # shown as the IRI, linked as the URI
        assert f"https://news.example/feeds/tags/{TAG_SLUG}/{name}" in shown
        assert public + name not in shown
        assert public + name in [a.get("href") for a in doc.iter("a")]
    assert "feeds.opml" in shown and "订阅" in shown
    assert [href for _t, _title, href in alternates(doc)] == [
        public + "atom.xml",
        public + "rss.xml",
        public + "feed.json",
    ]
    # What the browser shows is the file feedwright wrote, not markup made of the titles.
    written = lxml_html.fromstring(site.read(f"tags/{TAG_SLUG}/index.html"))
    assert not written.xpath("//script") and not doc.findall(".//script")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
