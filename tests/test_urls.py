"""Every URL feedwright writes is a URI: ``iri_to_uri`` against a reference encoder."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.urls import iri_to_uri

#: RFC 3986: what a URI may hold as it is (with "#" once, and "%" only in "%XX").
ALLOWED = set(string.ascii_letters + string.digits + "-._~" + "!$&'()*+,;=" + ":@/?")
HEX = set(string.hexdigits)
#: The W3C feed validator's own test of a URI (rfc2396_full).
W3C = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-\.]*:(//)?[0-9a-zA-Z;/?:@&=+$\.\-_!~*'()%,#]+$")


def reference(tail: str) -> str:
    """The reference encoder, one character at a time: a character a URI may hold stays,
    a valid escape stays, anything else is its UTF-8 bytes percent-encoded."""
    out = []
    fragment = False
    for i, ch in enumerate(tail):
        if ch in ALLOWED or (ch == "%" and set(tail[i + 1 : i + 3]) <= HEX and i + 3 <= len(tail)):
            out.append(ch)
        elif ch == "#" and not fragment:
            fragment = True
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
    return "".join(out)


chars = st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    list(" \"<>{}|\\^`%#[]?/:@!$&'()*+,;=~\t\x7f")
)
tails = st.lists(chars | st.sampled_from(["%41", "%e6%A0", "%g", "%%"]), max_size=30).map("".join)


@settings(max_examples=1000, deadline=None)
@given(tail=tails)
def test_iri_to_uri_is_the_reference_encoder(tail: str):
    iri = "https://news.example/" + tail
    uri = iri_to_uri(iri)
    assert uri == "https://news.example/" + reference(tail)
    assert W3C.match(uri), uri
    assert iri_to_uri(uri) == uri  # a URI is left as it is


@settings(max_examples=300, deadline=None)
@given(tail=st.text(st.sampled_from(list(string.ascii_letters + "-._~/?=&")), max_size=20))
def test_a_uri_is_returned_as_it_is(tail: str):
    uri = "https://news.example/" + tail
    assert iri_to_uri(uri) is uri


def test_the_characters_the_fast_path_once_let_through():
    assert iri_to_uri('https://a.example/a b"<>{}|^`\\') == (
        "https://a.example/a%20b%22%3C%3E%7B%7D%7C%5E%60%5C"
    )
    assert iri_to_uri("https://a.example/a#b#c") == "https://a.example/a#b%23c"
    assert iri_to_uri("https://[::1]:8000/a[b]") == "https://[::1]:8000/a%5Bb%5D"
    assert (
        iri_to_uri("https://例子.测试/新闻") == "https://xn--fsqu00a.xn--0zwm56d/%E6%96%B0%E9%97%BB"
    )
