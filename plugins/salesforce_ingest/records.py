"""Shaping Salesforce records into flat rows.

Columns are the requested fields in lower case with parents joined by `_`
(`Account.Name` -> `account_name`); `attributes` is dropped. With coerce_to_timestamp,
fields that describe types as date or datetime become Unix epoch seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from salesforce_ingest.describe import ResolvedField
from salesforce_ingest.soql import column_name

TIME_ADDED_COLUMN = "time_fetched_from_salesforce"
_TEMPORAL = {"date", "datetime"}


class RowShaper:
    def __init__(self, fields: list[ResolvedField], coerce_to_timestamp: bool,
                 record_time_added: bool):
        self.fields = fields
        self.coerce = coerce_to_timestamp
        self.time_added = record_time_added
        self.columns = [column_name(field.path) for field in fields]
        if record_time_added:
            self.columns.append(TIME_ADDED_COLUMN)

    def row(self, record: dict) -> dict:
        row = {}
        for field, column in zip(self.fields, self.columns, strict=False):
            value = _walk(record, field.path)
            if self.coerce and field.type in _TEMPORAL and value is not None:
                value = to_epoch(value)
            row[column] = value
        if self.time_added:
            row[TIME_ADDED_COLUMN] = int(time.time())
        return row


    def row_from_csv(self, flat: dict) -> dict:
        """A Bulk API CSV row (strings keyed by field path, "" for null) as a typed row."""
        record = {}
        for field, column in zip(self.fields, self.columns, strict=False):
            text = _case_insensitive(flat, field.path)
            value = None if text in (None, "") else _from_csv(field.type, text)
            if self.coerce and field.type in _TEMPORAL and value is not None:
                value = to_epoch(value)
            record[column] = value
        if self.time_added:
            record[TIME_ADDED_COLUMN] = int(time.time())
        return record


def _from_csv(kind: str, text: str):
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "int":
        return int(float(text))
    if kind in ("currency", "double", "percent"):
        return float(text)
    return text


def _walk(record: dict, path: str):
    """The value at a dotted path, matching keys case-insensitively; None past a null parent."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part, _case_insensitive(value, part))
    return value


def _case_insensitive(record: dict, key: str):
    lowered = key.lower()
    for name, value in record.items():
        if name.lower() == lowered:
            return value
    return None


def to_epoch(value: str) -> int:
    """`2024-01-05T10:00:00.000+0000` (REST), `...000Z` (Bulk) or `2024-01-05` -> Unix
    seconds (UTC)."""
    if len(value) == 10:
        moment = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    else:
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(moment.timestamp())


def flatten(record: dict, prefix: str = "") -> dict:
    """A whole record (as a custom query returns it) as flat `parent_field` columns."""
    row = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        column = f"{prefix}{key.lower()}"
        if isinstance(value, dict) and "attributes" in value:
            row.update(flatten(value, column + "_"))
        else:
            row[column] = value
    return row
