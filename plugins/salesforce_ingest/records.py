"""Shaping Salesforce records into flat rows.

Columns are the requested fields in lower case with parents joined by `_`
(`Account.Name` -> `account_name`); `attributes` is dropped. With coerce_to_timestamp,
fields that describe types as date or datetime become Unix epoch seconds.

A page (REST records, or a Bulk CSV page) is shaped into its columns' values, a list
per column, which the encoders write without making a dict per row.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from salesforce_ingest.describe import ResolvedField
from salesforce_ingest.soql import column_name

TIME_ADDED_COLUMN = "time_fetched_from_salesforce"
_TEMPORAL = {"date", "datetime"}
_MISSING = object()


class RowShaper:
    def __init__(self, fields: list[ResolvedField], coerce_to_timestamp: bool,
                 record_time_added: bool):
        self.fields = fields
        self.coerce = coerce_to_timestamp
        self.time_added = record_time_added
        self.columns = [column_name(field.path) for field in fields]
        if record_time_added:
            self.columns.append(TIME_ADDED_COLUMN)
        # Worked out once, not per record: a million records make every step count.
        self._plan = [(column, field.path, tuple(field.path.split(".")),
                       self.coerce and field.type in _TEMPORAL)
                      for column, field in zip(self.columns, fields, strict=False)]
        # Plain top-level fields, nothing coerced: rows are a lookup per column.
        simple = all(len(parts) == 1 and not coerce for _, _, parts, coerce in self._plan)
        self._plain_paths = [path for _, path, _, _ in self._plan] if simple else None

    def row(self, record: dict) -> dict:
        row = {}
        for column, path, parts, coerce in self._plan:
            value = _walk(record, parts) if len(parts) > 1 else _get(record, path)
            if coerce and value is not None:
                value = to_epoch(value)
            row[column] = value
        if self.time_added:
            row[TIME_ADDED_COLUMN] = int(time.time())
        return row

    def values(self, records: list[dict]) -> list[list]:
        """A page of records as its columns' values (`values[i]` the i-th column's):
        row() of each, turned a column at a time when every field is a plain one spelled
        as the describe spells it, with no row made."""
        if self._plain_paths is not None:
            try:
                columns = [[record[path] for record in records] for path in self._plain_paths]
            except KeyError:  # a field spelled otherwise: the case-insensitive way
                pass
            else:
                if self.time_added:
                    columns.append([int(time.time())] * len(records))
                return columns
        rows = [self.row(record) for record in records]
        return [[row[column] for row in rows] for column in self.columns]

    def values_from_csv(self, header: list[str], records: list[list[str]]) -> list[list]:
        """Bulk API CSV rows (strings in `header`'s order, "" for null) as their columns'
        values: the same columns and types as values() makes of REST records, each
        column's conversion chosen once."""
        if not records:
            return [[] for _ in self.columns]
        positions = {name.lower(): index for index, name in enumerate(header)}
        texts_by_position = list(zip(*records, strict=True))
        absent = [""] * len(records)
        columns = []
        for (_, path, _, coerce), field in zip(self._plan, self.fields, strict=True):
            position = positions.get(path.lower())
            texts = absent if position is None else texts_by_position[position]
            parse = _CSV_TYPES.get(field.type)
            if coerce:
                values = [to_epoch(text) if text else None for text in texts]
            elif parse:
                values = [parse(text) if text else None for text in texts]
            else:
                values = [text or None for text in texts]
            columns.append(values)
        if self.time_added:
            columns.append([int(time.time())] * len(records))
        return columns


_CSV_TYPES = {"boolean": lambda text: text.lower() == "true",
              "int": lambda text: int(float(text)),
              "currency": float, "double": float, "percent": float}


def _walk(record: dict, parts: tuple[str, ...]):
    """The value at a dotted path, matching keys case-insensitively; None past a null parent."""
    value = record
    for part in parts:
        if not isinstance(value, dict):
            return None
        value = _get(value, part)
    return value


def _get(record: dict, key: str):
    """record[key], else the key spelled in another case, else None."""
    value = record.get(key, _MISSING)
    return _case_insensitive(record, key) if value is _MISSING else value


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
