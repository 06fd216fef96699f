"""Relative date literals against expected ranges at fixed "now" values, including
month ends, year ends and leap days."""

from datetime import UTC, datetime

import pytest

from mwaa_kit.emulators.salesforce.soql.dates import is_date_literal, relative_range


def _utc(*parts):
    return datetime(*parts, tzinfo=UTC)


CASES = [
    # now, literal, start, end (exclusive)
    (_utc(2024, 3, 1, 8), "YESTERDAY", _utc(2024, 2, 29), _utc(2024, 3, 1)),
    (_utc(2024, 2, 29, 23, 59), "TODAY", _utc(2024, 2, 29), _utc(2024, 3, 1)),
    (_utc(2024, 2, 28), "TOMORROW", _utc(2024, 2, 29), _utc(2024, 3, 1)),
    (_utc(2024, 12, 31, 23), "THIS_MONTH", _utc(2024, 12, 1), _utc(2025, 1, 1)),
    (_utc(2025, 1, 1), "LAST_MONTH", _utc(2024, 12, 1), _utc(2025, 1, 1)),
    (_utc(2024, 1, 31), "NEXT_MONTH", _utc(2024, 2, 1), _utc(2024, 3, 1)),
    (_utc(2024, 6, 15), "LAST_N_MONTHS:3", _utc(2024, 3, 1), _utc(2024, 6, 1)),
    (_utc(2024, 1, 10), "LAST_N_MONTHS:1", _utc(2023, 12, 1), _utc(2024, 1, 1)),
    (_utc(2024, 6, 15), "N_MONTHS_AGO:2", _utc(2024, 4, 1), _utc(2024, 5, 1)),
    (_utc(2024, 3, 31), "N_MONTHS_AGO:1", _utc(2024, 2, 1), _utc(2024, 3, 1)),
    (_utc(2024, 6, 15), "NEXT_N_MONTHS:2", _utc(2024, 7, 1), _utc(2024, 9, 1)),
    (_utc(2024, 3, 1), "LAST_N_DAYS:2", _utc(2024, 2, 28), _utc(2024, 3, 2)),
    (_utc(2024, 3, 1, 23, 59), "LAST_N_DAYS:1", _utc(2024, 2, 29), _utc(2024, 3, 2)),
    (_utc(2025, 1, 1), "LAST_N_DAYS:365", _utc(2024, 1, 2), _utc(2025, 1, 2)),
    (_utc(2024, 2, 28), "NEXT_N_DAYS:2", _utc(2024, 2, 29), _utc(2024, 3, 2)),
    (_utc(2024, 3, 1), "N_DAYS_AGO:1", _utc(2024, 2, 29), _utc(2024, 3, 1)),
    (_utc(2024, 3, 1), "LAST_90_DAYS", _utc(2023, 12, 2), _utc(2024, 3, 2)),
    (_utc(2024, 3, 1), "NEXT_90_DAYS", _utc(2024, 3, 2), _utc(2024, 5, 31)),
    (_utc(2024, 2, 29), "THIS_WEEK", _utc(2024, 2, 25), _utc(2024, 3, 3)),  # Sun..Sat
    (_utc(2024, 3, 3), "LAST_WEEK", _utc(2024, 2, 25), _utc(2024, 3, 3)),
    (_utc(2024, 5, 15), "THIS_QUARTER", _utc(2024, 4, 1), _utc(2024, 7, 1)),
    (_utc(2024, 1, 1), "LAST_QUARTER", _utc(2023, 10, 1), _utc(2024, 1, 1)),
    (_utc(2024, 11, 30), "NEXT_QUARTER", _utc(2025, 1, 1), _utc(2025, 4, 1)),
    (_utc(2024, 12, 31), "THIS_YEAR", _utc(2024, 1, 1), _utc(2025, 1, 1)),
    (_utc(2025, 1, 1), "LAST_YEAR", _utc(2024, 1, 1), _utc(2025, 1, 1)),
    (_utc(2024, 7, 4), "LAST_N_YEARS:2", _utc(2022, 1, 1), _utc(2024, 1, 1)),
    (_utc(2024, 7, 4), "N_YEARS_AGO:4", _utc(2020, 1, 1), _utc(2021, 1, 1)),
    (_utc(2024, 7, 4), "LAST_N_QUARTERS:2", _utc(2024, 1, 1), _utc(2024, 7, 1)),
    (_utc(2024, 7, 4), "N_QUARTERS_AGO:1", _utc(2024, 4, 1), _utc(2024, 7, 1)),
    (_utc(2024, 7, 4), "LAST_N_WEEKS:1", _utc(2024, 6, 23), _utc(2024, 6, 30)),
    (_utc(2024, 7, 4), "THIS_FISCAL_YEAR", _utc(2024, 1, 1), _utc(2025, 1, 1)),
    # weeks (Sunday first) across a year end
    (_utc(2024, 12, 31, 23, 59), "THIS_WEEK", _utc(2024, 12, 29), _utc(2025, 1, 5)),
    (_utc(2024, 12, 31), "NEXT_WEEK", _utc(2025, 1, 5), _utc(2025, 1, 12)),
    (_utc(2025, 1, 4), "LAST_WEEK", _utc(2024, 12, 22), _utc(2024, 12, 29)),
    (_utc(2025, 1, 1), "N_WEEKS_AGO:2", _utc(2024, 12, 15), _utc(2024, 12, 22)),
    (_utc(2024, 12, 31), "NEXT_N_WEEKS:2", _utc(2025, 1, 5), _utc(2025, 1, 19)),
    (_utc(2024, 12, 29), "LAST_N_WEEKS:2", _utc(2024, 12, 15), _utc(2024, 12, 29)),
    # days at month and year ends, leap days
    (_utc(2025, 1, 1, 0, 0, 1), "YESTERDAY", _utc(2024, 12, 31), _utc(2025, 1, 1)),
    (_utc(2024, 12, 31, 23, 59, 59), "TOMORROW", _utc(2025, 1, 1), _utc(2025, 1, 2)),
    (_utc(2024, 12, 31), "NEXT_N_DAYS:3", _utc(2025, 1, 1), _utc(2025, 1, 4)),
    (_utc(2024, 3, 1), "N_DAYS_AGO:366", _utc(2023, 3, 1), _utc(2023, 3, 2)),
    (_utc(2023, 3, 1), "LAST_N_DAYS:1", _utc(2023, 2, 28), _utc(2023, 3, 2)),
    (_utc(2025, 3, 31), "NEXT_90_DAYS", _utc(2025, 4, 1), _utc(2025, 6, 30)),
    # months: month ends, leap February, year ends
    (_utc(2024, 2, 29, 23), "THIS_MONTH", _utc(2024, 2, 1), _utc(2024, 3, 1)),
    (_utc(2023, 3, 31), "LAST_MONTH", _utc(2023, 2, 1), _utc(2023, 3, 1)),
    (_utc(2024, 3, 31), "LAST_N_MONTHS:12", _utc(2023, 3, 1), _utc(2024, 3, 1)),
    (_utc(2024, 2, 29), "LAST_N_MONTHS:7", _utc(2023, 7, 1), _utc(2024, 2, 1)),
    (_utc(2025, 1, 15), "N_MONTHS_AGO:1", _utc(2024, 12, 1), _utc(2025, 1, 1)),
    (_utc(2025, 1, 15), "N_MONTHS_AGO:13", _utc(2023, 12, 1), _utc(2024, 1, 1)),
    (_utc(2024, 12, 31), "NEXT_N_MONTHS:1", _utc(2025, 1, 1), _utc(2025, 2, 1)),
    (_utc(2024, 1, 31), "N_MONTHS_AGO:0", _utc(2024, 1, 1), _utc(2024, 2, 1)),
    # quarters and years
    (_utc(2024, 11, 30), "NEXT_N_QUARTERS:2", _utc(2025, 1, 1), _utc(2025, 7, 1)),
    (_utc(2025, 2, 1), "N_QUARTERS_AGO:2", _utc(2024, 7, 1), _utc(2024, 10, 1)),
    (_utc(2024, 2, 29), "LAST_N_YEARS:1", _utc(2023, 1, 1), _utc(2024, 1, 1)),
    (_utc(2024, 2, 29), "NEXT_YEAR", _utc(2025, 1, 1), _utc(2026, 1, 1)),
    (_utc(2024, 2, 29), "NEXT_N_YEARS:3", _utc(2025, 1, 1), _utc(2028, 1, 1)),
    (_utc(2024, 2, 29), "N_YEARS_AGO:1", _utc(2023, 1, 1), _utc(2024, 1, 1)),
    # fiscal periods: the stub's org keeps the default fiscal year (January start)
    (_utc(2024, 5, 15), "THIS_FISCAL_QUARTER", _utc(2024, 4, 1), _utc(2024, 7, 1)),
    (_utc(2024, 1, 1), "LAST_FISCAL_QUARTER", _utc(2023, 10, 1), _utc(2024, 1, 1)),
    (_utc(2024, 12, 31), "NEXT_FISCAL_QUARTER", _utc(2025, 1, 1), _utc(2025, 4, 1)),
    (_utc(2024, 7, 4), "LAST_N_FISCAL_QUARTERS:3", _utc(2023, 10, 1), _utc(2024, 7, 1)),
    (_utc(2024, 7, 4), "NEXT_N_FISCAL_QUARTERS:1", _utc(2024, 10, 1), _utc(2025, 1, 1)),
    (_utc(2024, 7, 4), "N_FISCAL_QUARTERS_AGO:4", _utc(2023, 7, 1), _utc(2023, 10, 1)),
    (_utc(2025, 1, 1), "LAST_FISCAL_YEAR", _utc(2024, 1, 1), _utc(2025, 1, 1)),
    (_utc(2024, 12, 31), "NEXT_FISCAL_YEAR", _utc(2025, 1, 1), _utc(2026, 1, 1)),
    (_utc(2024, 7, 4), "LAST_N_FISCAL_YEARS:2", _utc(2022, 1, 1), _utc(2024, 1, 1)),
    (_utc(2024, 7, 4), "NEXT_N_FISCAL_YEARS:2", _utc(2025, 1, 1), _utc(2027, 1, 1)),
    (_utc(2024, 7, 4), "N_FISCAL_YEARS_AGO:1", _utc(2023, 1, 1), _utc(2024, 1, 1)),
]


@pytest.mark.parametrize("now, literal, start, end", CASES,
                         ids=[f"{c[1]}@{c[0]:%Y-%m-%d}" for c in CASES])
def test_relative_literal_ranges(now, literal, start, end):
    assert is_date_literal(literal)
    span = relative_range(literal, now)
    assert (span.start, span.end) == (start, end)


@pytest.mark.parametrize("text", ["LAST_N_DECADES:2", "YESTERDAYS", "N_MONTHS_AGO", "TODAY:1",
                                  "LAST_N_DAYS", "LAST_N_DAYS:x", "NEXT_N_DAYS:-1"])
def test_unknown_literals_are_not_literals(text):
    assert not is_date_literal(text)


def test_every_documented_literal_is_known():
    fixed = ["YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK",
             "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS",
             "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR",
             "NEXT_YEAR", "THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER",
             "THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR"]
    units = ["DAYS", "WEEKS", "MONTHS", "QUARTERS", "YEARS", "FISCAL_QUARTERS",
             "FISCAL_YEARS"]
    numbered = [f"{kind}:4" for unit in units for kind in (
        f"LAST_N_{unit}", f"NEXT_N_{unit}", f"N_{unit}_AGO")]
    now = _utc(2024, 2, 29, 12)
    for literal in fixed + numbered:
        assert is_date_literal(literal), literal
        span = relative_range(literal, now)
        assert span.start < span.end, literal
        assert span.start.time() == span.end.time() == datetime.min.time(), literal
