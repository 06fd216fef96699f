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
]


@pytest.mark.parametrize("now, literal, start, end", CASES,
                         ids=[f"{c[1]}@{c[0]:%Y-%m-%d}" for c in CASES])
def test_relative_literal_ranges(now, literal, start, end):
    assert is_date_literal(literal)
    span = relative_range(literal, now)
    assert (span.start, span.end) == (start, end)


@pytest.mark.parametrize("text", ["LAST_N_DECADES:2", "YESTERDAYS", "N_MONTHS_AGO", "TODAY:1"])
def test_unknown_literals_are_not_literals(text):
    assert not is_date_literal(text)
