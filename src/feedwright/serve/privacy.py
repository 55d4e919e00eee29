"""What ``GET /status`` may say to anyone who can reach it: no absolute server paths.

Messages from the engine and the config name folders as absolute paths. On ``/status``
each is shown relative to the config file's folder (``site/_posts/x.md``, ``../feeds``),
the way the config names them. Hook commands and their output are left out elsewhere
(by the rebuilder and the hook runner) unless ``server.status_details`` is on.
Pure: no I/O.
"""

from __future__ import annotations

import os.path
import re
from typing import Any

from ..config import Config

#: What may follow a path in a message without being part of its last name.
_END = r"(?=[/\s'\"`:,;)\]]|$)"


class Relative:
    """Rewrites the absolute paths of a config's folders in a JSON-ready document."""

    def __init__(self, config: Config) -> None:
        base = str(config.hooks.folder) if config.hooks.folder is not None else None
        roots = {str(config.source), str(config.output)}
        if base is not None:
            roots.add(base)
        self._rules: list[tuple[re.Pattern[str], str]] = []
        for root in sorted(roots, key=len, reverse=True):  # the longest (deepest) first
            if root == os.path.sep:
                continue
            shown = os.path.relpath(root, base) if base is not None else os.path.basename(root)
            self._rules.append((re.compile(re.escape(root) + "/"), _prefix(shown)))
            self._rules.append((re.compile(re.escape(root) + _END), shown))

    def text(self, value: str) -> str:
        if os.path.sep not in value:
            return value
        for pattern, shown in self._rules:
            value = pattern.sub(lambda _match: shown, value)  # noqa: B023 (used at once)
        return value

    def apply(self, doc: Any) -> Any:
        """``doc`` with every string's folder paths made relative (a new document)."""
        if isinstance(doc, str):
            return self.text(doc)
        if isinstance(doc, dict):
            return {key: self.apply(value) for key, value in doc.items()}
        if isinstance(doc, list | tuple):
            return [self.apply(value) for value in doc]
        return doc


def _prefix(shown: str) -> str:
    """What replaces ``<root>/``: nothing for the config's own folder, else ``shown/``."""
    return "" if shown == "." else shown + "/"


__all__ = ["Relative"]
