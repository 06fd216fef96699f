"""The stub's data: one SQLite table per object, in the state dir, kept across restarts.

Also owns query cursors, so `nextRecordsUrl` pages resume where the last one ended
(by rowid where the query allows it, which keeps a million-row extraction linear).
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mwaa_kit.emulators.salesforce.schema import SObject
from mwaa_kit.emulators.salesforce.soql import parser
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.soql.evaluator import CompiledQuery, compile_query, rows

_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "currency": "REAL", "double": "REAL",
              "percent": "REAL"}
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Id: key prefix, base-62 number, and the case-safe suffix."""
    body = ""
    for _ in range(12):
        number, digit = divmod(number, 62)
        body = _BASE62[digit] + body
    short = prefix + body
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(short[chunk * 5:chunk * 5 + 5]) if c.isupper())
        suffix += _SUFFIX_CHARS[bits]
    return short + suffix


class InvalidQueryLocator(LookupError):
    """A nextRecordsUrl that is unknown or exhausted."""


@dataclass
class _Cursor:
    """A query's result set. Pages are addressed by position, as Salesforce's
    `<locator>-<position>` URLs are, so asking for a page again (a client retrying after
    a broken answer) returns the same records."""

    compiled: CompiledQuery
    version: str
    batch_size: int
    total: int
    rowid_at: dict[int, int] = field(default_factory=lambda: {0: 0})  # position -> rowid


_MAX_CURSORS = 1000


class Store:
    def __init__(self, path: Path, objects: dict[str, SObject],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path, self.objects, self.now = path, objects, now
        self._local = threading.local()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self._create_tables()

    @property
    def db(self) -> sqlite3.Connection:
        if not hasattr(self._local, "connection"):
            self._local.connection = sqlite3.connect(self.path, timeout=30)
        return self._local.connection

    def _create_tables(self) -> None:
        with self.db:
            for sobject in self.objects.values():
                columns = ", ".join(
                    f'"{f.name}" {_SQL_TYPES.get(f.type, "TEXT")}'
                    + (" PRIMARY KEY" if f.name == "Id" else "") for f in sobject.fields)
                self.db.execute(f'CREATE TABLE IF NOT EXISTS "{sobject.name}" ({columns})')
                for f in sobject.fields:
                    if f.type in ("reference", "datetime"):
                        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{sobject.name}_{f.name}" '
                                        f'ON "{sobject.name}" ("{f.name}")')

    def count(self, sobject: str) -> int:
        return self.db.execute(f'SELECT COUNT(*) FROM "{sobject}"').fetchone()[0]

    def next_number(self, sobject: str) -> int:
        return self.count(sobject) + 1

    def insert(self, sobject: str, records: Iterable[dict]) -> None:
        names = [f.name for f in self.objects[sobject].fields]
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        sql = f'INSERT OR REPLACE INTO "{sobject}" ({columns}) VALUES ({marks})'
        with self.db:
            self.db.executemany(sql, ([r.get(n) for n in names] for r in records))

    def ids(self, sobject: str) -> list[str]:
        return [row[0] for row in self.db.execute(f'SELECT "Id" FROM "{sobject}"')]

    # --------------------------------------------------------------- queries
    def query(self, soql: str, version: str, include_deleted: bool, batch_size: int) -> dict:
        try:
            compiled = compile_query(parser.parse(soql), self.objects, self.now(),
                                     include_deleted)
        except SoqlError as error:
            raise error.locate(soql) from None
        if compiled.count_only:
            total = self.db.execute(compiled.sql, compiled.params).fetchone()[0]
            return {"totalSize": total, "done": True, "records": []}
        total = self.db.execute(f"SELECT COUNT(*) FROM ({compiled.sql})",
                                compiled.params).fetchone()[0]
        total = max(0, total - (compiled.offset or 0))
        if compiled.limit is not None:
            total = min(total, compiled.limit)
        cursor = _Cursor(compiled, version, batch_size, total)
        key = secrets.token_hex(8)
        with self._lock:
            self._cursors[key] = cursor
            while len(self._cursors) > _MAX_CURSORS:
                self._cursors.popitem(last=False)
        return self._page(cursor, key, 0)

    def query_more(self, locator: str) -> dict:
        key, _, position = locator.partition("-")
        with self._lock:
            cursor = self._cursors.get(key)
        if cursor is None or not position.isdigit() or int(position) not in cursor.rowid_at:
            raise InvalidQueryLocator(locator)
        return self._page(cursor, key, int(position))

    def _page(self, cursor: _Cursor, key: str, position: int) -> dict:
        size = min(cursor.batch_size, cursor.total - position)
        offset = (cursor.compiled.offset or 0) + position
        fetched = list(rows(cursor.compiled, self.db, cursor.rowid_at[position], offset, size))
        records = [self.record(cursor.compiled, row, cursor.version) for row in fetched]
        served = position + len(records)
        done = served >= cursor.total or len(fetched) < size
        page = {"totalSize": cursor.total, "done": done, "records": records}
        if not done:
            with self._lock:
                cursor.rowid_at[served] = fetched[-1][0]
            page["nextRecordsUrl"] = f"/services/data/v{cursor.version}/query/{key}-{served}"
        return page

    def record(self, compiled: CompiledQuery, row: tuple, version: str) -> dict:
        """A row as Salesforce returns it: attributes, fields, nested parents, children."""
        record = _attributes(compiled.sobject.name, row[1], version)
        parents = {key: index for index, key in
                   enumerate(k for k in compiled.parents if k)}
        parent_ids = row[2 + len(compiled.columns):]
        for column, value in zip(compiled.columns, row[2:2 + len(compiled.columns)],
                                 strict=False):
            target = record
            for depth in range(1, len(column.path)):
                key = column.path[:depth]
                name = column.path[depth - 1]
                parent_id = parent_ids[parents[key]]
                if parent_id is None:
                    target[name] = None
                    target = None
                    break
                if target.get(name) is None:
                    alias_object = compiled.parents[key][1].name
                    target[name] = _attributes(alias_object, parent_id, version)
                target = target[name]
            if target is not None:
                target[column.path[-1]] = _typed(column.field.type, value)
        for relationship, child, field_name, subquery in compiled.children:
            record[relationship] = self._children(child, field_name, subquery, row[1], version)
        return record

    def _children(self, child: SObject, field_name: str, subquery, parent_id: str,
                  version: str) -> dict | None:
        from mwaa_kit.emulators.salesforce.soql.parser import BoolOp, Comparison, Literal

        condition = Comparison(field_name, "=", Literal("string", parent_id))
        subquery = parser.Query(subquery.fields, child.name,
                                BoolOp("AND", (condition, subquery.where))
                                if subquery.where else condition,
                                subquery.order, subquery.limit, subquery.offset)
        compiled = compile_query(subquery, self.objects, self.now(), False)
        found = [self.record(compiled, row, version)
                 for row in rows(compiled, self.db, 0, compiled.offset or 0,
                                 compiled.limit or 2000)]
        if not found:
            return None
        return {"totalSize": len(found), "done": True, "records": found}


def _attributes(sobject: str, record_id: str, version: str) -> dict:
    return {"attributes": {"type": sobject,
                           "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}}


def _typed(kind: str, value):
    if value is None:
        return None
    if kind == "boolean":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in ("currency", "double", "percent"):
        return float(value)
    return value


__all__ = ["Store", "InvalidQueryLocator", "SoqlError", "salesforce_id"]
