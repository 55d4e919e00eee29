"""Read ``config.yaml`` once, at the boundary, into a frozen, validated :class:`Config`.

No business logic lives here: only shape, types and path resolution. When the source
folder is a Jekyll site, its ``_config.yml`` gives the defaults that ``config.yaml``
overrides key by key (:mod:`feedwright.jekyll`). Every error is a
:class:`~feedwright.errors.ConfigError` naming the file and key path the value came from.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import pytz
import yaml

from . import jekyll
from .errors import ConfigError, OptionError
from .language import language_tag
from .model import Author, Format, GroupKind
from .permalink import unknown_placeholders
from .urls import iri_to_uri
from .yamlerrors import Keyed, describe_yaml_error, load_keyed

FORMATS = ("atom", "rss", "json")
#: Values of ``feeds.images``.
IMAGES = ("front_matter", "first")
#: Extensions of Markdown posts unless ``site.markdown_ext`` (Jekyll's ``markdown_ext``) says.
MARKDOWN_EXT = ("md", "markdown")
#: Extensions of HTML posts (always posts).
HTML_EXT = ("html", "htm")
#: Where ``GET /metrics`` answers when ``server.metrics`` is on.
METRICS_PATH = "/metrics"
#: The longest timeout a setting may give, in seconds (a day).
MAX_SECONDS = 86400
SECONDS = f"expected a number of seconds above 0 and at most {MAX_SECONDS} (a day)"
_EXT = re.compile(r"^[a-z0-9]+$")
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
    #: The site's home: absolute ``http(s)`` URL with the ``baseurl`` path, no trailing slash.
    url: str
    #: Feed subtitle / description.
    description: str
    #: Default author of every entry.
    author: Author
    #: Language tag such as ``zh-CN``, or ``None``.
    language: str | None
    #: IANA time zone name for naive dates.
    timezone: str
    #: Whether a time zone was set (in ``config.yaml`` or ``_config.yml``) or is the default.
    timezone_configured: bool = True
    #: Extensions of Markdown posts, lower-case, without the dot (Jekyll's ``markdown_ext``).
    markdown_ext: tuple[str, ...] = MARKDOWN_EXT


@dataclass(frozen=True, slots=True)
class FeedPolicy:
    """Which categories (or tags) get feeds, when ``feeds.categories``/``feeds.tags`` is a
    mapping. The rule itself is :func:`feedwright.group.excluded_groups`."""

    #: Only groups with at least this many (visible) posts get feeds.
    min_posts: int = 1
    #: Only these names or slugs (``None``: every group).
    only: tuple[str, ...] | None = None
    #: Never these names or slugs.
    except_: tuple[str, ...] = ()
    #: Only the this many largest groups (``None``: no cap).
    max_feeds: int | None = None
    #: Posts per feed of this kind (``None``: ``feeds.limit``).
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    formats: tuple[Format, ...]
    limit: int
    #: ``True`` for every category, ``False`` for none, or the names to publish.
    categories: bool | tuple[str, ...]
    tags: bool | tuple[str, ...]
    #: ``full`` or ``summary``.
    content: str
    #: Template of a category's page (``:slug``), or ``None``: its feed links to the home page.
    category_page: str | None
    #: Template of a tag's page (``:slug``), or ``None``: its feed links to the home page.
    tag_page: str | None
    #: Where an entry's picture comes from: ``front_matter`` (the post's ``image`` only) or
    #: ``first`` (else the first ``<img>`` of its content).
    images: str = "front_matter"
    #: Write an ``index.html`` page for people in every group's folder.
    pages: bool = True
    #: The policy of ``feeds.categories`` / ``feeds.tags`` when given as a mapping.
    category_policy: FeedPolicy | None = None
    tag_policy: FeedPolicy | None = None
    #: RFC 5005 archive documents per ``monthly`` or ``yearly`` period, or ``None`` (off).
    archives: str | None = None
    #: The one format ``feeds.opml`` lists each group's feed in (one of ``formats``;
    #: ``None`` when no format is configured).
    opml_format: Format | None = None
    #: The formats archives are written in (among ``formats``; Atom unless configured).
    archives_formats: tuple[Format, ...] = ("atom",)
    #: The kinds of group that have archives (the site and the categories unless
    #: configured); :func:`feedwright.layout.archive_formats` is the rule.
    archives_groups: tuple[GroupKind, ...] = ("site", "category")


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
    #: Only pushes to these branches build (``None``: every push).
    branches: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class HooksConfig:
    #: A command (no shell) that gets each build's change report on its standard input,
    #: after every build that wrote or removed a file; or ``None``.
    after_build: tuple[str, ...] | None = None
    #: Seconds a hook may run before it is stopped.
    timeout: float = 60.0
    #: Where hooks run: the config file's folder.
    folder: Path | None = None


@dataclass(frozen=True, slots=True)
class ServerConfig:
    #: ``Cache-Control: max-age`` for feeds, in seconds.
    max_age: int
    #: Address to listen on (``--host`` overrides it).
    host: str = "127.0.0.1"
    #: Port to listen on (``--port`` overrides it).
    port: int = 8000
    #: Seconds a SIGTERM/SIGINT waits for a running build before the process exits.
    shutdown_timeout: float = 20.0
    #: Seconds a client has to send its request headers and body; then it is disconnected.
    read_timeout: float = 15.0
    #: Most connections open at once; the next is refused (``503``, closed).
    max_connections: int = 1000
    #: Whether ``GET /metrics`` answers (Prometheus text format).
    metrics: bool = False
    #: Whether ``GET /status`` shows hook commands and their output.
    status_details: bool = False


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
    #: Settings given on the command line (``source``, ``output``): messages name the option.
    options: frozenset[str] = field(default_factory=frozenset)
    #: Commands run after builds (not part of what the build cache depends on).
    hooks: HooksConfig = field(default_factory=HooksConfig)
    #: What is odd but not wrong in the config files (``file:line: key: …``): a key given
    #: twice, a permalink ``:word`` that is no placeholder. Every build reports them.
    warnings: tuple[str, ...] = ()


def setting_error(config: Config, key: str, message: str) -> ConfigError:
    """An error about the ``source`` or ``output`` folder, naming where it was given: the
    option, the config key, or (Jekyll's ``_config.yml`` has no such key) just the file."""
    if key in config.options:
        return OptionError(f"--{key}", message)
    return ConfigError(config.file, "" if jekyll.is_jekyll_config(config.file) else key, message)


def setting_name(config: Config, key: str) -> str:
    """What to call a folder setting in advice: ``source`` if config.yaml gave it, else
    ``--source`` (the way to set it when it came from there, or when ``_config.yml`` is the
    only config file and has no such key)."""
    given_in_file = key not in config.options and not jekyll.is_jekyll_config(config.file)
    return key if given_in_file else f"--{key}"


class _Context:
    """What every reader of one config shares: where values came from, and what was read."""

    def __init__(
        self,
        file: str,
        origins: Mapping[str, tuple[str, str]] | None = None,
        lines: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.file = file
        #: Config key path → (file, key) for values that came from another file.
        self.origins = dict(origins or {})
        #: (file, key path in that file) → line of the key.
        self.lines = dict(lines or {})
        self.readers: list[_Reader] = []

    def origin(self, key_path: str) -> tuple[str, str]:
        """The file a value came from, and its key there."""
        parts = key_path.split(".")
        for cut in range(len(parts), 0, -1):
            origin = self.origins.get(".".join(parts[:cut]))
            if origin is not None:
                return origin[0], ".".join([origin[1], *parts[cut:]])
        return self.file, key_path

    def where(self, key_path: str) -> str:
        """``file:line: key`` of a value (``file: key`` when its line is not known)."""
        file, key = self.origin(key_path)
        line = self.lines.get((file, key))
        return f"{file}{'' if line is None else f':{line}'}: {key}"

    def error(self, key_path: str, message: str) -> ConfigError:
        return ConfigError(*self.origin(key_path), message)

    def check_unknown_keys(self) -> None:
        """An unknown key anywhere is an error, with the nearest known key as a hint."""
        known = [r.path(k) for r in self.readers for k in sorted(r.used)]
        for reader in self.readers:
            for key in reader.data:
                if key not in reader.used:
                    hint = _nearest(reader.path(str(key)), known)
                    raise reader.fail(str(key), "unknown key" + hint)


def _nearest(key_path: str, known: list[str]) -> str:
    """`` (did you mean feeds.limit?)`` for ``feeds.limt``; siblings first, then anywhere."""
    prefix, _, key = key_path.rpartition(".")
    siblings = [k for k in known if k.rpartition(".")[0] == prefix]
    for pool in (siblings, known):
        leaves = {k.rpartition(".")[2]: k for k in reversed(pool)}
        match = difflib.get_close_matches(key, list(leaves), n=1, cutoff=0.6)
        if match:
            return f" (did you mean {leaves[match[0]]}?)"
    return ""


class _Reader:
    """Pulls typed values out of a mapping, naming the key path on error."""

    def __init__(self, ctx: _Context, data: Mapping[str, Any], prefix: str = "") -> None:
        self.ctx = ctx
        self.data = data
        self.prefix = prefix
        self.used: set[str] = set()
        ctx.readers.append(self)

    def path(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def fail(self, key: str, message: str) -> ConfigError:
        return self.ctx.error(self.path(key), message)

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

    def seconds(self, key: str, default: float) -> float:
        """A number of seconds above 0 and at most :data:`MAX_SECONDS` (NaN, infinity and
        numbers too big for a timer are errors)."""
        value = self.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (0 < value <= MAX_SECONDS)
        ):
            raise self.fail(key, f"{SECONDS}, got {_show(value)}")
        return float(value)

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
        return _Reader(self.ctx, value, f"{self.path(key)}.")


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_yaml(file: str, name: str) -> Keyed:
    """A YAML file's top-level mapping and its keys' lines; errors name the file (and the
    line, for bad YAML)."""
    try:
        with open(file, "rb") as f:
            raw = f.read(1 << 20)
    except OSError as e:
        raise ConfigError(file, "", f"cannot read the config file: {e.strerror}") from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        at = raw.count(b"\n", 0, e.start) + 1
        raise ConfigError(name, "", "not UTF-8 text; save it as UTF-8", line=at) from e
    try:
        keyed = load_keyed(text)
    except yaml.MarkedYAMLError as e:
        line, what = describe_yaml_error(e, text)
        where = None if line is None else line + 1
        raise ConfigError(name, "", f"not valid YAML: {what}", line=where) from e
    except (yaml.YAMLError, RecursionError) as e:
        raise ConfigError(name, "", f"not valid YAML: {_one_line(e)}") from e
    if keyed.data is None:
        return Keyed({}, {}, [])
    if not isinstance(keyed.data, Mapping):
        what = _show(keyed.data)
        raise ConfigError(name, "", f"expected a mapping at the top level, got {what}")
    return keyed


def _repeated(name: str, keyed: Keyed) -> list[str]:
    """A warning for each key given twice in one mapping (YAML keeps the last silently)."""
    return [
        f"{name}:{line}: {key}: given twice (first on line {first}); the last one is used"
        for key, first, line in keyed.repeated
    ]


def _site_folder(data: Mapping[str, Any], base: Path, source: str | None) -> Path | None:
    """Where the source folder will be (to look for its ``_config.yml``), if it can be told."""
    value = source if source is not None else data.get("source", ".")
    if value is None:
        value = "."
    return base / str(value) if isinstance(value, str | int | float) else None


def load_config(
    path: str | os.PathLike[str],
    *,
    source: str | None = None,
    output: str | None = None,
    missing_ok: bool = False,
) -> Config:
    """Read and validate ``path``; ``source``/``output`` (the command line's) override it.

    A ``_config.yml`` in the source folder gives defaults that ``path`` overrides key by
    key. ``path`` may itself be a Jekyll ``_config.yml``; with ``missing_ok``, ``path`` may
    be missing when the source folder has a ``_config.yml`` to stand in for it.
    """
    file = os.fspath(path)
    name = os.path.basename(file)
    base = Path(file).resolve().parent
    own: Keyed | None = None
    if jekyll.is_jekyll_config(name):
        site_file: Path | None = Path(file)
    else:
        if not (missing_ok and not os.path.lexists(file)):
            own = _read_yaml(file, name)
        site_file = jekyll.find_config(_site_folder(own.data if own else {}, base, source))
    if own is None and site_file is None:
        raise _no_config(file, _site_folder({}, base, source), source)
    lines = {(name, k): n for k, n in own.lines.items()} if own else {}
    warnings = _repeated(name, own) if own else []
    if site_file is None:
        assert own is not None
        data: Mapping[str, Any] = own.data
        return parse_config(
            data, base=base, name=name, source=source, output=output, lines=lines, warnings=warnings
        )
    site_name = site_file.name
    site = _read_yaml(str(site_file), site_name)
    lines |= {(site_name, k): n for k, n in site.lines.items()}
    shaped, taken = jekyll.defaults(site.data)
    if own is None:  # _config.yml stands alone: every key is named as Jekyll names it
        taken = jekyll.every_origin()
    data, origins = jekyll.merge(shaped, taken, own.data if own else {})
    return parse_config(
        data,
        base=base,
        name=name if own is not None else site_name,
        source=source,
        output=output,
        origins={path: (site_name, key) for path, key in origins.items()},
        lines=lines,
        warnings=[*_repeated(site_name, site), *warnings],
    )


def _no_config(file: str, folder: Path | None, source: str | None) -> ConfigError:
    if source is not None and folder is not None:
        if not folder.is_dir():
            return OptionError("--source", f"no such folder: {folder}")
        if "_posts" in folder.parts:
            site = Path(*folder.parts[: folder.parts.index("_posts")])
            return OptionError(
                "--source",
                f"{folder} is a _posts folder: point --source at the site above it, {site}",
            )
    where = f"in {folder}" if folder is not None else "in the source folder"
    return ConfigError(
        file,
        "",
        f"cannot read the config file: No such file or directory (and there is no "
        f"_config.yml {where} to read the site's url from)",
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
    origins: Mapping[str, tuple[str, str]] | None = None,
    lines: Mapping[tuple[str, str], int] | None = None,
    warnings: Sequence[str] = (),
) -> Config:
    """Validate an already-loaded mapping. Relative paths resolve against ``base``.

    ``origins`` maps key paths whose values came from another file to ``(file, key)``;
    ``lines`` maps ``(file, key)`` to the key's line, for warnings (``warnings``: those
    already found, e.g. keys given twice).
    """
    ctx = _Context(name, origins, lines)
    said = list(warnings)
    top = _Reader(ctx, data)
    site = _site(top.section("site"))
    file_source, file_output = top.text("source", "."), top.text("output", "feeds")
    src = base / (source if source is not None else file_source)
    out = base / (output if output is not None else file_output)
    feeds_url = top.text("feeds_url", site.url + "/feeds/")
    _check_base(top, "feeds_url", feeds_url)
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
    said += [
        f"{ctx.where('permalink')}: {word} is no placeholder: Jekyll stops on it; "
        "feedwright leaves it as text"
        for word in unknown_placeholders(permalink)
    ]
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
        options=frozenset(k for k, v in (("source", source), ("output", output)) if v is not None),
        hooks=_hooks(top.section("hooks"), base),
        warnings=tuple(said),
    )
    ctx.check_unknown_keys()
    _check_metrics_path(top, config)
    return config


def _check_url(r: _Reader, key: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise r.fail(key, f"expected an absolute http(s) URL, got {value!r}")


def _check_base(r: _Reader, key: str, value: str) -> None:
    """A URL other URLs are made from (``site.url``, ``feeds_url``): no query, fragment or
    white space, a valid port."""
    _check_url(r, key, value)
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


def _site(r: _Reader) -> SiteConfig:
    url = r.text("url", required=True).rstrip("/")
    _check_base(r, "url", url)
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


def _language(r: _Reader) -> str | None:
    """``site.language`` (Jekyll's ``lang``) as a BCP 47 tag: ``zh_CN`` is ``zh-CN``."""
    value = r.text("language", "")
    if not value:
        return None
    tag = language_tag(value)
    if tag is None:
        raise r.fail("language", f"expected a BCP 47 language tag such as zh-CN, got {value!r}")
    return tag


def _baseurl(r: _Reader) -> str:
    """Jekyll's ``baseurl``: the path the site lives under, as ``/blog`` (or ``""``)."""
    value = r.text("baseurl", "").strip().strip("/")
    if any(c in value for c in "?#:\\") or any(p in (".", "..") for p in value.split("/")):
        raise r.fail("baseurl", f"expected a path such as /blog, got {value!r}")
    return "/" + value if value else ""


def _markdown_ext(r: _Reader) -> tuple[str, ...]:
    """Jekyll's ``markdown_ext``: ``"md,markdown"`` (Jekyll's form) or a list."""
    value = r.get("markdown_ext", ",".join(MARKDOWN_EXT))
    items = value.split(",") if isinstance(value, str) else value
    if isinstance(items, list):
        exts = [v.strip().lstrip(".").lower() if isinstance(v, str) else "" for v in items]
        if exts and all(_EXT.match(e) for e in exts):
            return tuple(dict.fromkeys(exts))
    raise r.fail("markdown_ext", f"expected extensions such as 'md,markdown', got {_show(value)}")


def _author(r: _Reader, site_title: str) -> Author:
    value = r.get("author")
    if value is None:
        return Author(name=site_title or "unknown")
    if isinstance(value, str):
        return Author(name=value)
    if not isinstance(value, Mapping):
        raise r.fail("author", f"expected a name or a mapping, got {_show(value)}")
    a = _Reader(r.ctx, value, r.path("author") + ".")
    author = Author(
        name=a.text("name", required=True),
        email=a.text("email", "") or None,
        uri=a.text("uri", "") or None,
    )
    return author


def _selection(r: _Reader, key: str) -> bool | tuple[str, ...]:
    value = r.data.get(key, True)
    if isinstance(value, bool) or isinstance(value, Mapping):
        r.used.add(key)
        return True if isinstance(value, Mapping) else value
    return r.strings(key, [])


def _policy(r: _Reader, key: str) -> FeedPolicy | None:
    """``feeds.categories`` / ``feeds.tags`` as a mapping: a :class:`FeedPolicy`."""
    if not isinstance(r.data.get(key), Mapping):
        return None
    p = r.section(key)

    def optional(name: str) -> int | None:
        p.used.add(name)
        return None if p.data.get(name) is None else p.integer(name, 1, 1)

    only = None if p.data.get("only") is None else p.strings("only", [])
    p.used.add("only")
    return FeedPolicy(
        min_posts=p.integer("min_posts", 1, 1),
        only=only,
        except_=p.strings("except", []),
        max_feeds=optional("max_feeds"),
        limit=optional("limit"),
    )


def _feeds(r: _Reader) -> FeedsConfig:
    formats = r.strings("formats", list(FORMATS))
    for f in formats:
        if f not in FORMATS:
            raise r.fail("formats", f"expected some of {', '.join(FORMATS)}, got {f!r}")
    content = r.text("content", "full")
    if content not in ("full", "summary"):
        raise r.fail("content", f"expected 'full' or 'summary', got {content!r}")
    images = r.text("images", "front_matter")
    if images not in IMAGES:
        raise r.fail("images", f"expected one of {', '.join(IMAGES)}, got {images!r}")
    feeds = FeedsConfig(
        formats=tuple(cast(Format, f) for f in dict.fromkeys(formats)),
        limit=r.integer("limit", 20, 1),
        categories=_selection(r, "categories"),
        tags=_selection(r, "tags"),
        content=content,
        category_page=r.text("category_page", "") or None,
        tag_page=r.text("tag_page", "") or None,
        images=images,
        pages=r.boolean("pages", True),
        category_policy=_policy(r, "categories"),
        tag_policy=_policy(r, "tags"),
        archives=_archives(r),
        opml_format=_opml_format(r, formats),
    )
    formats_, groups = _archive_set(r, feeds)
    return replace(feeds, archives_formats=formats_, archives_groups=groups)


def _opml_format(r: _Reader, formats: tuple[str, ...]) -> Format | None:
    """``feeds.opml_format``: one of ``feeds.formats`` (a reader imports each group once);
    by default the first of atom, rss, json that is configured."""
    value = r.get("opml_format")
    if value is None:
        return next((cast(Format, f) for f in FORMATS if f in formats), None)
    if not formats:
        raise r.fail("opml_format", "feeds.formats is empty: no format to list")
    if value not in formats:
        listed = ", ".join(f for f in FORMATS if f in formats)
        raise r.fail("opml_format", f"expected one of feeds.formats ({listed}), got {_show(value)}")
    return cast(Format, value)


#: The values of ``feeds.archives`` that turn archives on.
ARCHIVE_PERIODS = ("monthly", "yearly")


def _archives(r: _Reader) -> str | None:
    """``feeds.archives``: ``monthly``, ``yearly`` or ``false`` (the default: no archives)."""
    value = r.get("archives", False)
    if value is False:
        return None
    if isinstance(value, str) and value in ARCHIVE_PERIODS:
        return value
    raise r.fail("archives", f"expected monthly, yearly or false, got {_show(value)}")


#: The values of ``feeds.archives_groups``: each kind of group by its plural, as the
#: ``feeds.categories`` / ``feeds.tags`` keys name them.
ARCHIVE_GROUPS: dict[str, GroupKind] = {"site": "site", "categories": "category", "tags": "tag"}


def _archive_set(
    r: _Reader, feeds: FeedsConfig
) -> tuple[tuple[Format, ...], tuple[GroupKind, ...]]:
    """``feeds.archives_formats`` (default ``[atom]``: RFC 5005 is an Atom mechanism) and
    ``feeds.archives_groups`` (default ``[site, categories]``). An archive links
    ``current`` to its group's feed in its format, so its formats must be published."""
    formats = r.strings("archives_formats", ["atom"])
    for f in formats:
        if f not in FORMATS:
            raise r.fail("archives_formats", f"expected some of {', '.join(FORMATS)}, got {f!r}")
    if not formats:
        raise r.fail("archives_formats", "expected at least one format (or feeds.archives: false)")
    missing = [f for f in formats if f not in feeds.formats]
    if missing and feeds.archives:
        raise r.fail(
            "archives_formats",
            f"{missing[0]} is not among feeds.formats ({', '.join(feeds.formats)}): "
            "archives are written only in published formats",
        )
    groups = r.strings("archives_groups", ["site", "categories"])
    for g in groups:
        if g not in ARCHIVE_GROUPS:
            raise r.fail(
                "archives_groups", f"expected some of {', '.join(ARCHIVE_GROUPS)}, got {g!r}"
            )
    if not groups:
        raise r.fail("archives_groups", "expected at least one kind (or feeds.archives: false)")
    # in the order of feeds.formats (the archive's files are listed in it)
    return (
        tuple(f for f in feeds.formats if f in formats),
        tuple(ARCHIVE_GROUPS[g] for g in ARCHIVE_GROUPS if g in groups),
    )


def _websub(r: _Reader) -> WebSubConfig:
    hubs = r.strings("hubs", [])
    for hub in hubs:
        _check_url(r, "hubs", hub)
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


def _hooks(r: _Reader, base: Path) -> HooksConfig:
    after: tuple[str, ...] | None = None
    if r.data.get("after_build") is not None:
        after = r.strings("after_build", [])
        if not after or not after[0]:
            raise r.fail("after_build", "expected a non-empty list (a command and arguments)")
    r.used.add("after_build")
    return HooksConfig(after_build=after, timeout=r.seconds("timeout", 60.0), folder=base)


def _server(r: _Reader) -> ServerConfig:
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


def _check_metrics_path(r: _Reader, config: Config) -> None:
    """``/metrics`` is never served inside the feeds URL (the output folder's namespace)."""
    prefix = unquote(urlsplit(config.feeds_url).path).rstrip("/")
    if config.server.metrics and (prefix == "" or f"{METRICS_PATH}/".startswith(prefix + "/")):
        raise r.ctx.error(
            "server.metrics",
            f"cannot serve {METRICS_PATH}: it is inside feeds_url ({config.feeds_url}); "
            "publish the feeds under a path such as /feeds/",
        )
