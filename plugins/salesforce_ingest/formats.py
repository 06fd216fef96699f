"""Streaming encoders: CSV with a header, a JSON array, or NDJSON, optionally gzipped.

Each encoder turns rows into bytes a page at a time, so nothing holds the whole result.
Every format has a valid empty form: a CSV header only, `[]`, or an empty file.

Shaped pages come a column at a time (`page_of_columns`): CSV writes them as they are,
and JSON rows are encoded with msgspec where it is installed (Airflow 3 depends on it),
which makes each row a slot-only object and encodes the page in one call, over ten
times faster than a dict per row and `json` a row at a time, the way Airflow 2 does it.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from functools import lru_cache

try:  # Airflow 3.x
    import msgspec
except ImportError:  # Airflow 2.x
    msgspec = None

FORMATS = ("csv", "json", "ndjson")


class Encoder:
    def __init__(self, fmt: str, columns: list[str] | None, compress: bool = False):
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.fmt = fmt
        self.columns = columns
        self.rows = 0
        self._gzip = zlib.compressobj(6, zlib.DEFLATED, 31) if compress else None
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, lineterminator="\n")

    def start(self) -> bytes:
        if self.fmt == "json":
            return self._out(b"[")
        if self.fmt == "csv" and self.columns is not None:
            return self._out(self._csv_lines([self.columns]).encode())
        return b""

    def row(self, row: dict) -> bytes:
        return self.page([row])

    def page(self, rows: list[dict]) -> bytes:
        """The bytes of `rows`, the same as row() of each gives, in one call. Custom
        queries' rows: their columns come from the first row."""
        if not rows:
            return b""
        head = b""
        if self.columns is None:
            self.columns = list(rows[0])
            head = self.start() if self.fmt == "csv" else b""
        if self.fmt == "csv":
            return head + self.page_of_columns([[row.get(column) for row in rows]
                                                for column in self.columns])
        body = self._json_body(JSON.lines(rows))
        self.rows += len(rows)
        return self._out(body)

    def page_of_columns(self, values: list[list]) -> bytes:
        """The bytes of the rows whose columns' values are `values`, in `columns` order:
        the same as page() of the rows as dicts, without making them."""
        count = len(values[0]) if values else 0
        if not count:
            return b""
        if self.fmt == "csv":
            rows = zip(*map(_csv_column, values), strict=True)
            body = self._csv_lines(rows).encode()
        else:
            body = self._json_body(JSON.lines(JSON.objects(self.columns, values)))
        self.rows += count
        return self._out(body)

    def finish(self) -> bytes:
        tail = b"\n]\n" if self.fmt == "json" and self.rows else b"]\n" if self.fmt == "json" \
            else b""
        data = self._out(tail)
        if self._gzip:
            data += self._gzip.flush()
        return data

    def _json_body(self, lines: bytes) -> bytes:
        if self.fmt == "ndjson":
            return lines
        # a JSON text holds no raw newline: they part the rows
        return (b"," if self.rows else b"") + b"\n" + lines[:-1].replace(b"\n", b",\n")

    def _out(self, data: bytes) -> bytes:
        return self._gzip.compress(data) if self._gzip else data

    def _csv_lines(self, rows) -> str:
        self._csv.writerows(rows)
        text = self._text.getvalue()
        self._text.seek(0)
        self._text.truncate()
        return text


def _csv_column(column: list) -> list:
    """The column's values as CSV writes them, looked at one by one only when it holds
    a compound value (an address), which goes as JSON text."""
    if any(issubclass(kind, dict | list) for kind in set(map(type, column))):
        return [_csv_value(value) for value in column]
    return column


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


class StdlibJson:
    """JSON rows with the standard library: a dict and a `json` call per row."""

    _encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

    def lines(self, rows: list) -> bytes:
        """Each row as a line of compact JSON, in UTF-8."""
        return "".join([self._encoder.encode(row) + "\n" for row in rows]).encode()

    def objects(self, columns: list[str], values: list[list]) -> list[dict]:
        return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


class MsgspecJson:
    """JSON rows with msgspec: the same bytes (floats aside: `1e16`, not `1e+16`)."""

    def __init__(self):
        self.lines = msgspec.json.Encoder().encode_lines

    def objects(self, columns: list[str], values: list[list]) -> list:
        return list(map(_row_type(tuple(columns)), *values))


@lru_cache(maxsize=8)
def _row_type(columns: tuple[str, ...]) -> type:
    """A msgspec Struct encoded as an object of `columns` (fields are named f0, f1...
    so that any column name will do), left out of the cyclic GC: rows hold no cycles."""
    fields = [f"f{index}" for index in range(len(columns))]
    return msgspec.defstruct("Row", fields, rename=dict(zip(fields, columns, strict=True)),
                             gc=False)


JSON = MsgspecJson() if msgspec else StdlibJson()
