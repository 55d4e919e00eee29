"""A permalink filled in one step is the template expanded from every placeholder."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.permalink import _VALUES, expand, fill, placeholders, template_keys

_WORDS = [f":{key}" for key in _VALUES] + [":month_", ":nokey", ":categorys"]
_TEXT = st.text(alphabet="/-._a~%é中 ", max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.one_of(st.sampled_from(_WORDS), _TEXT), max_size=8),
    when=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
    categories=st.lists(
        st.sampled_from(["News", "新闻", "a b", "x/y", "Ça", "..", ""]), max_size=3
    ),
    slug=st.sampled_from(["hello-world", "你好 世界", "a%20b", "x.y", "Ünï"]),
    ext=st.sampled_from(["md", "htm", "html", "markdown"]),
)
def test_fill_is_expand_of_placeholders(
    pieces: list[str], when: datetime, offset: int, categories: list[str], slug: str, ext: str
) -> None:
    template = "".join(pieces)
    published = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    relpath = f"a/_posts/2024-04-05-{slug}.{ext}"
    drop = dict(published=published, categories=tuple(categories), slug=slug, ext=ext)
    values = placeholders(**drop, relpath=relpath, keys=template_keys(template))
    assert fill(template, **drop, relpath=relpath) == expand(template, values)
    assert fill(template, **drop, relpath=relpath) == expand(template, values)  # looked up
