"""Typed values out of a loaded YAML mapping, every error naming its key path as the user
wrote it: the file the value came from (``config.yaml``, or Jekyll's ``_config.yml`` and
its key there) and, for warnings, its line. Unknown keys are errors, with the nearest
known key as a hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .types import MAX_SECONDS, SECONDS


class Context:
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
        self.readers: list[Reader] = []

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


class Reader:
    """Pulls typed values out of a mapping, naming the key path on error."""

    def __init__(self, ctx: Context, data: Mapping[str, Any], prefix: str = "") -> None:
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
            raise self.fail(key, f"expected a string, got {show(value)}")
        return str(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {show(value)}")
        return value

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {show(value)}")
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
            raise self.fail(key, f"{SECONDS}, got {show(value)}")
        return float(value)

    def strings(self, key: str, default: list[str]) -> tuple[str, ...]:
        value = self.get(key, default)
        if not isinstance(value, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            raise self.fail(key, f"expected a list of strings, got {show(value)}")
        return tuple(str(v) for v in value)

    def section(self, key: str) -> Reader:
        value = self.get(key, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a mapping, got {show(value)}")
        return Reader(self.ctx, value, f"{self.path(key)}.")


def show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
