"""Read ``config.yaml`` once, at the boundary, into a frozen, validated :class:`Config`.

No business logic lives here: only shape, types and path resolution. Every error
is a :class:`~feedwright.errors.ConfigError` naming the key path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytz
import yaml

from .errors import ConfigError
from .model import Author
from .urls import iri_to_uri

FORMATS = ("atom", "rss", "json")
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}


@dataclass(frozen=True, slots=True)
class SiteConfig:
    #: Site title; feed titles of groups are ``<title> · <name>``.
    title: str
    #: Absolute ``http(s)`` URL of the site, without a trailing slash.
    url: str
    #: Feed subtitle / description.
    description: str
    #: Default author of every entry.
    author: Author
    #: Language tag such as ``zh-CN``, or ``None``.
    language: str | None
    #: IANA time zone name for naive dates.
    timezone: str


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    formats: tuple[str, ...]
    limit: int
    #: ``True`` for every category, ``False`` for none, or the names to publish.
    categories: bool | tuple[str, ...]
    tags: bool | tuple[str, ...]
    #: ``full`` or ``summary``.
    content: str
    category_page: str
    tag_page: str


@dataclass(frozen=True, slots=True)
class WebSubConfig:
    hubs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    #: Name of the environment variable holding the secret.
    secret_env: str
    #: URL path of the webhook route.
    path: str
    #: A command (no shell) run before each webhook-triggered build, or ``None``.
    before_build: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    #: ``Cache-Control: max-age`` for feeds, in seconds.
    max_age: int


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration. Paths are absolute."""

    #: The config file it was read from (for messages).
    file: str
    site: SiteConfig
    source: Path
    output: Path
    #: Public URL of the output folder, percent-encoded, ending in ``/``.
    feeds_url: str
    #: Permalink template (a named style already expanded).
    permalink: str
    future: bool
    feeds: FeedsConfig
    websub: WebSubConfig
    webhook: WebhookConfig
    server: ServerConfig


class _Reader:
    """Pulls typed values out of a mapping, naming the key path on error."""

    def __init__(self, file: str, data: Mapping[str, Any], prefix: str = "") -> None:
        self.file = file
        self.data = data
        self.prefix = prefix
        self.used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.file, self.path(key), message)

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        value = self.data.get(key, default)
        return default if value is None else value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str:
        if required and self.data.get(key) is None:
            raise self.fail(key, "is required")
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(key, f"expected a string, got {_show(value)}")
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_show(value)}")
        return value

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {_show(value)}")
        if value < minimum:
            raise self.fail(key, f"expected an integer ≥ {minimum}, got {value}")
        return value

    def strings(self, key: str, default: list[str]) -> tuple[str, ...]:
        value = self.get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            raise self.fail(key, f"expected a list of strings, got {_show(value)}")
        return tuple(str(v) for v in value)

    def section(self, key: str) -> _Reader:
        value = self.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {_show(value)}")
        return _Reader(self.file, value, f"{self.path(key)}.")

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                raise self.fail(str(key), "unknown key")


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_config(
    path: str | os.PathLike[str], *, source: str | None = None, output: str | None = None
) -> Config:
    """Read and validate ``path``; ``source``/``output`` override the file's values."""
    file = os.fspath(path)
    name = os.path.basename(file)
    try:
        with open(file, "rb") as f:
            raw = f.read(1 << 20)
    except OSError as e:
        raise ConfigError(file, "", f"cannot read the config file: {e.strerror}") from e
    try:
        data = yaml.load(raw.decode("utf-8-sig"), Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as e:
        raise ConfigError(name, "", f"not valid YAML: {_one_line(e)}") from e
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(name, "", f"expected a mapping at the top level, got {_show(data)}")
    return parse_config(
        data, base=Path(file).resolve().parent, name=name, source=source, output=output
    )


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


def parse_config(
    data: Mapping[str, Any],
    *,
    base: Path,
    name: str = "config.yaml",
    source: str | None = None,
    output: str | None = None,
) -> Config:
    """Validate an already-loaded mapping. Relative paths resolve against ``base``."""
    top = _Reader(name, data)
    site = _site(top.section("site"))
    file_source, file_output = top.text("source", "."), top.text("output", "feeds")
    src = base / (source if source is not None else file_source)
    out = base / (output if output is not None else file_output)
    feeds_url = top.text("feeds_url", site.url + "/feeds/")
    _check_url(top, "feeds_url", feeds_url)
    if not feeds_url.endswith("/"):
        feeds_url += "/"
    permalink = top.text("permalink", "date")
    permalink = PERMALINK_STYLES.get(permalink, permalink)
    if not permalink.startswith("/"):
        raise top.fail(
            "permalink",
            f"expected a style ({', '.join(PERMALINK_STYLES)}) "
            f"or a template starting with '/', got {permalink!r}",
        )
    config = Config(
        file=name,
        site=site,
        source=src.resolve(),
        output=out.resolve(),
        feeds_url=iri_to_uri(feeds_url),
        permalink=permalink,
        future=top.boolean("future", False),
        feeds=_feeds(top.section("feeds")),
        websub=_websub(top.section("websub")),
        webhook=_webhook(top.section("webhook")),
        server=_server(top.section("server")),
    )
    top.finish()
    return config


def _check_url(r: _Reader, key: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise r.fail(key, f"expected an absolute http(s) URL, got {value!r}")


def _site(r: _Reader) -> SiteConfig:
    url = r.text("url", required=True).rstrip("/")
    _check_url(r, "url", url)
    title = r.text("title", "")
    tz = r.text("timezone", "UTC")
    try:
        pytz.timezone(tz)
    except pytz.UnknownTimeZoneError as e:
        raise r.fail("timezone", f"expected an IANA time zone name, got {tz!r}") from e
    author = _author(r, title)
    language = r.text("language", "") or None
    site = SiteConfig(
        title=title or urlsplit(url).netloc,
        url=iri_to_uri(url),
        description=r.text("description", ""),
        author=author,
        language=language,
        timezone=tz,
    )
    r.finish()
    return site


def _author(r: _Reader, site_title: str) -> Author:
    value = r.get("author")
    if value is None:
        return Author(name=site_title or "unknown")
    if isinstance(value, str):
        return Author(name=value)
    if not isinstance(value, Mapping):
        raise r.fail("author", f"expected a name or a mapping, got {_show(value)}")
    a = _Reader(r.file, value, r.path("author") + ".")
    author = Author(
        name=a.text("name", required=True),
        email=a.text("email", "") or None,
        uri=a.text("uri", "") or None,
    )
    a.finish()
    return author


def _selection(r: _Reader, key: str) -> bool | tuple[str, ...]:
    value = r.data.get(key, True)
    if isinstance(value, bool):
        r.used.add(key)
        return value
    return r.strings(key, [])


def _feeds(r: _Reader) -> FeedsConfig:
    formats = r.strings("formats", list(FORMATS))
    for f in formats:
        if f not in FORMATS:
            raise r.fail("formats", f"expected some of {', '.join(FORMATS)}, got {f!r}")
    content = r.text("content", "full")
    if content not in ("full", "summary"):
        raise r.fail("content", f"expected 'full' or 'summary', got {content!r}")
    feeds = FeedsConfig(
        formats=tuple(dict.fromkeys(formats)),
        limit=r.integer("limit", 20, 1),
        categories=_selection(r, "categories"),
        tags=_selection(r, "tags"),
        content=content,
        category_page=r.text("category_page", "/category/:slug.html"),
        tag_page=r.text("tag_page", "/tag/:slug.html"),
    )
    r.finish()
    return feeds


def _websub(r: _Reader) -> WebSubConfig:
    hubs = r.strings("hubs", [])
    for hub in hubs:
        _check_url(r, "hubs", hub)
    r.finish()
    return WebSubConfig(hubs=tuple(iri_to_uri(h) for h in hubs))


def _webhook(r: _Reader) -> WebhookConfig:
    path = r.text("path", "/webhook")
    if not path.startswith("/"):
        raise r.fail("path", f"expected a path starting with '/', got {path!r}")
    before: tuple[str, ...] | None = None
    if r.data.get("before_build") is not None:
        before = r.strings("before_build", [])
        if not before:
            raise r.fail("before_build", "expected a non-empty list (a command and arguments)")
    r.used.add("before_build")
    hook = WebhookConfig(
        secret_env=r.text("secret_env", "FEEDWRIGHT_WEBHOOK_SECRET"), path=path, before_build=before
    )
    r.finish()
    return hook


def _server(r: _Reader) -> ServerConfig:
    server = ServerConfig(max_age=r.integer("max_age", 300, 0))
    r.finish()
    return server
