"""Pure: a PyYAML error → the line where the problem starts, and words that say what to do.

PyYAML names its input ``"<unicode string>"`` and often points at the line *after* the
mistake (a key without its ``:`` is only noticed on the next line). This module finds the
line to show and says plainly what tabs, unclosed brackets and quotes do to YAML.
"""

from __future__ import annotations

import yaml

#: Contexts whose mark is where the broken thing starts (a key without ':', an unclosed
#: quote or bracket): PyYAML only notices the problem later, often on the next line.
_STARTS_AT_CONTEXT = (
    "while scanning a simple key",
    "while scanning a quoted scalar",
    "while parsing a flow",
    "while scanning a flow",
)
TAB_MESSAGE = "a tab indents this line: tabs cannot indent YAML, use spaces"
#: PyYAML's words → plainer ones, for the mistakes people make most.
_PLAIN = {
    "could not find expected ':'": "this line is not 'key: value' (no ':' after the key)",
}


def _tab_line(text: str, lines: list[int]) -> int | None:
    """The first of ``lines`` (0-based) indented with a tab, if any."""
    rows = text.split("\n")
    for line in lines:
        if 0 <= line < len(rows):
            row = rows[line]
            indent = row[: len(row) - len(row.lstrip(" \t"))]
            if "\t" in indent:
                return line
    return None


def describe_yaml_error(e: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """``(0-based line, message)`` for an error PyYAML raised while loading ``text``."""
    problem, context = e.problem_mark, e.context_mark
    candidates = [m.line for m in (problem, context) if m is not None]
    tab = _tab_line(text, candidates)
    if tab is not None:
        return tab, TAB_MESSAGE
    mark = problem or context
    if context is not None and (e.context or "").startswith(_STARTS_AT_CONTEXT):
        mark = context
    if e.problem in _PLAIN:
        return (mark.line if mark is not None else None), _PLAIN[e.problem]
    words = [w for w in (e.context, e.problem) if w]
    message = ", ".join(" ".join(w.split()) for w in words) or "invalid YAML"
    return (mark.line if mark is not None else None), message


__all__ = ["TAB_MESSAGE", "describe_yaml_error"]
