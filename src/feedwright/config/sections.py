"""The ``site``, ``websub``, ``webhook``, ``hooks`` and ``server`` sections, each read and
checked into its frozen type (``feeds`` is :mod:`.feeds`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pytz

from ..language import language_tag
from ..model import Author
from ..urls import iri_to_uri
from .reader import Reader, show
from .types import (
    MARKDOWN_EXT,
    HooksConfig,
    ServerConfig,
    SiteConfig,
    WebhookConfig,
    WebSubConfig,
)

_EXT = re.compile(r"^[a-z0-9]+$")


def check_url(r: Reader, key: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise r.fail(key, f"expected an absolute http(s) URL, got {value!r}")


def check_base(r: Reader, key: str, value: str) -> None:
    """A URL other URLs are made from (``site.url``, ``feeds_url``): no query, fragment or
    white space, a valid port."""
    check_url(r, key, value)
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    problems = {
        "a query (?…)": bool(parts.query) or value.endswith("?"),
        "a fragment (#…)": "#" in value,
        "white space": any(c.isspace() for c in value),
        "a port that is not a number 1–65535": port in (-1, 0),
    }
    wrong = next((what for what, found in problems.items() if found), None)
    if wrong is not None:
        raise r.fail(key, f"expected a URL without {wrong}, got {value!r}")


def site_config(r: Reader) -> SiteConfig:
    url = r.text("url", required=True).rstrip("/")
    check_base(r, "url", url)
    title = r.text("title", "")
    tz = r.text("timezone", "UTC")
    try:
        pytz.timezone(tz)
    except pytz.UnknownTimeZoneError as e:
        raise r.fail("timezone", f"expected an IANA time zone name, got {tz!r}") from e
    author = _author(r, title)
    language = _language(r)
    site = SiteConfig(
        title=title or urlsplit(url).netloc,
        url=iri_to_uri(url + _baseurl(r)),
        description=r.text("description", ""),
        author=author,
        language=language,
        timezone=tz,
        timezone_configured=r.data.get("timezone") is not None,
        markdown_ext=_markdown_ext(r),
    )
    return site


def _language(r: Reader) -> str | None:
    """``site.language`` (Jekyll's ``lang``) as a BCP 47 tag: ``zh_CN`` is ``zh-CN``."""
    value = r.text("language", "")
    if not value:
        return None
    tag = language_tag(value)
    if tag is None:
        raise r.fail("language", f"expected a BCP 47 language tag such as zh-CN, got {value!r}")
    return tag


def _baseurl(r: Reader) -> str:
    """Jekyll's ``baseurl``: the path the site lives under, as ``/blog`` (or ``""``)."""
    value = r.text("baseurl", "").strip().strip("/")
    if any(c in value for c in "?#:\\") or any(p in (".", "..") for p in value.split("/")):
        raise r.fail("baseurl", f"expected a path such as /blog, got {value!r}")
    return "/" + value if value else ""


def _markdown_ext(r: Reader) -> tuple[str, ...]:
    """Jekyll's ``markdown_ext``: ``"md,markdown"`` (Jekyll's form) or a list."""
    value = r.get("markdown_ext", ",".join(MARKDOWN_EXT))
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, list):
        exts = [v.strip().lstrip(".").lower() if isinstance(v, str) else "" for v in items]
        if exts and all(_EXT.match(e) for e in exts):
            return tuple(dict.fromkeys(exts))
    raise r.fail("markdown_ext", f"expected extensions such as 'md,markdown', got {show(value)}")


def _author(r: Reader, site_title: str) -> Author:
    value = r.get("author")
    if value is None:
        return Author(name=site_title or "unknown")
    if isinstance(value, str):
        return Author(name=value)
    if not isinstance(value, Mapping):
        raise r.fail("author", f"expected a name or a mapping, got {show(value)}")
    a = Reader(r.ctx, value, r.path("author") + ".")
    author = Author(
        name=a.text("name", required=True),
        email=a.text("email", "") or None,
        uri=a.text("uri", "") or None,
    )
    return author


def websub_config(r: Reader) -> WebSubConfig:
    hubs = r.strings("hubs", [])
    for hub in hubs:
        check_url(r, "hubs", hub)
    return WebSubConfig(hubs=tuple(iri_to_uri(h) for h in hubs))


def webhook_config(r: Reader) -> WebhookConfig:
    path = r.text("path", "/webhook")
    if not path.startswith("/"):
        raise r.fail("path", f"expected a path starting with '/', got {path!r}")
    before: tuple[str, ...] | None = None
    if r.data.get("before_build") is not None:
        before = r.strings("before_build", [])
        if not before:
            raise r.fail("before_build", "expected a non-empty list (a command and arguments)")
    r.used.add("before_build")
    branches: tuple[str, ...] | None = None
    if r.data.get("branches") is not None:
        branches = r.strings("branches", [])
        if not branches or not all(b.strip() for b in branches):
            raise r.fail(
                "branches",
                "expected a list of branch names such as [main] (leave it out: every push builds)",
            )
    r.used.add("branches")
    hook = WebhookConfig(
        secret_env=r.text("secret_env", "FEEDWRIGHT_WEBHOOK_SECRET"),
        path=path,
        before_build=before,
        branches=branches,
    )
    return hook


def hooks_config(r: Reader, base: Path) -> HooksConfig:
    after: tuple[str, ...] | None = None
    if r.data.get("after_build") is not None:
        after = r.strings("after_build", [])
        if not after or not after[0]:
            raise r.fail("after_build", "expected a non-empty list (a command and arguments)")
    r.used.add("after_build")
    return HooksConfig(after_build=after, timeout=r.seconds("timeout", 60.0), folder=base)


def server_config(r: Reader) -> ServerConfig:
    host = r.text("host", "127.0.0.1")
    if not host or any(c.isspace() for c in host):
        raise r.fail("host", f"expected a host name or address, got {host!r}")
    port = r.integer("port", 8000, 0)
    if port > 65535:
        raise r.fail("port", f"expected a port number 0–65535, got {port}")
    return ServerConfig(
        max_age=r.integer("max_age", 300, 0),
        host=host,
        port=port,
        shutdown_timeout=r.seconds("shutdown_timeout", 20.0),
        read_timeout=r.seconds("read_timeout", 15.0),
        max_connections=r.integer("max_connections", 1000, 1),
        metrics=r.boolean("metrics", False),
        status_details=r.boolean("status_details", False),
    )
