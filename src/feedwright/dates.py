"""Date rules: offsets are kept, naive times are wall time in the site's zone (DST-correct).

Every datetime returned is aware. A value with an offset keeps exactly that offset;
a value without one takes the offset the site's zone had at that wall time (pytz
``localize``, never ``replace(tzinfo=…)``, which gives Shanghai its +08:06 LMT).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

import pytz

_DATE_RE = re.compile(
    r"""^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})
    (?:(?:[Tt]|[ \t]+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?)?
    (?:[ \t]*(?P<tz>[Zz]|(?:UTC|GMT)|[+-]\d{1,2}(?::?\d{2})?))?\s*$""",
    re.X,
)


class DateError(ValueError):
    """A date value that cannot be read."""


@lru_cache(maxsize=64)
def zone(name: str) -> pytz.BaseTzInfo:
    return pytz.timezone(name)


@lru_cache(maxsize=256)
def _fixed(minutes: int) -> tzinfo:
    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))


def localize(naive: datetime, tz_name: str) -> datetime:
    """Wall time in ``tz_name`` → aware datetime with that zone's offset at that moment.

    Ambiguous wall times (the hour repeated when DST ends) take the first occurrence;
    wall times skipped when DST starts move forward by the gap, as ``zoneinfo`` does.
    The result carries a fixed offset, so it serialises the same everywhere.
    """
    tz = zone(tz_name)
    try:
        aware = tz.localize(naive, is_dst=None)
    except pytz.AmbiguousTimeError:
        aware = tz.localize(naive, is_dst=True)
    except pytz.NonExistentTimeError:
        aware = tz.normalize(tz.localize(naive, is_dst=False))
    offset = aware.utcoffset()
    assert offset is not None
    minutes = round(offset.total_seconds() / 60)
    return aware.replace(tzinfo=_fixed(minutes))


def _offset_minutes(text: str) -> int:
    if text in ("Z", "z", "UTC", "GMT"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    if len(digits) <= 2:
        hours, minutes = int(digits), 0
    else:
        hours, minutes = int(digits[:-2]), int(digits[-2:])
    if hours > 23 or minutes > 59:
        raise DateError(f"offset {text!r} is out of range")
    return sign * (hours * 60 + minutes)


def parse_date(value: object, tz_name: str) -> datetime:
    """Read a front-matter date (a string, or what YAML made of it) into an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return _in_range(localize(value, tz_name))
        offset = value.utcoffset()
        assert offset is not None
        return value.replace(tzinfo=_fixed(round(offset.total_seconds() / 60)))
    if isinstance(value, date):
        return localize(datetime(value.year, value.month, value.day), tz_name)
    if not isinstance(value, str):
        # Never repr() a list or mapping: a YAML alias bomb would expand into gigabytes.
        kinds: dict[type, str] = {list: "a list", dict: "a mapping"}
        got = repr(value) if isinstance(value, int | float) else kinds.get(type(value), "")
        got = got or f"a {type(value).__name__}"
        raise DateError(f"expected a date such as 2022-03-07 08:30:46 +0800, got {got}")
    m = _DATE_RE.match(value)
    if m is None:
        raise DateError(
            f"cannot read {value[:60]!r} as a date (expected e.g. 2022-03-07 08:30:46 +0800)"
        )
    g = m.groupdict()
    try:
        naive = datetime(
            int(g["y"]),
            int(g["mo"]),
            int(g["d"]),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            int((g["f"] or "0")[:6].ljust(6, "0")),
        )
    except ValueError as e:
        raise DateError(f"{value.strip()!r} is not a real date: {e}") from e
    if g["tz"] is None:
        return _in_range(localize(naive, tz_name))
    return _in_range(naive.replace(tzinfo=_fixed(_offset_minutes(g["tz"]))))


def has_offset(value: object) -> bool:
    """Whether a front-matter date says its own offset (else it is read in the site's zone)."""
    if isinstance(value, datetime):
        return value.tzinfo is not None
    if isinstance(value, str):
        m = _DATE_RE.match(value)
        return m is not None and m.group("tz") is not None
    return False


def _in_range(dt: datetime) -> datetime:
    try:
        dt.astimezone(UTC)
    except OverflowError as e:
        raise DateError(f"{dt.isoformat()} is out of range") from e
    return dt
