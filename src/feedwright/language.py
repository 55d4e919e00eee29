"""Pure: language tags as BCP 47 has them (RFC 5646), with the ``langcodes`` registry.

Jekyll sites often write ``lang: zh_CN`` (a POSIX locale): that is ``zh-CN``. Every
language feedwright writes (``xml:lang``, RSS ``<language>``, JSON Feed ``language``, the
pages' ``lang``) goes through :func:`language_tag`.
"""

from __future__ import annotations

import langcodes


def language_tag(value: str) -> str | None:
    """``value`` as a valid BCP 47 tag in its standard form (``zh_CN`` → ``zh-CN``,
    ``EN-us`` → ``en-US``), or ``None`` when it is not one (``C``, ``english``, ``xx``)."""
    text = value.strip()
    if not text or text != value or not langcodes.tag_is_valid(text):
        return None
    return str(langcodes.standardize_tag(text))
