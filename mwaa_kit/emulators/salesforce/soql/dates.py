"""Salesforce's date literals, absolute and relative, as UTC half-open ranges.

A relative literal names a range of whole days (TODAY, LAST_N_MONTHS:3...) computed
from an injectable "now" in UTC; comparisons then use its bounds as Salesforce does:
`= X` is inside the range, `< X` before its start, `> X` after its end.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_RELATIVE = re.compile(r"^(?:(LAST|NEXT)_N_([A-Z_]+)|N_([A-Z_]+)_AGO):(\d+)$")
_UNITS = ("DAYS", "WEEKS", "MONTHS", "QUARTERS", "YEARS", "FISCAL_QUARTERS", "FISCAL_YEARS")


class DateRange:
    """What a date literal stands for: the UTC range [start, end), against which `=`, `<` and
    `>` compare."""

    def __init__(self, start: datetime, end: datetime):
        self.start, self.end = start, end  # [start, end)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _unit_start(today: date, unit: str) -> date:
    if unit == "DAYS":
        return today
    if unit == "WEEKS":  # Salesforce weeks start on Sunday
        return today - timedelta(days=(today.weekday() + 1) % 7)
    if unit in ("MONTHS",):
        return today.replace(day=1)
    if unit in ("QUARTERS", "FISCAL_QUARTERS"):
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return date(today.year, 1, 1)  # YEARS, FISCAL_YEARS (fiscal year = calendar year)


def _shift(start: date, unit: str, count: int) -> date:
    if unit == "DAYS":
        return start + timedelta(days=count)
    if unit == "WEEKS":
        return start + timedelta(weeks=count)
    months = {"MONTHS": 1, "QUARTERS": 3, "FISCAL_QUARTERS": 3, "YEARS": 12,
              "FISCAL_YEARS": 12}[unit]
    return _add_months(start, months * count)


def _period(today: date, unit: str, offset: int, length: int = 1) -> DateRange:
    start = _shift(_unit_start(today, unit), unit, offset)
    return DateRange(_midnight(start), _midnight(_shift(start, unit, length)))


_FIXED = {
    "YESTERDAY": ("DAYS", -1), "TODAY": ("DAYS", 0), "TOMORROW": ("DAYS", 1),
    "LAST_WEEK": ("WEEKS", -1), "THIS_WEEK": ("WEEKS", 0), "NEXT_WEEK": ("WEEKS", 1),
    "LAST_MONTH": ("MONTHS", -1), "THIS_MONTH": ("MONTHS", 0), "NEXT_MONTH": ("MONTHS", 1),
    "LAST_QUARTER": ("QUARTERS", -1), "THIS_QUARTER": ("QUARTERS", 0),
    "NEXT_QUARTER": ("QUARTERS", 1), "LAST_YEAR": ("YEARS", -1), "THIS_YEAR": ("YEARS", 0),
    "NEXT_YEAR": ("YEARS", 1), "LAST_FISCAL_QUARTER": ("FISCAL_QUARTERS", -1),
    "THIS_FISCAL_QUARTER": ("FISCAL_QUARTERS", 0), "NEXT_FISCAL_QUARTER": ("FISCAL_QUARTERS", 1),
    "LAST_FISCAL_YEAR": ("FISCAL_YEARS", -1), "THIS_FISCAL_YEAR": ("FISCAL_YEARS", 0),
    "NEXT_FISCAL_YEAR": ("FISCAL_YEARS", 1),
}


def is_date_literal(name: str) -> bool:
    """Whether `name` is a date literal (TODAY, LAST_N_DAYS:7...), a value rather than a field."""
    match = _RELATIVE.match(name)
    return name in _FIXED or name in ("LAST_90_DAYS", "NEXT_90_DAYS") or bool(
        match and (match.group(2) or match.group(3)) in _UNITS)


def relative_range(name: str, now: datetime) -> DateRange:
    """The UTC range a relative date literal names at `now`."""
    today = now.astimezone(UTC).date()
    if name in _FIXED:
        unit, offset = _FIXED[name]
        return _period(today, unit, offset)
    if name == "LAST_90_DAYS":  # today and the 90 days before it: 91 days
        return _period(today, "DAYS", -90, 91)
    if name == "NEXT_90_DAYS":  # tomorrow and the 89 days after it
        return _period(today, "DAYS", 1, 90)
    match = _RELATIVE.match(name)
    direction, unit, ago_unit, count = match.groups()
    count = int(count)
    if ago_unit:  # N_MONTHS_AGO:n: the whole unit n units back
        return _period(today, ago_unit, -count)
    if unit == "DAYS":
        # LAST_N_DAYS:n is today and the n days before it (LAST_N_DAYS:1 is yesterday and
        # today); NEXT_N_DAYS:n starts tomorrow and lasts n days.
        if direction == "LAST":
            return _period(today, unit, -count, count + 1)
        return _period(today, unit, 1, count)
    # LAST_N_MONTHS:n etc. cover the n whole units before the current one.
    if direction == "LAST":
        return _period(today, unit, -count, count)
    return _period(today, unit, 1, count)


def parse_date(text: str) -> date:
    """A SOQL date literal (YYYY-MM-DD) as a date; ValueError when it is not one."""
    return date.fromisoformat(text)


def parse_datetime(text: str) -> datetime:
    """SOQL datetime literals: 2024-01-05T10:00:00Z, ...+01:00, with optional fraction."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(UTC)


def to_storage(moment: datetime) -> str:
    """How the store keeps datetimes: sortable UTC text, Salesforce's wire format."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}+0000"
