from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mwaa_kit.emulators.salesforce import org
from mwaa_kit.emulators.salesforce.exceptions import InvalidQueryLocator
from mwaa_kit.emulators.salesforce.models.queries import Queries
from mwaa_kit.emulators.salesforce.responses.query import render
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.soql.parser import parse

NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = org.open_store(tmp_path_factory.mktemp("org"), now=NOW)
    org.seed(store, {"Account": 30, "Opportunity": 400, "Lead": 50}, 7, NOW)
    store.queries = Queries(store)  # one cursor registry, as the running stub has
    return store


def _query(store, soql, include_deleted=False, batch=2000):
    return render(store.queries, store.queries.query(soql, "59.0", include_deleted, batch))


def _more(store, locator):
    return render(store.queries, store.queries.query_more(locator))


def _all(store, soql, include_deleted=False, batch=200):
    page = _query(store, soql, include_deleted, batch)
    records = list(page["records"])
    while not page["done"]:
        page = _more(store, page["nextRecordsUrl"].rsplit("/", 1)[1])
        records += page["records"]
    return records


def _opportunities(store, include_deleted=False):
    names = [f.name for f in store.objects["Opportunity"].fields]
    rows = [dict(zip(names, row, strict=False))
            for row in store.db.execute('SELECT * FROM "Opportunity"')]
    return [r for r in rows if include_deleted or not r["IsDeleted"]]


def test_names_are_case_insensitive_and_records_carry_attributes(store):
    record = _query(store, "select id, NAME from opportunity limit 1")["records"][0]
    assert set(record) == {"attributes", "Id", "Name"}
    assert record["attributes"]["type"] == "Opportunity"
    assert record["attributes"]["url"].endswith("/sobjects/Opportunity/" + record["Id"])


def test_paging_returns_every_row_once_and_query_all_adds_deleted(store):
    ids = [r["Id"] for r in _all(store, "SELECT Id FROM Opportunity")]
    assert len(ids) == len(set(ids)) == len(_opportunities(store))
    with_deleted = _all(store, "SELECT Id FROM Opportunity", include_deleted=True)
    assert len(with_deleted) == len(_opportunities(store, include_deleted=True)) == 400


def test_order_limit_offset_and_nulls(store):
    amounts = [r["Amount"] for r in _all(store, "SELECT Amount FROM Opportunity ORDER BY "
                                                "Amount DESC LIMIT 10 OFFSET 5")]
    expected = sorted((r["Amount"] for r in _opportunities(store)), reverse=True)[5:15]
    assert amounts == expected
    accounts = [r["AccountId"] for r in _all(
        store, "SELECT AccountId FROM Opportunity ORDER BY AccountId ASC NULLS LAST")]
    assert accounts[-1] is None and accounts[0] is not None


def test_relative_literal_filters_by_month(store):
    records = _all(store, "SELECT SystemModstamp FROM Opportunity "
                          "WHERE SystemModstamp = LAST_N_MONTHS:1")
    assert records and all(r["SystemModstamp"].startswith("2024-05") for r in records)


def test_count_and_in_and_like(store):
    total = _query(store, "SELECT COUNT() FROM Lead WHERE Status IN ('Closed - Converted', "
                          "'Working - Contacted') AND NOT Company LIKE 'acme%'")
    leads = [r for r in store.db.execute('SELECT Status, Company, IsDeleted FROM "Lead"')]
    expected = sum(1 for status, company, deleted in leads if not deleted and status in (
        "Closed - Converted", "Working - Contacted") and not company.lower().startswith("acme"))
    assert total == {"totalSize": expected, "done": True, "records": []}


@pytest.mark.parametrize("soql, code, fragment", [
    ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported"),
    ("SELECT Nope FROM Lead", "INVALID_FIELD", "No such column 'Nope' on entity 'Lead'"),
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
    ("SELECT Id FROM Lead WHERE CreatedDate > '2024-01-01'", "INVALID_FIELD", "dateTime"),
    ("SELECT Id FROM Lead WHERE Company = 'a\\qb'", "MALFORMED_QUERY", "Illegal character"),
    ("SELECT Id, COUNT() FROM Lead", "MALFORMED_QUERY", "COUNT()"),
    ("SELECT FIELDS(ALL) FROM Lead", "MALFORMED_QUERY", "LIMIT of at most 200"),
    ("SELECT Foo.Name FROM Opportunity", "INVALID_FIELD", "Didn't understand relationship"),
])
def test_errors_carry_salesforce_codes(store, soql, code, fragment):
    with pytest.raises(SoqlError) as error:
        _query(store, soql)
    assert error.value.code == code and fragment in error.value.message


@pytest.mark.parametrize("soql, location", [
    ("SELECT Id FROM Lead WHERE", "\nSELECT Id FROM Lead WHERE\n" + " " * 25
     + "^\nERROR at Row:1:Column:26\nunexpected token: <EOF>"),
    ("SELECT Id,\n  Nope FROM Lead", "\n  Nope FROM Lead\n  ^\nERROR at Row:2:Column:3\n"
     "No such column 'Nope' on entity 'Lead'."),
    ("SELECT Id FROM Leads", "\nSELECT Id FROM Leads\n" + " " * 15
     + "^\nERROR at Row:1:Column:16\nsObject type 'Leads' is not supported."),
    ("SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01", "ERROR at Row:1:Column:27\n"
     "value of filter criterion for field 'CreatedDate' must be of type dateTime"),
])
def test_errors_point_at_the_offending_row_and_column(store, soql, location):
    with pytest.raises(SoqlError) as error:
        _query(store, soql)
    assert error.value.message.startswith(location) or location in error.value.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_malformed(text):
    try:
        parse(text)
    except SoqlError as error:
        assert error.code == "MALFORMED_QUERY"


_CONDITIONS = st.one_of(
    st.tuples(st.just("Amount"), st.sampled_from(["<", ">", "<=", ">=", "=", "!="]),
              st.integers(0, 260000)),
    st.tuples(st.just("StageName"), st.sampled_from(["=", "!="]),
              st.sampled_from(["Closed Won", "closed lost", "Prospecting"])),
    st.tuples(st.just("CloseDate"), st.sampled_from(["<", ">=", "="]),
              st.dates(date(2022, 1, 1), date(2025, 1, 1))),
)


def _python_match(row, condition):
    field, op, value = condition
    actual = row[field]
    if field == "StageName":
        actual, value = actual.lower(), value.lower()
    if field == "CloseDate":
        value = value.isoformat()
    return {"<": actual < value, ">": actual > value, "<=": actual <= value,
            ">=": actual >= value, "=": actual == value, "!=": actual != value}[op]


def _soql_literal(field, value):
    if field == "StageName":
        return f"'{value}'"
    return value.isoformat() if field == "CloseDate" else str(value)


@settings(max_examples=60, deadline=None)
@given(st.lists(_CONDITIONS, min_size=1, max_size=3), st.sampled_from(["AND", "OR"]))
def test_evaluator_agrees_with_a_brute_force_filter(store, conditions, joiner):
    where = f" {joiner} ".join(f"{f} {op} {_soql_literal(f, v)}" for f, op, v in conditions)
    got = {r["Id"] for r in _all(store, f"SELECT Id FROM Opportunity WHERE {where}")}
    combine = all if joiner == "AND" else any
    expected = {r["Id"] for r in _opportunities(store)
                if combine(_python_match(r, c) for c in conditions)}
    assert got == expected, where


def test_a_page_asked_for_again_returns_the_same_records(store):
    first = _query(store, "SELECT Id FROM Opportunity", batch=200)
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    again = _more(store, locator)
    assert _more(store, locator)["records"] == again["records"]
    assert again.get("nextRecordsUrl") == _more(store, locator).get("nextRecordsUrl")


def test_an_unknown_locator_is_invalid(store):
    first = _query(store, "SELECT Id FROM Opportunity", batch=200)
    key = first["nextRecordsUrl"].rsplit("/", 1)[1].split("-")[0]
    for locator in ("nope-200", f"{key}-7", f"{key}-x"):
        with pytest.raises(InvalidQueryLocator):
            _more(store, locator)


def test_parent_paths_up_to_five_levels(store):
    five = "Account.Parent.Parent.Parent.Parent.Name"
    page = _query(store, f"SELECT Id, {five} FROM Opportunity WHERE AccountId != null "
                         "LIMIT 1")
    assert page["records"][0]["Account"]["Parent"] is None  # generated accounts: no parent
    with pytest.raises(SoqlError) as error:
        _query(store, f"SELECT Account.{five.replace('Account.', 'Parent.')}.Parent.Id "
                      "FROM Opportunity")
    assert error.value.code == "INVALID_FIELD" and "at most 5 levels" in error.value.message


def test_child_subquery_filters_orders_and_limits(store):
    page = _query(store, "SELECT Name, (SELECT Amount FROM Opportunities WHERE Amount > 1000 "
                         "ORDER BY Amount DESC LIMIT 2) FROM Account ORDER BY Name LIMIT 5")
    for account in page["records"]:
        children = account["Opportunities"]
        if children is not None:
            amounts = [r["Amount"] for r in children["records"]]
            assert len(amounts) <= 2 and amounts == sorted(amounts, reverse=True)
            assert all(a > 1000 for a in amounts)
    names = [a["Name"] for a in page["records"]]
    assert names == sorted(names, key=str.lower)
    with pytest.raises(SoqlError) as error:
        _query(store, "SELECT Name, (SELECT Id FROM Nothings) FROM Account")
    assert error.value.code == "INVALID_TYPE"


def test_fields_standard_and_order_by_a_parent_field(store):
    record = _query(store, "SELECT FIELDS(STANDARD) FROM Lead LIMIT 1")["records"][0]
    assert {"Id", "Name", "Company", "SystemModstamp"} <= set(record)
    rows = _all(store, "SELECT Account.Name FROM Opportunity WHERE Account.Name != null "
                       "ORDER BY Account.Name DESC, Id")
    names = [r["Account"]["Name"].lower() for r in rows]
    assert names == sorted(names, reverse=True)


def test_not_and_null_comparisons_are_two_valued(store):
    total = _query(store, "SELECT COUNT() FROM Opportunity")["totalSize"]
    with_account = _query(store, "SELECT COUNT() FROM Opportunity WHERE AccountId != null")
    without = _query(store, "SELECT COUNT() FROM Opportunity WHERE NOT (AccountId != null)")
    assert with_account["totalSize"] + without["totalSize"] == total
    within = _query(store, "SELECT COUNT() FROM Opportunity WHERE AccountId IN ('x', null)")
    assert within["totalSize"] == without["totalSize"]
