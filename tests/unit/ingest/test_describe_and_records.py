import pytest
from salesforce_ingest.describe import ResolvedField, Schema
from salesforce_ingest.records import TIME_ADDED_COLUMN, RowShaper, flatten, to_epoch
from salesforce_ingest.soql import UnsafeSoqlError, build_count_query

DESCRIBES = {
    "opportunity": {"name": "Opportunity", "fields": [
        {"name": "Id", "type": "id"},
        {"name": "Amount", "type": "currency"},
        {"name": "CloseDate", "type": "date"},
        {"name": "SystemModstamp", "type": "datetime"},
        {"name": "AccountId", "type": "reference", "relationshipName": "Account",
         "referenceTo": ["Account"]},
    ]},
    "account": {"name": "Account", "fields": [
        {"name": "Id", "type": "id"},
        {"name": "Name", "type": "string"},
        {"name": "OwnerId", "type": "reference", "relationshipName": "Owner",
         "referenceTo": ["User"]},
    ]},
    "user": {"name": "User", "fields": [{"name": "Name", "type": "string"}]},
}


@pytest.fixture
def schema():
    calls = []

    def describe(name):
        calls.append(name)
        if name.lower() not in DESCRIBES:
            raise LookupError(name)
        return DESCRIBES[name.lower()]

    result = Schema(describe)
    result.calls = calls
    return result


def test_paths_resolve_case_insensitively_to_the_org_spelling(schema):
    assert schema.resolve("opportunity", "account.owner.name") == ResolvedField(
        "Account.Owner.Name", "string")
    assert schema.resolve("Opportunity", "closedate").type == "date"
    assert schema.calls == ["opportunity", "Account", "User"]  # each describe once


@pytest.mark.parametrize("path, message", [
    ("Stage", "No such column 'Stage'"),
    ("Owner.Name", "'Owner' is not a parent relationship"),
    ("Account.Name; DELETE", "not a Salesforce API name"),
])
def test_unknown_or_unsafe_fields_are_refused(schema, path, message):
    with pytest.raises(UnsafeSoqlError, match=message):
        schema.resolve("Opportunity", path)


def test_relationship_object_adds_every_parent_field(schema):
    assert [f.path for f in schema.relationship_fields("Opportunity", "account")] == [
        "Account.Id", "Account.Name", "Account.OwnerId"]


def test_rows_flatten_parents_and_coerce_temporal_fields():
    fields = [ResolvedField("Id", "id"), ResolvedField("CloseDate", "date"),
              ResolvedField("SystemModstamp", "datetime"),
              ResolvedField("Account.Name", "string")]
    shaper = RowShaper(fields, coerce_to_timestamp=True, record_time_added=True)
    record = {"attributes": {"type": "Opportunity"}, "Id": "006A", "CloseDate": "2024-01-02",
              "SystemModstamp": "2024-01-05T10:00:00.000+0000", "Account": None}
    row = shaper.row(record)
    assert shaper.columns == ["id", "closedate", "systemmodstamp", "account_name",
                              TIME_ADDED_COLUMN]
    assert row["closedate"] == 1704153600 and row["systemmodstamp"] == 1704448800
    assert row["account_name"] is None and isinstance(row[TIME_ADDED_COLUMN], int)


def _rows(shaper, columns_values):
    return [dict(zip(shaper.columns, row, strict=True))
            for row in zip(*columns_values, strict=True)]


@pytest.mark.parametrize("records", [
    [{"attributes": {}, "Id": "006A", "Amount": 10.5}, {"attributes": {}, "Id": "006B",
                                                        "Amount": None}],
    [{"Id": "006A", "Amount": 1.0}, {"id": "006B", "amount": 2.0}],  # spelled otherwise
    [],
])
@pytest.mark.parametrize("time_added", [False, True])
def test_a_page_of_values_is_the_row_of_each_record(records, time_added):
    shaper = RowShaper([ResolvedField("Id", "id"), ResolvedField("Amount", "currency")],
                       coerce_to_timestamp=False, record_time_added=time_added)
    values = shaper.values(records)
    assert len(values) == len(shaper.columns)
    assert _rows(shaper, values) == [shaper.row(record) for record in records]


def test_bulk_csv_pages_shape_as_rest_records_do():
    fields = [ResolvedField("Id", "id"), ResolvedField("NumberOfEmployees", "int"),
              ResolvedField("Account.Name", "string")]
    shaper = RowShaper(fields, coerce_to_timestamp=False, record_time_added=True)
    header = ["Id", "NumberOfEmployees", "Account.Name"]
    records = [["001A", "12.0", 'Acme, "Inc"'], ["001B", "", ""]]
    rows = _rows(shaper, shaper.values_from_csv(header, records))
    assert [{k: v for k, v in row.items() if k != TIME_ADDED_COLUMN} for row in rows] == [
        {"id": "001A", "numberofemployees": 12, "account_name": 'Acme, "Inc"'},
        {"id": "001B", "numberofemployees": None, "account_name": None}]
    assert rows[0][TIME_ADDED_COLUMN] == rows[1][TIME_ADDED_COLUMN]
    assert shaper.values_from_csv(header, []) == [[], [], [], []]


def test_custom_query_records_flatten_whole():
    record = {"attributes": {}, "Id": "00Q1", "Owner": {"attributes": {}, "Name": "Ann"}}
    assert flatten(record) == {"id": "00Q1", "owner_name": "Ann"}


def test_epoch_of_salesforce_datetimes_honours_the_offset():
    assert to_epoch("2024-01-05T12:00:00.000+0200") == to_epoch("2024-01-05T10:00:00.000+0000")


def test_bulk_csv_rows_get_the_same_columns_and_types_as_rest_rows():
    fields = [ResolvedField("Id", "id"), ResolvedField("Amount", "currency"),
              ResolvedField("IsWon", "boolean"), ResolvedField("SystemModstamp", "datetime"),
              ResolvedField("Account.Name", "string")]
    shaper = RowShaper(fields, coerce_to_timestamp=True, record_time_added=False)
    csv_row = {"Id": "006A", "Amount": "10.5", "IsWon": "true",
               "SystemModstamp": "2024-01-05T10:00:00.000Z", "account.name": ""}
    [row] = _rows(shaper, shaper.values_from_csv(list(csv_row), [list(csv_row.values())]))
    assert row == {"id": "006A", "amount": 10.5, "iswon": True, "systemmodstamp": 1704448800,
                   "account_name": None}


def test_count_query_uses_the_same_bounds():
    assert build_count_query("Lead", "2024-01-01", None) == (
        "SELECT COUNT() FROM Lead WHERE SystemModstamp >= 2024-01-01T00:00:00Z")
