"""Streaming encoders: CSV with a header, a JSON array, or NDJSON, optionally gzipped.

Each encoder turns rows into bytes a page at a time, so nothing holds the whole result.
Every format has a valid empty form: a CSV header only, `[]`, or an empty file.
"""

from __future__ import annotations

import csv
import io
import json
import zlib

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
            return self._out("[")
        if self.fmt == "csv" and self.columns is not None:
            return self._out(self._csv_lines([self.columns]))
        return b""

    def row(self, row: dict) -> bytes:
        return self.page([row])

    def page(self, rows: list[dict]) -> bytes:
        """The bytes of `rows`, the same as row() of each gives, in one call."""
        if not rows:
            return b""
        head = ""
        if self.columns is None:  # custom queries: columns come from the first row
            self.columns = list(rows[0])
            head = self._csv_lines([self.columns]) if self.fmt == "csv" else ""
        if self.fmt == "csv":
            columns = self.columns
            body = self._csv_lines([[_csv_value(row.get(c)) for c in columns]
                                    for row in rows])
        elif self.fmt == "json":
            body = ("," if self.rows else "") + "\n" + ",\n".join(map(_JSON.encode, rows))
        else:
            body = "\n".join(map(_JSON.encode, rows)) + "\n"
        self.rows += len(rows)
        return self._out(head + body)

    def finish(self) -> bytes:
        tail = "\n]\n" if self.fmt == "json" and self.rows else "]\n" if self.fmt == "json" \
            else ""
        data = self._out(tail)
        if self._gzip:
            data += self._gzip.flush()
        return data

    def _out(self, text: str) -> bytes:
        data = text.encode()
        return self._gzip.compress(data) if self._gzip else data

    def _csv_lines(self, rows: list[list]) -> str:
        self._csv.writerows(rows)
        text = self._text.getvalue()
        self._text.seek(0)
        self._text.truncate()
        return text


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
