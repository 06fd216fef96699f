import csv
import gzip
import io
import json

import pytest
from salesforce_ingest import formats
from salesforce_ingest.formats import Encoder

ROWS = [{"id": "006A", "name": 'Big "deal", really', "amount": 10.5},
        {"id": "006B", "name": "Ünïcode\nline", "amount": None}]


@pytest.fixture(autouse=True, params=["msgspec", "stdlib"])
def json_backend(request, monkeypatch):
    """Every test runs with each JSON encoder: msgspec (Airflow 3) and json (Airflow 2)."""
    backend = formats.MsgspecJson() if request.param == "msgspec" else formats.StdlibJson()
    monkeypatch.setattr(formats, "JSON", backend)
    return backend


def _encode(fmt, rows, columns=("id", "name", "amount"), compress=False):
    encoder = Encoder(fmt, list(columns) if columns else None, compress=compress)
    data = encoder.start() + b"".join(encoder.row(r) for r in rows) + encoder.finish()
    return gzip.decompress(data) if compress else data


@pytest.mark.parametrize("compress", [False, True])
def test_csv_round_trips(compress):
    text = _encode("csv", ROWS, compress=compress).decode()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in parsed] == [r["name"] for r in ROWS]
    assert parsed[1]["amount"] == ""


def test_json_array_and_ndjson_round_trip():
    assert json.loads(_encode("json", ROWS)) == ROWS
    lines = _encode("ndjson", ROWS).decode().splitlines()
    assert [json.loads(line) for line in lines] == ROWS


@pytest.mark.parametrize("fmt, expected", [("csv", "id,name,amount\n"), ("json", "[]\n"),
                                           ("ndjson", "")])
def test_empty_results_are_valid_empty_objects(fmt, expected):
    assert _encode(fmt, []).decode() == expected


def test_custom_query_columns_come_from_the_first_row():
    text = _encode("csv", ROWS, columns=None).decode()
    assert text.splitlines()[0] == "id,name,amount"


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("columns", [("id", "name", "amount"), None])
@pytest.mark.parametrize("compress", [False, True])
def test_a_page_encodes_as_its_rows_one_by_one(fmt, columns, compress):
    by_row = _encode(fmt, ROWS * 3, columns=columns, compress=compress)
    encoder = Encoder(fmt, list(columns) if columns else None, compress=compress)
    data = (encoder.start() + encoder.page(ROWS) + encoder.page([]) + encoder.page(ROWS * 2)
            + encoder.finish())
    assert (gzip.decompress(data) if compress else data) == by_row
    assert encoder.rows == 6


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("compress", [False, True])
def test_a_page_of_columns_encodes_as_its_rows(fmt, compress):
    rows = ROWS + [{"id": "006C", "name": None, "amount": {"compound": ["field", 1]}}]
    columns = list(ROWS[0])
    as_rows = Encoder(fmt, columns, compress=compress)
    as_columns = Encoder(fmt, columns, compress=compress)
    values = [[row[column] for row in rows] for column in columns]
    by_rows = as_rows.start() + as_rows.page(rows) + as_rows.page(rows) + as_rows.finish()
    by_columns = (as_columns.start() + as_columns.page_of_columns(values)
                  + as_columns.page_of_columns([[] for _ in columns])
                  + as_columns.page_of_columns(values) + as_columns.finish())
    assert by_columns == by_rows and as_columns.rows == 6


def test_both_encoders_write_the_same_json():
    rows = ROWS + [{"id": "006C", "name": "tab\there \u2028 \\ \x00", "amount": 1e16,
                    "flag": True, "address": {"city": "Paris", "lines": ["1", None]}}]
    columns = list(rows[-1])
    values = [[row.get(column) for row in rows] for column in columns]
    fast, slow = formats.MsgspecJson(), formats.StdlibJson()
    for encoded in (fast.lines(rows), fast.lines(fast.objects(columns, values))):
        assert [json.loads(line) for line in encoded.splitlines()][-1] == rows[-1]
        assert encoded.replace(b"1e16", b"1e+16") in (slow.lines(rows),
                                                      slow.lines(slow.objects(columns, values)))


def test_any_column_name_can_be_a_msgspec_row_field():
    names = ["copy", "class", "f1", "__struct_fields__", "a b"]
    [line] = formats.MsgspecJson().lines(
        formats.MsgspecJson().objects(names, [[1], [2], [3], [4], [5]])).splitlines()
    assert json.loads(line) == dict(zip(names, [1, 2, 3, 4, 5], strict=True))
