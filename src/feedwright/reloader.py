"""Read the config again before a build: the one reloader of ``watch`` and ``serve``.

``config.yaml`` and the site's ``_config.yml`` (which a ``git pull`` may change) are read
afresh by every :meth:`Reloader.reload`. A config that no longer loads is reported and
the last good one is kept; settings that cannot change without a restart (``serve``'s
listening address) are kept as they were and reported. Reports come back in the
:class:`Reload` result, with ``news`` set only when they differ from the previous
reload's, so that a caller can say each mistake once rather than once per build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import Config
from .errors import FeedwrightError

#: Reads the config (the command line's overrides included); raises ConfigError.
Loader = Callable[[], Config]
#: Given the config in use and a new one: the new one with the settings that need a
#: restart put back, and a message for each setting put back.
Pin = Callable[[Config, Config], tuple[Config, list[str]]]


@dataclass(frozen=True, slots=True)
class Reload:
    """What one reload found."""

    #: The config to build with: the new one, or the last good one (``None`` if none ever
    #: loaded).
    config: Config | None
    #: ``config`` differs from the one in use before.
    changed: bool
    #: Why the config did not load (the last good one is kept), or ``None``.
    error: str | None
    #: Messages for settings that need a restart, which were kept as they were.
    refused: tuple[str, ...]
    #: ``error`` or ``refused`` differ from the previous reload's: worth saying now.
    news: bool


class Reloader:
    """Keeps the config in use, and reloads it on request (thread-safe)."""

    def __init__(self, load: Loader, config: Config | None = None, *, pin: Pin | None = None):
        self._load = load
        self._pin = pin
        self._lock = threading.Lock()
        #: The config in use: the last that loaded.
        self.config = config
        #: The last reload's error and refusals.
        self.error: str | None = None
        self.refused: tuple[str, ...] = ()
        #: How many reloads changed the config in use, and when the one in use was loaded.
        self.changes = 0
        self.loaded_at = _now()

    def reload(self) -> Reload:
        """Read the config again; see :class:`Reload`."""
        with self._lock:
            old = self.config
            try:
                new = self._load()
            except FeedwrightError as e:
                news = str(e) != self.error
                self.error = str(e)
                return Reload(old, False, self.error, self.refused, news)
            refused: tuple[str, ...] = ()
            if old is not None and self._pin is not None:
                new, messages = self._pin(old, new)
                refused = tuple(messages)
            news = self.error is not None or refused != self.refused
            self.error, self.refused = None, refused
            changed = new != old
            if changed:
                self.config = new
                self.changes += 1
                self.loaded_at = _now()
            return Reload(new, changed, None, refused, news)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


__all__ = ["Loader", "Pin", "Reload", "Reloader"]
