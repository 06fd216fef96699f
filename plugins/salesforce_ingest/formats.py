"""Streaming encoders: CSV with a header, a JSON array, or NDJSON, optionally gzipped.

Each encoder turns rows into bytes one at a time, so nothing holds the whole result.
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

    def start(self) -> bytes:
        if self.fmt == "json":
            return self._out(b"[")
        if self.fmt == "csv" and self.columns is not None:
            return self._out(self._csv_line(self.columns))
        return b""

    def row(self, row: dict) -> bytes:
        if self.columns is None:  # custom queries: columns come from the first row
            self.columns = list(row)
            prefix = self._csv_line(self.columns) if self.fmt == "csv" else b""
        else:
            prefix = b""
        self.rows += 1
        if self.fmt == "csv":
            body = self._csv_line([_csv_value(row.get(c)) for c in self.columns])
        elif self.fmt == "json":
            body = (b"" if self.rows == 1 else b",") + b"\n" + _json(row)
        else:
            body = _json(row) + b"\n"
        return self._out(prefix + body)

    def finish(self) -> bytes:
        tail = b"\n]\n" if self.fmt == "json" and self.rows else b"]\n" if self.fmt == "json" \
            else b""
        data = self._out(tail)
        if self._gzip:
            data += self._gzip.flush()
        return data

    def _out(self, data: bytes) -> bytes:
        return self._gzip.compress(data) if self._gzip else data

    @staticmethod
    def _csv_line(values: list) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue().encode()


def _csv_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


def _json(row: dict) -> bytes:
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()
