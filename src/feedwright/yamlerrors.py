"""Pure: a PyYAML error → the line where the problem starts, and words that say what to do.

PyYAML names its input ``"<unicode string>"`` and often points at the line *after* the
mistake (a key without its ``:`` is only noticed on the next line). This module finds the
line to show and says plainly what tabs, unclosed brackets and quotes do to YAML. It also
loads a config file with the line of each key, and names a key given twice (YAML keeps
the last one silently, PyYAML and Psych alike).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import yaml


class Keyed(NamedTuple):
    """A YAML document and where its mapping keys are."""

    #: What ``yaml.load`` gives.
    data: Any
    #: Key path (``feeds.limit``) → 1-based line of the key (its last occurrence).
    lines: dict[str, int]
    #: ``(key path, first line, line)`` for each key given again in the same mapping.
    repeated: list[tuple[str, int, int]]


def load_keyed(text: str) -> Keyed:
    """Load ``text`` with PyYAML's C safe loader, noting each key's line (errors as
    ``yaml.load`` raises them)."""
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    repeated: list[tuple[str, int, int]] = []
    stack: list[tuple[yaml.Node | None, str]] = [(node, "")]
    while stack:
        current, prefix = stack.pop()
        if not isinstance(current, yaml.MappingNode):
            continue
        seen: dict[str, int] = {}
        for key, value in current.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            path, line = prefix + str(key.value), key.start_mark.line + 1
            if path in seen:
                repeated.append((path, seen[path], line))
            seen[path] = lines[path] = line
            stack.append((value, path + "."))
    return Keyed(data, lines, sorted(repeated, key=lambda r: r[2]))


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


__all__ = ["TAB_MESSAGE", "Keyed", "describe_yaml_error", "load_keyed"]
