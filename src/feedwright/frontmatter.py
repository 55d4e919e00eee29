"""Split a post file into front matter and body the way Jekyll does, then load the YAML.

python-frontmatter's own split drops metadata silently after a BOM, before a ``...``
closer and with CR-only line ends, and shifts error lines; so the split is Jekyll's
regex here, and python-frontmatter's YAML handler (PyYAML's C safe loader) loads the
mapping. Every failure is a :class:`PostError` with the file's true line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from .dates import PSYCH_TIME, Timestamp
from .errors import PostError
from .yamlerrors import TAB_MESSAGE, describe_yaml_error

# Jekyll's document.rb: \A(---\s*\n.*?\n?)^((---|\.\.\.)\s*$\n?)  (Ruby /m = DOTALL)
_SPLIT = re.compile(r"\A---[ \t]*\n(.*?\n?)^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S | re.M)
# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/FFFF).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_YAML = YAMLHandler()
_BOM = b"\xef\xbb\xbf"
_KEY = re.compile(r"^([^\s#:][^:\n]*?)[ \t]*:(?:[ \t]|$)", re.M)
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.CSafeLoader):
    """PyYAML's C safe loader, with timestamps told apart as Psych (Jekyll's YAML) tells
    them: a plain scalar matching :data:`~feedwright.dates.PSYCH_TIME` (seconds included)
    is a :class:`~feedwright.dates.Timestamp`, which :mod:`feedwright.dates` reads (without
    an offset it is UTC, as in Jekyll); everything else PyYAML would call a timestamp (a
    date alone, ``+0800`` offsets) is text, as Psych's ``Time``/``Date`` become text again
    in Jekyll. Dates are never Python objects here: PyYAML would reject ``2022-02-30``
    without a line number."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
        for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
    }


def _timestamp(loader: _Loader, node: yaml.Node) -> str:
    return Timestamp(loader.construct_scalar(node))  # type: ignore[arg-type]


_Loader.add_implicit_resolver(
    TIMESTAMP_TAG, re.compile(rf"^(?:{PSYCH_TIME.pattern})\Z"), list("-0123456789")
)
_Loader.add_constructor(TIMESTAMP_TAG, _timestamp)


@dataclass(frozen=True, slots=True)
class Split:
    """A decoded post: its front matter mapping and its body."""

    #: The front matter, a mapping with string keys.
    meta: dict[str, Any]
    #: The body after the closing line, line ends normalised to ``\\n``.
    body: str
    #: 1-based line number of the body's first line in the file.
    body_line: int
    #: Where the body starts in the decoded, normalised text.
    body_offset: int
    #: The front matter's text (to find a key's line when something is wrong).
    raw: str

    def line_of(self, key: str) -> int:
        """1-based file line of a top-level key (only needed for messages: computed lazily)."""
        for km in _KEY.finditer(self.raw):
            if km.group(1).strip("'\"") == key:
                return self.raw.count("\n", 0, km.start()) + 2
        return 2


def decode(path: str, data: bytes) -> str:
    """UTF-8 (a BOM is ignored) with line ends normalised to ``\\n``."""
    try:
        # As the "utf-8-sig" codec reads it (an error's offset is after the BOM), without
        # its Python-level wrapper.
        text = data[3:].decode() if data[:3] == _BOM else data.decode()
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise PostError(
            path,
            line,
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
            f"{e.start}); save the file as UTF-8",
        ) from e
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split(path: str, data: bytes, *, keep_body: bool = True) -> Split:
    """Decode ``data`` and split it; raise :class:`PostError` for anything wrong. Without
    ``keep_body`` the body is left empty (``body_offset`` says where it starts)."""
    text = decode(path, data)
    m = _SPLIT.match(text)
    if m is None:
        if text.startswith("---"):
            raise PostError(path, 1, "front matter is not closed (no '---' or '...' line)")
        raise PostError(path, 1, "no front matter (a post starts with a '---' line)")
    raw = m.group(1)
    body = text[m.end() :] if keep_body else ""
    body_line = text.count("\n", 0, m.end()) + 1
    return Split(
        meta=_load(path, raw), body=body, body_line=body_line, body_offset=m.end(), raw=raw
    )


# -- the common case, without PyYAML --------------------------------------------------------
# Most front matter is a few ``key: value`` lines: plain, quoted or ``[a, b]`` values. These
# are read here, with PyYAML's own tables for what a plain scalar means; anything else
# (every other YAML construct, and anything unusual in these) goes to PyYAML, and a test
# checks that both agree wherever the fast path answers.
_NO = object()
_KEYNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_DOUBLE = re.compile(r'"([^"\\]*)" *')
_SINGLE = re.compile(r"'([^']*)' *")
_FLOW = re.compile(r"\[([^\[\]{}\"'#]*)\] *")
# Tabs, line breaks other than ``\n``, a BOM, and what PyYAML refuses
# (``yaml.reader.Reader.NON_PRINTABLE``): PyYAML reads those. One class of what is not
# awkward (a test holds it equal to the two), searched several times faster.
_AWKWARD = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_RESOLVERS = _Loader.yaml_implicit_resolvers
_STR = "tag:yaml.org,2002:str"


def _tag(plain: str) -> str:
    """The tag :class:`_Loader` resolves a plain scalar to."""
    for tag, regexp in _RESOLVERS.get(plain[0] if plain else "", ()):
        if regexp.match(plain):
            return str(tag)
    return _STR


def _plain(text: str, flow: bool) -> Any:
    """A plain scalar's value, or ``_NO`` when it is not one this path reads."""
    if not text or text[0] in _INDICATORS or ": " in text or " #" in text or text[-1] == ":":
        return _NO
    if flow and ":" in text:
        return _NO
    tag = _tag(text)
    if tag == _STR:
        return text
    if tag == TIMESTAMP_TAG:
        return Timestamp(text)
    if tag == "tag:yaml.org,2002:bool" and not flow:
        return yaml.constructor.SafeConstructor.bool_values[text.lower()]
    if tag == "tag:yaml.org,2002:null" and not flow:
        return None
    return _NO


def _value(text: str | None) -> Any:
    if not text:
        return None
    first = text[0]
    if first == '"' or first == "'":
        m = (_DOUBLE if first == '"' else _SINGLE).fullmatch(text)
        return _NO if m is None else m.group(1)
    if first == "[":
        m = _FLOW.fullmatch(text)
        if m is None:
            return _NO
        inner = m.group(1)
        if not inner.strip():
            return []
        items = [_plain(item.strip(" "), True) for item in inner.split(",")]
        return _NO if any(item is _NO for item in items) else items
    return _plain(text, False)


#: Lines read before, each with its key and value (a list as a tuple): most posts of a
#: site repeat most of their lines (``layout: post``, a category, a tag), which are then
#: looked up, not read again. Only short lines are kept, and it is emptied when full, so
#: it stays small whatever the site.
_SEEN: dict[str, tuple[str, Any, bool]] = {}
_SEEN_MAX = 4096
_SEEN_LONGEST = 200


_KEYS: dict[str, bool] = {}


def _plain_key(key: str) -> bool:
    """Whether ``key`` is a name this path reads as text (kept by key: a site has few)."""
    found = _KEYS.get(key)
    if found is None:
        found = _KEYNAME.fullmatch(key) is not None and _tag(key) == _STR
        if len(key) <= _SEEN_LONGEST:
            if len(_KEYS) >= _SEEN_MAX:
                _KEYS.clear()
            _KEYS[key] = found
    return found


def load_simple(raw: str) -> dict[str, Any] | None:
    """The front matter when it is only ``key: value`` lines this path reads (plain,
    quoted or ``[a, b]`` values, comment and blank lines); ``None`` for anything else,
    which PyYAML then reads. Where it answers, it answers what PyYAML would."""
    if _AWKWARD.search(raw):
        return None
    meta: dict[str, Any] = {}
    seen = _SEEN
    for line in raw.split("\n"):
        hit = seen.get(line)
        if hit is not None:
            key, value, is_list = hit
            meta[key] = list(value) if is_list else value
            continue
        if not line or line[0] == "#" or line.isspace():
            continue
        key, colon, text = line.partition(":")
        if not colon or (text and text[0] != " ") or not _plain_key(key):
            return None
        value = _value(text.strip(" "))
        if value is _NO:
            return None
        meta[key] = value
        if len(line) <= _SEEN_LONGEST:
            if len(seen) >= _SEEN_MAX:
                seen.clear()
            is_list = type(value) is list
            seen[line] = (key, tuple(value) if is_list else value, is_list)
    return meta


def _load(path: str, raw: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    simple = load_simple(raw)
    if simple is not None:
        return simple
    try:
        meta = _YAML.load(raw, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        at, said = describe_yaml_error(e, raw)
        if said == TAB_MESSAGE and at is not None:
            raise PostError(path, at + 2, f"invalid YAML in front matter: {said}") from e
        mark = e.problem_mark or e.context_mark
        if e.context_mark is not None and mark is e.problem_mark:
            # A problem found only at the end of the stream (an unclosed bracket or quote)
            # belongs where the unclosed thing began, as Psych (Jekyll) reports it.
            if mark is not None and mark.line > raw.rstrip().count("\n"):
                mark = e.context_mark
        line = (mark.line + 2) if mark is not None else 1
        what = " ".join(str(e.problem or e.context or "invalid YAML").split())
        raise PostError(path, line, f"invalid YAML in front matter: {what}") from e
    except yaml.reader.ReaderError as e:
        # libyaml reports a UTF-8 byte offset, not a mark: count the lines before it.
        line = raw.encode("utf-8")[: e.position].count(b"\n") + 2
        char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        what = f"character {char} is not allowed ({e.reason})"
        raise PostError(path, line, f"invalid YAML in front matter: {what}") from e
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as e:
        raise PostError(path, 2, f"invalid YAML in front matter: {_one_line(e)}") from e
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        kind = "a list" if isinstance(meta, list) else f"a {type(meta).__name__}"
        raise PostError(path, 2, f"front matter is {kind}, not a mapping of keys to values")
    return {str(k): v for k, v in meta.items()}


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200]
