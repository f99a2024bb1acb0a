"""Calendar arithmetic shared by the rules and the validity checks: no clock, no domain."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def add_months(d: date, months: int) -> date:
    """`d` moved by whole calendar months, the day clamped to the month's end (31 Aug - 6 = 28/29 Feb)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    return add_months(d, 12 * years)


def age_at(birth: date, ref: date) -> int:
    """Age in whole years on `ref`."""
    return ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))


def parse_date(value: Any) -> date | None:
    """An ISO date from a field (str or date); None when absent or not a real date."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    m = _ISO.match(value.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_text(value: Any) -> str | None:
    """The date as written (ISO), kept for comparing placeholder dates ('1990-00-00')."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def french_date(value: Any) -> str:
    """'12 mars 2026', '1er avril 2026'; a date that cannot be parsed is given as written."""
    d = parse_date(value)
    if d is None or (isinstance(value, str) and re.search(r"-00", value)):
        return str(value)
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {_MONTHS_FR[d.month - 1]} {d.year}"


def french_month(d: date) -> str:
    """'mars 2004'."""
    return f"{_MONTHS_FR[d.month - 1]} {d.year}"
