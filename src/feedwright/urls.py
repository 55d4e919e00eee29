"""URI helpers: IRIs become percent-encoded URIs, path pieces are escaped as Jekyll does."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

# Characters allowed to stay as they are in a URI (RFC 3986 reserved + unreserved, and "%").
_URI_SAFE = "!#$&'()*+,/:;=?@[]~-._%"
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Addressable's PATH character class, which Jekyll's URL.escape_path leaves alone.
_PATH_SAFE = "-._~!$&'()*+,;=:@/"
_PATH_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


def iri_to_uri(iri: str) -> str:
    """Percent-encode everything a URI may not hold; existing ``%XX`` escapes are kept.

    Non-ASCII host names become IDNA (punycode).
    """
    if iri.isascii() and not _BAD_PERCENT.search(iri) and " " not in iri:
        return iri
    text = _BAD_PERCENT.sub("%25", iri)
    parts = urlsplit(text)
    netloc = parts.netloc
    if netloc and not netloc.isascii():
        userinfo, _, hostport = netloc.rpartition("@")
        host, sep, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = quote(host, safe="")
        netloc = (userinfo + "@" if userinfo else "") + host + sep + port
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=_URI_SAFE),
            quote(parts.query, safe=_URI_SAFE),
            quote(parts.fragment, safe=_URI_SAFE),
        )
    )


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
