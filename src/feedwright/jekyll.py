"""Jekyll's own ``_config.yml``, seen as defaults for ``config.yaml``: shape only.

A Jekyll site already says who it is (``url``, ``baseurl``, ``title``, ``timezone``…).
:func:`defaults` turns the keys feedwright understands into a mapping shaped like
``config.yaml``, and says where each value came from, so that a wrong value is reported
under the name it has in ``_config.yml``. Every other Jekyll key is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The names Jekyll reads its configuration from, in the order it looks for them.
CONFIG_NAMES = ("_config.yml", "_config.yaml")

#: ``_config.yml`` key → the ``config.yaml`` key path it is the default of. Where two
#: Jekyll keys feed one setting, the first present wins (``title`` over ``name``).
KEYS: dict[str, str] = {
    "url": "site.url",
    "baseurl": "site.baseurl",
    "title": "site.title",
    "name": "site.title",
    "description": "site.description",
    "author": "site.author",
    "timezone": "site.timezone",
    "lang": "site.language",
    "locale": "site.language",
    "markdown_ext": "site.markdown_ext",
    "permalink": "permalink",
    "future": "future",
}


def is_jekyll_config(name: str) -> bool:
    """Whether a file name is one of Jekyll's own configuration files."""
    return name in CONFIG_NAMES


def _author(value: Any) -> Any:
    """A theme's ``author`` keeps only what a feed can use; shapes it cannot use are left out."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and value.get("name") is not None:
        author = {"name": value["name"]}
        email = value.get("email")
        uri = value.get("uri") if value.get("uri") is not None else value.get("url")
        author |= {"email": email} if email is not None else {}
        author |= {"uri": uri} if uri is not None else {}
        return author
    return None


def _value(key: str, value: Any) -> Any:
    if key == "author":
        return _author(value)
    if key == "url" and isinstance(value, str) and not value.strip():
        return None  # Jekyll's default is an empty url: not a value
    if key == "locale" and isinstance(value, str):
        return value.replace("_", "-")  # en_US → en-US
    return value


def defaults(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(defaults shaped like config.yaml, config key path → the _config.yml key)``."""
    shaped: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, target in KEYS.items():
        if target in origins:
            continue
        value = _value(key, data.get(key))
        if value is None:
            continue
        section, _, leaf = target.rpartition(".")
        (shaped.setdefault(section, {}) if section else shaped)[leaf] = value
        origins[target] = key
    return shaped, origins


def merge(
    shaped: Mapping[str, Any], taken: Mapping[str, str], own: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``own`` over ``shaped``, key by key (inside ``site`` too); where each default stayed."""
    data: dict[str, Any] = {k: dict(v) if k == "site" else v for k, v in shaped.items()}
    origins = dict(taken)
    for key, value in own.items():
        if key == "site" and isinstance(value, Mapping) and "site" in data:
            for k, v in value.items():
                if v is not None or k not in data["site"]:
                    data["site"][k] = v
                    origins.pop(f"site.{k}", None)
        elif value is not None or key not in data:
            data[key] = value
            origins = {p: o for p, o in origins.items() if p.split(".")[0] != key}
    return data, origins


def find_config(folder: Path | None) -> Path | None:
    """The folder's ``_config.yml`` (or ``_config.yaml``), if it has one."""
    for name in CONFIG_NAMES:
        if folder is not None and (folder / name).is_file():
            return folder / name
    return None


def every_origin() -> dict[str, str]:
    """Config key path → ``_config.yml`` key, for every key (when it is the only file)."""
    origins: dict[str, str] = {}
    for key, target in KEYS.items():
        origins.setdefault(target, key)
    return origins


__all__ = [
    "CONFIG_NAMES",
    "KEYS",
    "defaults",
    "every_origin",
    "find_config",
    "is_jekyll_config",
    "merge",
]
