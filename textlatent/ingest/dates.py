"""Dates as documents carry them -> one normalised ISO 8601 form.

A stored date keeps the precision its source gave: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or
``YYYY-MM-DDTHH:MM:SS`` (a date with a time zone is converted to UTC and ends in ``Z``).
These strings sort and compare as their dates do, which the documents' filters rely on.
"""

import datetime as dt
import email.utils
import re

# Formats tried in order after ISO 8601. Month names are matched case-insensitively
# (Reuters writes "26-FEB-1987 15:01:01.79"). Slashed dates are read month first, as
# in the United States, unless the first number cannot be a month.
_FORMATS = (
    ("%d-%b-%Y %H:%M:%S.%f", "s"), ("%d-%b-%Y %H:%M:%S", "s"), ("%d-%b-%Y", "d"),
    ("%d %b %Y %H:%M:%S", "s"), ("%d %b %Y %H:%M", "s"), ("%d %B %Y", "d"), ("%d %b %Y", "d"),
    ("%B %d, %Y", "d"), ("%b %d, %Y", "d"), ("%B %d %Y", "d"), ("%b %d %Y", "d"),
    ("%b. %d, %Y", "d"), ("%B %Y", "m"), ("%b %Y", "m"),
    ("%m/%d/%Y %H:%M:%S", "s"), ("%m/%d/%Y %H:%M", "s"), ("%m/%d/%Y", "d"), ("%d/%m/%Y", "d"),
    ("%d.%m.%Y", "d"), ("%Y/%m/%d", "d"), ("%Y.%m.%d", "d"), ("%Y%m%d", "d"),
)
_YEAR = re.compile(r"^(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
# A file name that starts with a date: 1945-Truman.txt, 1987-02-26_wire.txt, 19870226-x.txt
_FILE_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?=[-_ ])")
MAX_DATE = 100          # longer values are not dates


def normalise(value):
    """``value`` (a string, or None) -> ISO 8601 string or None; raises ``ValueError``
    when ``value`` is given but no known date format reads it."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    if len(text) > MAX_DATE:
        raise ValueError("too long to be a date")
    found = _read(text)
    if found is None:
        # Trailing debris after a date, as in some Reuters wires ("27-MAR-1987 00:02:59.13&#5;&#5;RM").
        head = _DEBRIS.split(text, 1)[0].strip()
        found = _read(head) if head and head != text else None
    if found is None:
        raise ValueError("not a date in a known format")
    return found


def _read(text):
    return _reduced(text) or _iso(text) or _formatted(text) or _rfc2822(text)


_DEBRIS = re.compile(r"[^0-9A-Za-z :.,/+\-]")


def try_normalise(value):
    """``normalise`` that answers None for what it cannot read."""
    try:
        return normalise(value)
    except ValueError:
        return None


def _reduced(text):
    m = _YEAR.match(text)
    if m:
        return m.group(1) if int(m.group(1)) >= 1 else None
    m = _YEAR_MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def _iso(text):
    if not re.match(r"^\d{4}-\d{2}", text):
        return None
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        if len(candidate) == 10:
            return dt.date.fromisoformat(candidate).isoformat()
        return _stamp(dt.datetime.fromisoformat(candidate))
    except ValueError:
        return None


def _formatted(text):
    for fmt, precision in _FORMATS:
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if precision == "m":
            return f"{value.year:04d}-{value.month:02d}"
        if precision == "d":
            return value.date().isoformat()
        return _stamp(value)
    return None


def _rfc2822(text):
    """E-mail and news headers: ``Thu, 26 Feb 1987 15:01:01 GMT``."""
    if not re.search(r"\d{1,2}:\d{2}", text):
        return None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _stamp(value) if value is not None else None


def _stamp(value):
    if value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def from_file_name(name):
    """The date a file name starts with (``1945-Truman.txt`` -> ``1945``), or None."""
    m = _FILE_DATE.match(name)
    if not m:
        return None
    year, month, day = m.group(1), m.group(2), m.group(3)
    text = "-".join(p for p in (year, month, day) if p)
    return try_normalise(text)


def to_date(iso):
    """A normalised ISO string -> ``datetime.date`` of its first day (``1945`` -> 1945-01-01)."""
    if iso is None:
        return None
    parts = iso[:10].split("-")
    return dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)


def precision(iso):
    """``year``, ``month``, ``day`` or ``second``: how much of a normalised date is known."""
    return {4: "year", 7: "month", 10: "day"}.get(len(iso), "second")


def end_bound(iso):
    """The first ISO string after the period ``iso`` names: ``1987-03`` -> ``1987-04``, so that a
    date range "to 1987-03" takes in all of March."""
    d = to_date(iso)
    p = precision(iso)
    if p == "year":
        return f"{d.year + 1:04d}"
    if p == "month":
        return f"{d.year + d.month // 12:04d}-{d.month % 12 + 1:02d}"
    if p == "day":
        return (d + dt.timedelta(days=1)).isoformat()
    return iso + "\x00"        # just past the instant itself
