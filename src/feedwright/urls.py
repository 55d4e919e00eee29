"""URI helpers: IRIs become percent-encoded URIs (and back, for people to read), path pieces
are escaped as Jekyll does."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urljoin

# What RFC 3986 lets a URI hold as it is: unreserved and reserved characters, "%" that starts
# an escape. "#" only once (the fragment's start), "[" and "]" only around an IPv6 host.
_URI_CHARS = "A-Za-z0-9\\-._~!$&'()*+,;=:@/?"
_NOT_URI = re.compile(f"[^{_URI_CHARS}#%]|%(?![0-9A-Fa-f]{{2}})")
_NOT_PART = re.compile(f"[^{_URI_CHARS}%]|%(?![0-9A-Fa-f]{{2}})")
_NOT_AUTHORITY = re.compile(f"[^{_URI_CHARS}%\\[\\]]|%(?![0-9A-Fa-f]{{2}})")
_AUTHORITY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://[^/?#]*)?")
# Addressable's PATH character class, which Jekyll's URL.escape_path leaves alone.
_PATH_SAFE = "-._~!$&'()*+,;=:@/"
_PATH_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


def _escape(m: re.Match[str]) -> str:
    return quote(m.group(0), safe="")


def iri_to_uri(iri: str) -> str:
    """Percent-encode everything a URI may not hold (RFC 3986): non-ASCII, white space,
    controls, ``" < > \\ ^ ` { | }``, a ``%`` that starts no escape, a second ``#``, ``[``
    and ``]`` outside the host. Existing ``%XX`` escapes are kept; a non-ASCII host name
    becomes IDNA (punycode)."""
    if _NOT_URI.search(iri) is None and iri.count("#") <= 1:
        return iri  # the common case: already a URI
    head = _AUTHORITY.match(iri)
    assert head is not None
    authority, rest = _host(head.group(0)), iri[head.end() :]
    part, hash_, fragment = rest.partition("#")
    return (
        _NOT_AUTHORITY.sub(_escape, authority)
        + _NOT_PART.sub(_escape, part)
        + hash_
        + _NOT_PART.sub(_escape, fragment.replace("#", "%23"))
    )


def _host(head: str) -> str:
    """``scheme://authority`` with a non-ASCII host name in IDNA (else as it is)."""
    scheme, slashes, netloc = head.partition("//")
    if not netloc or netloc.isascii():
        return head
    userinfo, at, hostport = netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # escaped as any other character
    return f"{scheme}{slashes}{userinfo}{at}{host}{colon}{port}"


def escape_path(value: str) -> str:
    """Escape a permalink placeholder value as Jekyll's ``URL.escape_path`` does."""
    if _PATH_CLEAN.fullmatch(value):
        return value  # nothing to escape (the common case, found much faster)
    return quote(value, safe=_PATH_SAFE)


def absolute(base: str, ref: str) -> str:
    """Resolve ``ref`` against ``base``; leave it alone if it cannot be parsed."""
    ref = ref.strip()
    try:
        return iri_to_uri(urljoin(base, ref))
    except ValueError:
        return ref


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
#: Unicode categories an IRI may show as they are: letters, marks, numbers, punctuation and
#: symbols (never spaces, controls, format characters such as bidi marks, or unassigned).
_SHOWN = frozenset("LMNPS")


def uri_to_iri(uri: str) -> str:
    """A URI as people read it (RFC 3987 §3.2): percent-escapes of UTF-8 sequences become
    their characters (``%E6%A0%AA`` → ``株``). ASCII escapes (``%2F``, ``%20``), invalid
    UTF-8, and characters that could mislead or vanish (spaces, controls, bidi marks) stay
    escaped, so the IRI maps back to the same URI. For display only: hrefs stay URIs."""
    return _ESCAPES.sub(_decode_run, uri)


def _decode_run(match: re.Match[str]) -> str:
    escapes = match.group(0)
    data = bytes.fromhex(escapes.replace("%", ""))
    out: list[str] = []
    i = 0
    while i < len(data):
        width = _utf8_width(data[i])
        char = _char(data[i : i + width]) if width > 1 else None
        if char is None:
            out.append(escapes[3 * i : 3 * i + 3])
            i += 1
        else:
            out.append(char)
            i += width
    return "".join(out)


def _utf8_width(lead: int) -> int:
    """How many bytes a UTF-8 sequence starting with ``lead`` has (1 for ASCII or junk)."""
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 1


def _char(sequence: bytes) -> str | None:
    """The character a UTF-8 sequence encodes, if it is valid and safe to show."""
    try:
        char = sequence.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return char if unicodedata.category(char)[0] in _SHOWN else None
