"""The validated configuration: a tree of frozen dataclasses (paths absolute, named styles
expanded), and the constants its values are checked against. No logic: reading and
checking are :mod:`.reader`, :mod:`.sections` and :mod:`.feeds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..model import Author, Format, GroupKind

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
