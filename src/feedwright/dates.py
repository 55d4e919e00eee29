"""Date rules: exactly as Jekyll 4.3 reads a front-matter date (checked against Jekyll itself).

Jekyll loads front matter with Psych (Ruby's YAML), then parses ``date.to_s`` with
``Time.parse`` in ``site.timezone``. So there are three ways a value says its instant:

- **an offset** (``+0800``, ``+08:00``, ``Z``): that is the instant, and the offset written
  is kept;
- **a YAML timestamp without one** (a plain scalar with seconds, :class:`Timestamp`:
  ``2024-04-05 23:30:00``): Psych makes it **UTC** (Jekyll issues #1273, #3879);
- **text** (quoted, or without seconds: ``"2024-04-05 23:30:00"``, ``2024-04-05 23:30``) and a
  date alone: **wall time in the site's zone**, DST-correct (pytz, never the LMT offset of
  ``replace(tzinfo=…)``); a wall time that happens twice or never (DST) is the later of its two
  readings, as Ruby's ``Time.local`` takes it.

Every datetime returned is aware, with a fixed offset: the one written, else the site zone's
at that instant. Seconds are whole: Jekyll shows (and links) no fraction. What Jekyll would
stop on is a :class:`DateError`; so is a day the month does not have (``2022-02-30``), hour
24 or second 60, which Ruby rolls over into the next month, day or minute: a typo to fix,
not a date to guess.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Literal, NamedTuple

import pytz

#: Psych's ``ScalarScanner::TIME`` (Ruby's ``\\s`` and ASCII digits): a plain scalar that
#: matches it is a YAML timestamp, loaded as a Ruby ``Time``.
PSYCH_TIME = re.compile(
    r"-?[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t\n\r\f\v]+)[0-9]{1,2}:[0-9][0-9]:[0-9][0-9]"
    r"(?:\.[0-9]*)?(?:[ \t\n\r\f\v]*(?:Z|[-+][0-9]{1,2}:?(?:[0-9][0-9])?))?"
)
# What Psych's parse_time reads out of a timestamp.
_PSYCH_PARTS = re.compile(
    r"(?P<y>-?[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})(?:[Tt]|[ \t\n\r\f\v]+)"
    r"(?P<h>[0-9]+):(?P<mi>[0-9]+):(?P<s>[0-9]+)(?:\.[0-9]*)?[ \t\n\r\f\v]*"
    r"(?P<tz>Z|[-+](?P<oh>[0-9]{1,2}):?(?P<om>[0-9]{1,2})?)?"
)
# The text forms feedwright reads (a subset of what Ruby's Date._parse reads).
_TEXT = re.compile(
    r"""^\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})
    (?:(?:[Tt]|[ \t]+)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?)?
    (?:[ \t]*(?P<tz>[A-Za-z]{1,3}|[+-]\d{1,2}(?::?\d{2})?))?\s*$""",
    re.X | re.A,
)
# Ruby's Time::ZoneOffset: the zone names Time.parse knows (hours east of UTC).
_ZONE_NAMES = {
    "UTC": 0,
    "Z": 0,
    "UT": 0,
    "GMT": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}
# Ruby's Time.zone_offset: +HH, +HHMM or +HH:MM (two digits each).
_RUBY_OFFSET = re.compile(r"([+-])([0-9]{2})(?::?([0-9]{2}))?")
_CLOCK = re.compile(r"[+-]([0-9]{1,2}):([0-9]{2})")
#: How a value says its instant (see the module's docstring).
How = Literal["offset", "utc", "wall"]


class DateError(ValueError):
    """A date value that cannot be read."""


class Timestamp(str):
    """A front-matter value that YAML reads as a timestamp (a plain scalar matching
    :data:`PSYCH_TIME`), as Psych does; without an offset it is UTC."""

    __slots__ = ()


class Reading(NamedTuple):
    """A date value read the way Jekyll reads it."""

    #: The instant: aware, a fixed offset (the one written, else the site zone's).
    when: datetime
    #: ``offset``, ``utc`` (a YAML timestamp without one) or ``wall`` (the site's zone).
    how: How
    #: An offset written in text that Jekyll does not read (``+8``, ``+830``): ignored.
    ignored: str | None = None


@lru_cache(maxsize=64)
def zone(name: str) -> pytz.BaseTzInfo:
    return pytz.timezone(name)


@lru_cache(maxsize=256)
def _fixed(seconds: int) -> tzinfo:
    return UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def _fix(aware: datetime) -> datetime:
    """``aware`` with a fixed offset (it serialises the same everywhere)."""
    offset = aware.utcoffset()
    assert offset is not None
    return aware.replace(tzinfo=_fixed(int(offset.total_seconds())))


@lru_cache(maxsize=64)
def _transitions(name: str) -> tuple[list[datetime], list[tuple[timedelta, tzinfo]]] | None:
    """A pytz zone's UTC transition instants and the offset from each on (what its
    ``fromutc`` looks up), with its fixed zone; ``None`` for a zone without transitions."""
    tz = zone(name)
    times = getattr(tz, "_utc_transition_times", None)
    info = getattr(tz, "_transition_info", None)
    if not times or not info or len(times) != len(info):
        return None
    return list(times), [(offset, _fixed(int(offset.total_seconds()))) for offset, *_ in info]


def in_zone(moment: datetime, tz_name: str) -> datetime:
    """An instant as wall time in ``tz_name`` (Ruby's ``Time#localtime``), fixed offset.

    The zone's offset at that instant is looked up as pytz's ``fromutc`` looks it up
    (one bisection), without making the pytz-zoned datetime first: run once a post."""
    found = _transitions(tz_name)
    if found is None:
        return _fix(moment.astimezone(zone(tz_name)))
    times, offsets = found
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    offset, fixed = offsets[max(0, bisect_right(times, utc) - 1)]
    return (utc + offset).replace(tzinfo=fixed)


def localize(naive: datetime, tz_name: str) -> datetime:
    """Wall time in ``tz_name`` → aware datetime with that zone's offset at that moment.

    A wall time the zone has twice (DST ends) or skips (DST starts) is the later of its two
    readings, as Ruby's ``Time.local`` takes it: the repeated hour's second occurrence, and
    a skipped time moved forward by the gap.
    """
    tz = zone(tz_name)
    try:
        return _fix(tz.localize(naive, is_dst=None))
    except (pytz.AmbiguousTimeError, pytz.NonExistentTimeError):
        pass
    readings = [tz.normalize(tz.localize(naive, is_dst=dst)) for dst in (True, False)]
    return _fix(max(readings, key=lambda r: r.astimezone(UTC)))


def _in_range(dt: datetime) -> datetime:
    if 1 < dt.year < 9999:  # an offset under a day cannot leave the range
        return dt
    try:
        dt.astimezone(UTC)
    except OverflowError as e:
        raise DateError(f"{dt.isoformat()} is out of range") from e
    return dt


def _real(value: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError as e:
        raise DateError(f"{value.strip()!r} is not a real date: {e}") from e


def _psych(value: Timestamp, tz_name: str) -> Reading | None:
    """A YAML timestamp as Psych's ``parse_time`` makes it; ``None`` where Psych gives up
    on it (a field or offset out of range) and leaves it text."""
    m = _PSYCH_PARTS.match(value)
    if m is None or m["y"].startswith("-"):
        return None
    g = m.groupdict()
    nums = [int(n) for n in m.group("y", "mo", "d", "h", "mi", "s")]
    if not (1 <= nums[1] <= 12 and 1 <= nums[2] <= 31 and nums[3] <= 24 and nums[5] <= 60):
        return None  # Ruby refuses these; Jekyll then parses the text
    naive = _real(value, *nums)
    if g["tz"] is None or g["tz"] == "Z":
        utc = _in_range(naive.replace(tzinfo=UTC))
        return Reading(in_zone(utc, tz_name), "utc") if g["tz"] is None else Reading(utc, "offset")
    # Psych's own arithmetic: "-00:30" is +00:30 (the sign of -0 is lost); "+800" is 80 h.
    hours, minutes = int(g["oh"]) * (-1 if g["tz"][0] == "-" else 1), int(g["om"] or 0)
    offset = hours * 3600 + (-minutes if hours < 0 else minutes) * 60
    if abs(offset) >= 86400:
        return None
    return Reading(_in_range(naive.replace(tzinfo=_fixed(offset))), "offset")


def _ruby_offset(text: str) -> int | None:
    """Seconds east of UTC for a zone ``Time.parse`` reads (``Time.zone_offset``), else
    ``None``: it then ignores the zone, and the time is the site's wall time."""
    name = text.upper()
    if name in _ZONE_NAMES:
        return _ZONE_NAMES[name] * 3600
    m = _RUBY_OFFSET.fullmatch(text)
    if m is None:
        return None
    sign = -1 if m[1] == "-" else 1
    return sign * (int(m[2]) * 60 + int(m[3] or 0)) * 60


def _text(value: str, tz_name: str) -> Reading:
    """Text as Ruby's ``Time.parse`` reads it in the site's zone."""
    m = _TEXT.match(value)
    name = m["tz"] if m is not None and m["tz"] is not None and m["tz"].isalpha() else None
    if m is None or (name is not None and name.upper() not in _ZONE_NAMES):
        raise DateError(
            f"cannot read {value[:60]!r} as a date (expected e.g. 2022-03-07 08:30:46 +0800)"
        )
    g = m.groupdict()
    written = g["tz"]
    if g["h"] is None and written is not None:
        # Date._parse reads no zone after a date alone: "+05:00" there is the time 05:00,
        # anything else is ignored.
        clock = _CLOCK.fullmatch(written)
        if clock is not None:
            g["h"], g["mi"] = clock[1], clock[2]
        naive = _real(value, *(int(g[k] or 0) for k in ("y", "mo", "d", "h", "mi")))
        return Reading(_in_range(localize(naive, tz_name)), "wall", written)
    naive = _real(value, *(int(g[k] or 0) for k in ("y", "mo", "d", "h", "mi", "s")))
    offset = None if written is None else _ruby_offset(written)
    if offset is None:
        ignored = written if written is not None else None
        return Reading(_in_range(localize(naive, tz_name)), "wall", ignored)
    if abs(offset) >= 86400:
        raise DateError(f"offset {written!r} is out of range")
    return Reading(_in_range(naive.replace(tzinfo=_fixed(offset))), "offset")


def read_date(value: object, tz_name: str) -> Reading:
    """Read a front-matter date (a string, a :class:`Timestamp`, or what YAML made of it)."""
    if isinstance(value, Timestamp):
        reading = _psych(value, tz_name)
        return reading if reading is not None else _text(value, tz_name)
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a timestamp some YAML loader made: UTC, as in Psych
            utc = _in_range(value.replace(tzinfo=UTC, microsecond=0))
            return Reading(in_zone(utc, tz_name), "utc")
        return Reading(_fix(value.replace(microsecond=0)), "offset")
    if isinstance(value, date):
        return Reading(localize(datetime(value.year, value.month, value.day), tz_name), "wall")
    if not isinstance(value, str):
        # Never repr() a list or mapping: a YAML alias bomb would expand into gigabytes.
        kinds: dict[type, str] = {list: "a list", dict: "a mapping"}
        got = repr(value) if isinstance(value, int | float) else kinds.get(type(value), "")
        got = got or f"a {type(value).__name__}"
        raise DateError(f"expected a date such as 2022-03-07 08:30:46 +0800, got {got}")
    return _text(value, tz_name)


def parse_date(value: object, tz_name: str) -> datetime:
    """The instant of a front-matter date (see :func:`read_date`)."""
    return read_date(value, tz_name).when


def name_date(y: int, mo: int, d: int, tz_name: str) -> datetime:
    """Midnight of a file name's date in the site's zone (a post without ``date``);
    ``ValueError`` for a day the month does not have."""
    return localize(datetime(y, mo, d), tz_name)


def zone_offsets(tz_name: str) -> tuple[str, ...]:
    """The offsets ``tz_name`` has in winter and summer (``+0800``; ``-0500``, ``-0400``)."""
    tz = zone(tz_name)
    found: list[str] = []
    for month in (1, 7):
        offset = tz.localize(datetime(2024, month, 1, 12)).strftime("%z")
        if offset not in found:
            found.append(offset)
    return tuple(found)
