import csv
import gzip
import io
import json

import msgspec
import pytest
from salesforce_ingest import formats
from salesforce_ingest.formats import Encoder

ROWS = [{"id": "006A", "name": 'Big "deal", really', "amount": 10.5},
        {"id": "006B", "name": "Ünïcode\nline", "amount": None}]


@pytest.fixture(autouse=True, params=["msgspec", "stdlib"])
def json_lines(request, monkeypatch):
    """Every test runs with each JSON encoder: msgspec (Airflow 3) and json (Airflow 2)."""
    if request.param == "stdlib":
        monkeypatch.setattr(formats, "json_lines", formats.json_lines_with_stdlib)
    else:
        monkeypatch.setattr(formats, "json_lines", msgspec.json.Encoder().encode_lines)
    return request.param


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


def test_both_encoders_write_the_same_json():
    rows = ROWS + [{"id": "006C", "name": "tab\there \u2028 \\ \x00", "amount": 1e16,
                    "flag": True, "address": {"city": "Paris", "lines": ["1", None]}}]
    fast = msgspec.json.Encoder().encode_lines(rows)
    assert [json.loads(line) for line in fast.splitlines()] == rows
    assert fast.replace(b"1e16", b"1e+16") == formats.json_lines_with_stdlib(rows)
