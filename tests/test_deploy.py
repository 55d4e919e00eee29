"""The deployment files in ``deploy/`` (#11), checked by the tools that will read them.

- ``feedwright.service``: ``systemd-analyze verify`` (where it exists), on a copy whose
  ``ExecStart`` is this checkout's ``feedwright`` (verify wants the binary to exist);
- ``nginx.conf`` and ``nginx-static.conf``: ``nginx -t`` (where nginx is installed), on
  copies with a throw-away certificate and paths under ``tmp_path``; and the static one
  run for real, serving a built output folder with each feed's exact media type;
- ``Dockerfile``: no Docker engine here, so its pieces are checked, and its HEALTHCHECK
  command is run against a real ``feedwright serve``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import parse_feed
from served import free_port, seed, serving, stop

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FEEDWRIGHT = Path(sys.executable).with_name("feedwright")


def unit_settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_has_what_the_issue_asks():
    unit = unit_settings((DEPLOY / "feedwright.service").read_text("utf-8"))
    assert unit["Type"] == ["exec"]
    assert unit["DynamicUser"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["ReadWritePaths"] == ["/var/lib/feedwright"]
    assert unit["EnvironmentFile"] == ["/etc/feedwright/feedwright.env"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    # The stop timeout leaves feedwright its own shutdown_timeout (20 s by default).
    assert int(unit["TimeoutStopSec"][0].rstrip("s")) > 20
    argv = shlex.split(unit["ExecStart"][0])
    assert argv[1:3] == ["serve", "--config"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_unit(tmp_path):
    text = (DEPLOY / "feedwright.service").read_text("utf-8")
    assert FEEDWRIGHT.exists()
    copy = tmp_path / "feedwright.service"
    copy.write_text(text.replace("/opt/feedwright/bin/feedwright", str(FEEDWRIGHT)), "utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 on unknown keys and bad values too, but says so: nothing may be said.
    said = [line for line in result.stderr.splitlines() if "feedwright.service" in line]
    assert result.returncode == 0 and said == [], result.stderr
    # And it can fail: a broken copy is caught, so the check above means something.
    broken = tmp_path / "broken.service"
    broken.write_text(copy.read_text("utf-8").replace("Type=exec", "Type=exex"), "utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert "Failed to parse service type" in result.stderr


def test_the_units_command_line_is_accepted(tmp_path):
    """ExecStart's arguments are ones ``feedwright serve`` takes (a config error, exit 2,
    not a usage error about an unknown option)."""
    argv = shlex.split(unit_settings((DEPLOY / "feedwright.service").read_text())["ExecStart"][0])
    missing = tmp_path / "config.yaml"
    args = [a if a != "/etc/feedwright/config.yaml" else str(missing) for a in argv[1:]]
    result = subprocess.run(
        [sys.executable, "-m", "feedwright", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "No such option" not in result.stderr and "config.yaml" in result.stderr


# -- nginx --------------------------------------------------------------------------------------
needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
    reason="nginx is not installed",
)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")


def nginx_copy(name: str, tmp: Path, out: Path, https_port: int, http_port: int) -> Path:
    """A whole nginx config around ``deploy/<name>``: throw-away certificate, its folders
    under ``tmp``, ports on loopback, and feedwright's address left as it is."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=feeds.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    site = (DEPLOY / name).read_text("utf-8")
    site = site.replace("/etc/letsencrypt/live/feeds.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/feeds.example.org/privkey.pem", str(key))
    site = site.replace("/var/lib/feedwright/feeds/", f"{out}/")
    site = site.replace("/var/www/letsencrypt", str(tmp / "acme"))
    site = re.sub(r"listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    (tmp / "site.conf").write_text(site, "utf-8")
    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    main = tmp / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process off;\nerror_log {logs}/error.log;\npid {tmp}/nginx.pid;\n"
        f"events {{}}\nhttp {{\n  include {MIME_TYPES};\n  access_log {logs}/access.log;\n"
        f"  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n"
        f"  scgi_temp_path {tmp}/scgi;\n  include {tmp}/site.conf;\n}}\n",
        "utf-8",
    )
    return main


@needs_nginx
@pytest.mark.parametrize("name", ["nginx.conf", "nginx-static.conf"])
def test_nginx_accepts_the_configs(tmp_path, name):
    main = nginx_copy(name, tmp_path, tmp_path / "out", free_port(), free_port())
    result = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@needs_nginx
def test_nginx_serves_the_feeds_from_disk_with_exact_media_types(make_site, tmp_path):
    site = seed(make_site)
    site.build()
    port = free_port()
    nginx = tmp_path / "nginx"
    nginx.mkdir()
    main = nginx_copy("nginx-static.conf", nginx, site.out, port, free_port())
    with (nginx / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(
            [NGINX, "-p", str(nginx), "-c", str(main)], stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        context = ssl.create_default_context(cafile=str(nginx / "cert.pem"))
        context.check_hostname = False
        with httpx.Client(verify=context, trust_env=False, timeout=5) as client:
            base = f"https://127.0.0.1:{port}/feeds/"
            deadline = time.monotonic() + 15
            while True:
                try:
                    first = client.get(base + "atom.xml")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None, (nginx / "stderr.txt").read_text()
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.05)
            expected = {
                "atom.xml": "application/atom+xml; charset=utf-8",
                "rss.xml": "application/rss+xml; charset=utf-8",
                "feed.json": "application/feed+json; charset=utf-8",
                "feeds.opml": "text/x-opml; charset=utf-8",
                "tags/株洲/atom.xml": "application/atom+xml; charset=utf-8",
            }
            assert first.status_code == 200
            for relpath, media_type in expected.items():
                response = client.get(base + relpath)
                assert response.status_code == 200, relpath
                assert response.headers["content-type"] == media_type, relpath
                assert response.content == (site.out / relpath).read_bytes()
                copy = tmp_path / Path(relpath).name
                copy.write_bytes(response.content)
                parse_feed(copy)
            again = client.get(base + "atom.xml", headers={"if-none-match": first.headers["etag"]})
            assert again.status_code == 304
            for hidden in (".feedwright/manifest", ".feedwright/cache.sqlite"):
                assert client.get(base + hidden).status_code == 404
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- Docker -------------------------------------------------------------------------------------
def dockerfile() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    text = (DEPLOY / "Dockerfile").read_text("utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def test_the_dockerfile_is_slim_non_root_and_serves():
    d = dockerfile()
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", d["FROM"][-1].split()[0])
    user = d["USER"][-1]
    assert user not in ("root", "0") and not user.startswith("0:")
    assert json.loads(d["ENTRYPOINT"][-1]) == ["feedwright", "serve"]
    assert "/status" in d["HEALTHCHECK"][-1]


def test_the_dockerfile_healthcheck_passes_on_a_live_server_and_fails_without(make_site):
    check = dockerfile()["HEALTHCHECK"][-1]
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    site = seed(make_site)
    with serving(site) as served:
        port = served.url.rsplit(":", 1)[1]
        env = {**os.environ, "FEEDWRIGHT_PORT": port}
        ok = subprocess.run([sys.executable, *command[1:]], env=env, timeout=30)
        assert ok.returncode == 0
        assert stop(served) == 0
    env = {**os.environ, "FEEDWRIGHT_PORT": str(free_port())}
    down = subprocess.run([sys.executable, *command[1:]], env=env, timeout=30)
    assert down.returncode != 0
