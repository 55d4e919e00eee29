"""A loaded mapping → a validated :class:`~.types.Config`: the top-level keys, each
section by its reader (:mod:`.sections`, :mod:`.feeds`), then the checks that span
sections; and how to name a folder setting in a message (option, key or file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .. import jekyll
from ..errors import ConfigError, OptionError
from ..permalink import unknown_placeholders
from ..urls import iri_to_uri
from .feeds import feeds_config
from .reader import Context, Reader
from .sections import (
    check_base,
    hooks_config,
    server_config,
    site_config,
    webhook_config,
    websub_config,
)
from .types import METRICS_PATH, PERMALINK_STYLES, Config


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
    ctx = Context(name, origins, lines)
    said = list(warnings)
    top = Reader(ctx, data)
    site = site_config(top.section("site"))
    file_source, file_output = top.text("source", "."), top.text("output", "feeds")
    src = base / (source if source is not None else file_source)
    out = base / (output if output is not None else file_output)
    feeds_url = _feeds_url(top, site.url)
    permalink = _permalink(top)
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
        feeds=feeds_config(top.section("feeds")),
        websub=websub_config(top.section("websub")),
        webhook=webhook_config(top.section("webhook")),
        server=server_config(top.section("server")),
        options=frozenset(k for k, v in (("source", source), ("output", output)) if v is not None),
        hooks=hooks_config(top.section("hooks"), base),
        warnings=tuple(said),
    )
    ctx.check_unknown_keys()
    _check_metrics_path(top, config)
    return config


def _feeds_url(top: Reader, site_url: str) -> str:
    """``feeds_url``, ending in ``/`` (default ``<site.url>/feeds/``)."""
    feeds_url = top.text("feeds_url", site_url + "/feeds/")
    check_base(top, "feeds_url", feeds_url)
    return feeds_url if feeds_url.endswith("/") else feeds_url + "/"


def _permalink(top: Reader) -> str:
    """``permalink``: a named style, expanded, or a template starting with ``/``."""
    permalink = top.text("permalink", "date")
    permalink = PERMALINK_STYLES.get(permalink, permalink)
    if not permalink.startswith("/"):
        raise top.fail(
            "permalink",
            f"expected a style ({', '.join(PERMALINK_STYLES)}) "
            f"or a template starting with '/', got {permalink!r}",
        )
    return permalink


def _check_metrics_path(r: Reader, config: Config) -> None:
    """``/metrics`` is never served inside the feeds URL (the output folder's namespace)."""
    prefix = unquote(urlsplit(config.feeds_url).path).rstrip("/")
    if config.server.metrics and (prefix == "" or f"{METRICS_PATH}/".startswith(prefix + "/")):
        raise r.ctx.error(
            "server.metrics",
            f"cannot serve {METRICS_PATH}: it is inside feeds_url ({config.feeds_url}); "
            "publish the feeds under a path such as /feeds/",
        )
