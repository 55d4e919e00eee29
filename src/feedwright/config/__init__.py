"""Read ``config.yaml`` once, at the boundary, into a frozen, validated :class:`Config`.

No business logic lives here: only shape, types and path resolution. When the source
folder is a Jekyll site, its ``_config.yml`` gives the defaults that ``config.yaml``
overrides key by key (:mod:`feedwright.jekyll`). Every error is a
:class:`~feedwright.errors.ConfigError` naming the file and key path the value came from.

- :mod:`.types`: the frozen :class:`Config` tree and the constants it is checked against;
- :mod:`.reader`: typed values out of a mapping, errors naming the key path and file;
- :mod:`.sections` and :mod:`.feeds`: each section's validation;
- :mod:`.parse`: a loaded mapping → :class:`Config` (:func:`parse_config`);
- :mod:`.load`: the files, ``_config.yml`` merged under ``config.yaml`` (:func:`load_config`).
"""

from __future__ import annotations

from .load import load_config
from .parse import parse_config, setting_error, setting_name
from .types import (
    FORMATS,
    HTML_EXT,
    IMAGES,
    MARKDOWN_EXT,
    MAX_SECONDS,
    METRICS_PATH,
    PERMALINK_STYLES,
    SECONDS,
    Config,
    FeedPolicy,
    FeedsConfig,
    HooksConfig,
    ServerConfig,
    SiteConfig,
    WebhookConfig,
    WebSubConfig,
)

__all__ = [
    "FORMATS",
    "HTML_EXT",
    "IMAGES",
    "MARKDOWN_EXT",
    "MAX_SECONDS",
    "METRICS_PATH",
    "PERMALINK_STYLES",
    "SECONDS",
    "Config",
    "FeedPolicy",
    "FeedsConfig",
    "HooksConfig",
    "ServerConfig",
    "SiteConfig",
    "WebSubConfig",
    "WebhookConfig",
    "load_config",
    "parse_config",
    "setting_error",
    "setting_name",
]
