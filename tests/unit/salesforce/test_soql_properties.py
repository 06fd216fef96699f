"""Property tests: any input yields a result or a Salesforce error, never another
exception; the SQLite evaluator agrees with a brute-force Python filter on random
queries over random data."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mwaa_kit.emulators.salesforce import org
from mwaa_kit.emulators.salesforce.models.queries import Queries
from mwaa_kit.emulators.salesforce.responses.query import render
from mwaa_kit.emulators.salesforce.soql.dates import relative_range, to_storage
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError

NOW = datetime(2024, 2, 29, 15, 30, tzinfo=UTC)
ERROR_CODES = {"MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"}
OBJECTS = [{"name": "Probe__c", "keyPrefix": "a07", "fields": [
    {"name": "Size__c", "type": "double"},
    {"name": "Count__c", "type": "int"},
    {"name": "Label__c", "type": "string"},
    {"name": "Day__c", "type": "date"},
    {"name": "When__c", "type": "datetime"},
    {"name": "Flag__c", "type": "boolean"},
    {"name": "Colors__c", "type": "multipicklist", "values": ["red", "green", "blue"]},
]}]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    state = tmp_path_factory.mktemp("props")
    objects_file = state / "objects.json"
    objects_file.write_text(json.dumps(OBJECTS))
    store = org.open_store(state, objects_file, now=NOW)
    org.seed(store, {"Account": 5, "Opportunity": 20}, 3, NOW)
    return store


def _query(store, soql, batch_size):
    """The first page of `soql` as the REST query resource answers it."""
    queries = Queries(store)
    return render(queries, queries.query(soql, "59.0", False, batch_size))


# ------------------------------------------------------------ robustness
_WORDS = ["SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES", "ORDER",
          "BY", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT()",
          "FIELDS(ALL)", "Id", "Name", "Amount", "Account.Name", "Opportunity", "Account",
          "Probe__c", "Size__c", "Colors__c", "When__c", "(", ")", ",", "=", "!=", "<", ">=",
          "'x'", "'a\\'b'", "1", "-2.5", "null", "true", "2024-01-01",
          "2024-01-01T00:00:00Z", "LAST_N_MONTHS:3", "TODAY", "Opportunities", "Nope",
          "(SELECT Id FROM Opportunities)", "'", "\\", ":", "LAST_N_DAYS:"]


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=60),
                 st.lists(st.sampled_from(_WORDS), max_size=14).map(" ".join),
                 st.lists(st.sampled_from(_WORDS), max_size=10).map(
                     lambda words: "SELECT Id FROM Opportunity " + " ".join(words))))
def test_any_input_gives_a_result_or_a_salesforce_error(store, text):
    try:
        page = _query(store, text, 200)
    except SoqlError as error:
        assert error.code in ERROR_CODES and error.message
    else:
        assert page["totalSize"] >= len(page["records"])


# ------------------------------------------------- evaluator vs brute force
_LETTERS = st.text("abcXYZ", min_size=0, max_size=3)
_ROWS = st.lists(st.fixed_dictionaries({
    "Size__c": st.one_of(st.none(), st.integers(-3, 3).map(float)),
    "Count__c": st.one_of(st.none(), st.integers(-3, 3)),
    "Label__c": st.one_of(st.none(), _LETTERS),
    "Day__c": st.one_of(st.none(), st.dates(date(2023, 11, 1), date(2024, 4, 30))),
    "When__c": st.one_of(st.none(), st.datetimes(datetime(2023, 12, 1), datetime(2024, 4, 1))
                         .map(lambda d: d.replace(microsecond=0, tzinfo=UTC))),
    "Flag__c": st.booleans(),
    "Colors__c": st.one_of(st.none(), st.sets(st.sampled_from(["red", "green", "blue"]))
                           .map(lambda s: ";".join(sorted(s)) or None)),
}), max_size=25)

_OPS = ["=", "!=", "<", "<=", ">", ">="]
_RELATIVE = ["TODAY", "YESTERDAY", "THIS_MONTH", "LAST_MONTH", "LAST_N_DAYS:3",
             "N_MONTHS_AGO:2", "LAST_N_MONTHS:2", "NEXT_N_DAYS:5", "THIS_WEEK", "LAST_YEAR"]


def _leaf():
    number = st.tuples(st.sampled_from(["Size__c", "Count__c"]), st.sampled_from(_OPS),
                       st.one_of(st.integers(-3, 3), st.none()))
    text = st.tuples(st.just("Label__c"), st.sampled_from(["=", "!=", "<", ">"]),
                     st.one_of(_LETTERS, st.none()))
    like = st.tuples(st.just("Label__c"), st.just("LIKE"),
                     st.text("abcXYZ%_", max_size=3))
    within = st.tuples(st.sampled_from(["Label__c", "Count__c"]),
                       st.sampled_from(["IN", "NOT IN"]),
                       st.lists(st.one_of(_LETTERS, st.integers(-3, 3)), min_size=1,
                                max_size=3))
    day = st.tuples(st.just("Day__c"), st.sampled_from(_OPS),
                    st.one_of(st.dates(date(2023, 11, 1), date(2024, 4, 30)),
                              st.sampled_from(_RELATIVE)))
    moment = st.tuples(st.just("When__c"), st.sampled_from(_OPS),
                       st.one_of(st.datetimes(datetime(2023, 12, 1), datetime(2024, 4, 1))
                                 .map(lambda d: d.replace(microsecond=0, tzinfo=UTC)),
                                 st.sampled_from(_RELATIVE)))
    flag = st.tuples(st.just("Flag__c"), st.sampled_from(["=", "!="]), st.booleans())
    colors = st.tuples(st.just("Colors__c"), st.sampled_from(["INCLUDES", "EXCLUDES"]),
                       st.lists(st.sets(st.sampled_from(["red", "green", "blue"]),
                                        min_size=1), min_size=1, max_size=2))
    return st.one_of(number, text, like, within, day, moment, flag, colors)


def _fixed_leaf(leaf):
    """Drop type mismatches the strategy can produce (IN on Count__c with strings)."""
    field, op, value = leaf
    if op in ("IN", "NOT IN"):
        kind = str if field == "Label__c" else int
        value = [v for v in value if isinstance(v, kind)] or ([""] if kind is str else [0])
    if value is None and op not in ("=", "!="):
        op = "="
    return field, op, value


_TREES = st.recursive(
    _leaf().map(_fixed_leaf),
    lambda children: st.one_of(
        st.tuples(st.just("NOT"), children),
        st.tuples(st.sampled_from(["AND", "OR"]), st.lists(children, min_size=2, max_size=3)),
    ), max_leaves=6)


def _soql_value(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _render(tree) -> str:
    if tree[0] == "NOT":
        return f"(NOT {_render(tree[1])})"
    if tree[0] in ("AND", "OR"):
        return "(" + f" {tree[0]} ".join(_render(t) for t in tree[1]) + ")"
    field, op, value = tree
    if op in ("IN", "NOT IN"):
        return f"{field} {op} ({', '.join(_soql_value(v) for v in value)})"
    if op in ("INCLUDES", "EXCLUDES"):
        return f"{field} {op} (" + ", ".join("'" + ";".join(sorted(s)) + "'"
                                            for s in value) + ")"
    if op == "LIKE":
        return f"{field} LIKE '{value}'"
    if field in ("Day__c", "When__c") and isinstance(value, str):
        return f"{field} {op} {value}"  # a relative date literal
    return f"{field} {op} {_soql_value(value)}"


def _like(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None


def _compare(actual, op, expected) -> bool:
    if expected is None:
        return (actual is None) if op == "=" else (actual is not None)
    if actual is None:
        return op == "!="
    return {"=": actual == expected, "!=": actual != expected, "<": actual < expected,
            "<=": actual <= expected, ">": actual > expected, ">=": actual >= expected}[op]


def _match(row, tree) -> bool:
    if tree[0] == "NOT":
        return not _match(row, tree[1])
    if tree[0] == "AND":
        return all(_match(row, t) for t in tree[1])
    if tree[0] == "OR":
        return any(_match(row, t) for t in tree[1])
    field, op, value = tree
    actual = row[field]
    if op in ("IN", "NOT IN"):
        if field == "Label__c":
            inside = actual is not None and actual.lower() in [v.lower() for v in value]
        else:
            inside = actual is not None and actual in value
        return inside if op == "IN" else not inside
    if op in ("INCLUDES", "EXCLUDES"):
        have = set(actual.split(";")) if actual else set()
        hit = actual is not None and any(wanted <= have for wanted in value)
        return hit if op == "INCLUDES" else not hit
    if op == "LIKE":
        return actual is not None and _like(value, actual)
    if field == "Label__c":
        actual = actual.lower() if actual is not None else None
        value = value.lower() if value is not None else None
    if field in ("Day__c", "When__c") and isinstance(value, str):
        span = relative_range(value, NOW)
        start, end = span.start, span.end
        if field == "Day__c":
            start, end = start.date(), end.date()
        if actual is None:
            return op == "!="
        inside = start <= actual < end
        return {"=": inside, "!=": not inside, "<": actual < start, "<=": actual < end,
                ">": actual >= end, ">=": actual >= start}[op]
    return _compare(actual, op, value)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(_ROWS, _TREES)
def test_the_evaluator_agrees_with_a_brute_force_filter(store, rows, tree):
    with store.db:
        store.db.execute('DELETE FROM "Probe__c"')
    stamp = to_storage(NOW - timedelta(days=1))
    records = []
    for index, row in enumerate(rows):
        record = {**row, "Id": f"a07{index:015d}", "Name": f"p{index}", "IsDeleted": 0,
                  "CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp,
                  "Flag__c": int(row["Flag__c"])}
        if row["Day__c"] is not None:
            record["Day__c"] = row["Day__c"].isoformat()
        if row["When__c"] is not None:
            record["When__c"] = to_storage(row["When__c"])
        records.append(record)
    store.insert("Probe__c", records)
    where = _render(tree)
    page = _query(store, f"SELECT Name FROM Probe__c WHERE {where}", 2000)
    got = sorted(r["Name"] for r in page["records"])
    expected = sorted(f"p{i}" for i, row in enumerate(rows) if _match(row, tree))
    assert got == expected, where
