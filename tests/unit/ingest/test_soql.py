import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from salesforce_ingest.soql import UnsafeSoqlError, build_query, column_name, render_bound


def test_fields_and_half_open_bounds():
    query = build_query("Opportunity", ["Id", "Account.Name"],
                        datetime(2024, 1, 1, tzinfo=UTC), "2024-02-01")
    assert query == ("SELECT Id, Account.Name FROM Opportunity WHERE "
                     "SystemModstamp >= 2024-01-01T00:00:00Z AND "
                     "SystemModstamp < 2024-02-01T00:00:00Z")


@pytest.mark.parametrize("value, rendered", [
    (datetime(2024, 3, 5, 12, 30, 1, 999), "2024-03-05T12:30:01Z"),
    (datetime(2024, 3, 5, 12, 0, tzinfo=timezone(timedelta(hours=2))), "2024-03-05T10:00:00Z"),
    (date(2024, 2, 29), "2024-02-29T00:00:00Z"),
    ("2024-01-31T23:59:59+00:00", "2024-01-31T23:59:59Z"),
    ("2024-01-31T23:59:59Z", "2024-01-31T23:59:59Z"),
    ("LAST_N_MONTHS:3", "LAST_N_MONTHS:3"),
    ("N_FISCAL_QUARTERS_AGO:2", "N_FISCAL_QUARTERS_AGO:2"),
    (" YESTERDAY ", "YESTERDAY"),
])
def test_bounds_render_as_valid_soql_literals(value, rendered):
    assert render_bound(value) == rendered


@pytest.mark.parametrize("value", [
    "2024-01-01' OR Name != '", "LAST_N_MONTHS:3 OR Id != null", "yesterday or 1=1",
    "LAST_N_MONTHS:", "NEXT_N_DECADES:2", 20240101, None,
])
def test_anything_else_is_refused(value):
    with pytest.raises(UnsafeSoqlError):
        render_bound(value)


@pytest.mark.parametrize("sobject, fields", [
    ("Opportunity; DELETE", ["Id"]),
    ("Opportunity", ["Id FROM Account --"]),
    ("Opportunity", ["Id, (SELECT Id FROM Contacts)"]),
    ("Opportunity", ["A.B.C.D.E.F.Name"]),
    ("1Opportunity", ["Id"]),
    ("Opportunity", ["Id\n"]),  # a regex's `$` matches before a final newline
    ("Opportunity\n", ["Id"]),
])
def test_names_that_are_not_api_names_are_refused(sobject, fields):
    with pytest.raises(UnsafeSoqlError):
        build_query(sobject, fields)


def test_column_names_flatten_parents():
    assert column_name("Account.Owner.Name") == "account_owner_name"


_SAFE_QUERY = re.compile(
    r"^SELECT [A-Za-z][A-Za-z0-9_.]*(, [A-Za-z][A-Za-z0-9_.]*)* FROM [A-Za-z][A-Za-z0-9_]*"
    r"( WHERE SystemModstamp >= [0-9A-Z_:T-]+( AND SystemModstamp < [0-9A-Z_:T-]+)?)?$"
)


@given(st.text(max_size=30), st.lists(st.text(max_size=20), min_size=1, max_size=4),
       st.one_of(st.none(), st.text(max_size=30), st.datetimes()))
def test_no_value_reaches_the_query_unless_it_is_a_name_or_literal(sobject, fields, bound):
    try:
        query = build_query(sobject, fields, from_date=bound)
    except UnsafeSoqlError:
        return
    assert _SAFE_QUERY.match(query), query
