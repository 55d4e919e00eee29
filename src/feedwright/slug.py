"""Jekyll's ``Utils.slugify``: the one place names become slugs."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _is_alnum(ch: str) -> bool:
    # Onigmo's [[:alnum:]] on Unicode strings: Letter | Mark | Decimal_Number.
    if ch.isascii():
        return ch.isalnum()
    cat = unicodedata.category(ch)
    return cat[0] in "LM" or cat == "Nd"


_PRETTY_EXTRA = frozenset("._~!$&'()+,;=@")
# Names that are already slugs (single "-" between runs of kept ASCII): left as they are.
_PLAIN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_PLAIN_PRETTY = re.compile(r"[A-Za-z0-9._~!$&'()+,;=@]+(?:-[A-Za-z0-9._~!$&'()+,;=@]+)*")


def _replace_runs(text: str, keep: frozenset[str] | None) -> str:
    out: list[str] = []
    in_run = False
    for ch in text:
        if _is_alnum(ch) or (keep is not None and ch in keep):
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out).strip("-")


@lru_cache(maxsize=65536)
def slugify(name: str) -> str:
    """Jekyll's default mode: runs of non-alphanumerics become ``-``, then lower-case.

    Unicode letters and digits are kept: ``株洲日报新闻`` stays as it is.
    """
    if _PLAIN.fullmatch(name):
        return name.lower()
    return _replace_runs(name, None).lower()


def slugify_pretty(name: str) -> str:
    """Jekyll's ``pretty`` mode, cased: the ``:title`` of a permalink."""
    if _PLAIN_PRETTY.fullmatch(name):
        return name  # most file names (each one once: not worth keeping)
    return _pretty_runs(name)


@lru_cache(maxsize=65536)
def _pretty_runs(name: str) -> str:
    return _replace_runs(name, _PRETTY_EXTRA)
