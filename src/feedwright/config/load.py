"""Reading the config files: ``config.yaml`` (or a Jekyll ``_config.yml`` given as the
config), and the source folder's ``_config.yml``, whose values are the defaults that
``config.yaml`` overrides key by key (:mod:`feedwright.jekyll` maps and merges them).
Errors name the file, and the line for bad YAML.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .. import jekyll
from ..errors import ConfigError, OptionError
from ..yamlerrors import Keyed, describe_yaml_error, load_keyed
from .parse import parse_config
from .reader import show
from .types import Config


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
        what = show(keyed.data)
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
    own, site_file = _files(file, name, base, source, missing_ok)
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


def _files(
    file: str, name: str, base: Path, source: str | None, missing_ok: bool
) -> tuple[Keyed | None, Path | None]:
    """``config.yaml`` as read (``None``: the config given is a ``_config.yml`` itself, or
    it is missing and may be), and the source folder's ``_config.yml`` (if there is one)."""
    if jekyll.is_jekyll_config(name):
        return None, Path(file)
    own = None
    if not (missing_ok and not os.path.lexists(file)):
        own = _read_yaml(file, name)
    site_file = jekyll.find_config(_site_folder(own.data if own else {}, base, source))
    if own is None and site_file is None:
        raise _no_config(file, _site_folder({}, base, source), source)
    return own, site_file


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
