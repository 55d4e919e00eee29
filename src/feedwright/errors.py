"""One error hierarchy; every error names where it happened."""

from __future__ import annotations

import errno

#: What a full disk is called, wherever it stops a build.
NO_SPACE = "no space left on device"


class FeedwrightError(Exception):
    """Root of every error feedwright raises on purpose."""

    default_message = "feedwright failed"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ConfigError(FeedwrightError):
    """The config file is unreadable or does not match the schema.

    ``str(e)`` is ``<file>: <key.path>: <what was expected>``, or ``<file>:<line>: …`` when
    the file itself cannot be read as YAML.
    """

    default_message = "invalid value"

    def __init__(
        self, file: str, key_path: str, message: str | None = None, *, line: int | None = None
    ) -> None:
        self.file = file
        self.key_path = key_path
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key_path:
            where = f"{where}: {self.key_path}"
        return f"{where}: {self.message}"


class OptionError(ConfigError):
    """A value given on the command line (``--source``, ``--output``) is wrong.

    ``str(e)`` is ``--option: <what is wrong>``: the message names the option, not a file.
    """

    default_message = "invalid value for this option"

    def __init__(self, option: str, message: str | None = None) -> None:
        self.option = option
        super().__init__("", option, message)

    def __str__(self) -> str:
        return f"{self.option}: {self.message}"


class LedgerError(ConfigError):
    """The id ledger (``.feedwright/ids``) is not what feedwright wrote: the build stops
    (exit 2) rather than give any post a new id. ``str(e)`` is ``path:line: message``."""

    default_message = "not an id ledger feedwright wrote"

    def __init__(self, path: str, line: int, message: str | None = None) -> None:
        super().__init__(path, "", message, line=line)


class PostError(FeedwrightError):
    """A post that cannot be published. ``str(e)`` is ``path:line: message``, or
    ``path: message`` when no line is meant (its file name is wrong, not its text)."""

    default_message = "cannot read this post"

    def __init__(self, path: str, line: int | None, message: str | None = None) -> None:
        self.path = path
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class OutputError(FeedwrightError):
    """The output folder cannot be written, or a path would escape it."""

    default_message = "cannot write the output folder"

    def __init__(self, path: str, message: str | None = None) -> None:
        self.path = path
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    @classmethod
    def of(cls, path: str, e: OSError, doing: str = "write") -> OutputError:
        """``e``, met while doing something to ``path``: ``path: no space left on device``
        for a full disk, else ``path: cannot <doing>: <what the system says>``."""
        return cls(path, NO_SPACE if disk_full(e) else f"cannot {doing}: {e.strerror or e}")


def disk_full(e: OSError) -> bool:
    """Whether ``e`` says the file system is full."""
    return e.errno == errno.ENOSPC


class ServeError(FeedwrightError):
    """The server cannot start, e.g. its address is taken. ``str(e)`` is ``host:port: …``."""

    default_message = "cannot listen on this address"

    def __init__(self, address: str, message: str | None = None) -> None:
        self.address = address
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.address}: {self.message}"


def describe(e: BaseException) -> str:
    """An unexpected exception in one line: its type and message."""
    return f"{type(e).__name__}: {e}"
