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
from mwaa_kit.emulators.salesforce.soql import dates as _dates
from mwaa_kit.emulators.salesforce.soql import parser
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
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
    """The org's records in one SQLite file (a connection per thread, writes serialized) and
    its open query cursors; `now` is the org's clock."""

    def __init__(self, path: Path, objects: dict[str, SObject],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path, self.objects, self.now = path, objects, now
        self._local = threading.local()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self._write = threading.RLock()
        self._create_tables()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's own connection: sqlite3 refuses to share one across threads."""
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
                # A state dir made by an older schema (or before --objects-file gained a
                # field) gets the new columns, empty.
                existing = {row[1] for row in self.db.execute(
                    f'PRAGMA table_info("{sobject.name}")')}
                for f in sobject.fields:
                    if f.name not in existing:
                        self.db.execute(f'ALTER TABLE "{sobject.name}" ADD COLUMN "{f.name}" '
                                        f'{_SQL_TYPES.get(f.type, "TEXT")}')
                        if f.name == "Name" and "LastName" in existing:  # compound name
                            self.db.execute(
                                f'UPDATE "{sobject.name}" SET "Name" = TRIM(COALESCE('
                                '"FirstName", \'\') || \' \' || COALESCE("LastName", \'\'))')
                for f in sobject.fields:
                    if f.type in ("reference", "datetime"):
                        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{sobject.name}_{f.name}" '
                                        f'ON "{sobject.name}" ("{f.name}")')

    def count(self, sobject: str) -> int:
        """How many rows `sobject` holds, deleted ones included."""
        return self.db.execute(f'SELECT COUNT(*) FROM "{sobject}"').fetchone()[0]

    def next_number(self, sobject: str) -> int:
        """A number no Id of `sobject` uses yet (Ids are prefix + base-62 number)."""
        number = self.db.execute(f'SELECT COALESCE(MAX(rowid), 0) FROM "{sobject}"'
                                 ).fetchone()[0] + 1
        prefix = self.objects[sobject].key_prefix
        while self.db.execute(f'SELECT 1 FROM "{sobject}" WHERE "Id" = ?',
                              (salesforce_id(prefix, number),)).fetchone():
            number += 1
        return number

    def insert(self, sobject: str, records: Iterable[dict]) -> None:
        """Write complete rows as given (INSERT OR REPLACE: an existing Id is overwritten); only a
        compound Name is derived, no defaults or system fields are filled."""
        fields = self.objects[sobject].fields
        names = [f.name for f in fields]
        compound = "Name" in names and "LastName" in names  # Contact, Lead: Name is derived
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        sql = f'INSERT OR REPLACE INTO "{sobject}" ({columns}) VALUES ({marks})'

        def values(record: dict) -> list:
            if compound:
                record = {**record, "Name": " ".join(
                    p for p in (record.get("FirstName"), record.get("LastName")) if p)}
            return [record.get(n) for n in names]

        with self._write, self.db:
            self.db.executemany(sql, (values(r) for r in records))

    # ------------------------------------------------------------------ CRUD
    def get(self, sobject: str, record_id: str, include_deleted: bool = False) -> dict | None:
        """The stored row of `record_id` (15- or 18-character Id), or None."""
        names = [f.name for f in self.objects[sobject].fields]
        where = '"Id" = ?' if len(record_id) == 18 else 'substr("Id", 1, 15) = ?'
        row = self.db.execute(f'SELECT {self._columns(sobject)} FROM "{sobject}" WHERE '
                              f'{where}', (record_id,)).fetchone()
        if row is None:
            return None
        record = dict(zip(names, row, strict=True))
        if record["IsDeleted"] and not include_deleted:
            return None
        return record

    def find(self, sobject: str, field_name: str, value) -> list[dict]:
        """Live rows whose `field_name` equals `value` (an external Id lookup)."""
        names = [f.name for f in self.objects[sobject].fields]
        rows = self.db.execute(f'SELECT {self._columns(sobject)} FROM "{sobject}" WHERE '
                               f'"{field_name}" = ? AND "IsDeleted" = 0 LIMIT 10',
                               (value,)).fetchall()
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _columns(self, sobject: str) -> str:
        """The columns in schema order (a migrated table has its new ones last)."""
        return ", ".join(f'"{f.name}"' for f in self.objects[sobject].fields)

    def create(self, sobject: str, values: dict, user_id: str | None = None) -> str:
        """Insert a record as the REST API creates one (new Id, owner, system fields, boolean
        defaults, derived fields); returns its Id."""
        stamp = to_storage(self.now())
        with self._write:
            record_id = salesforce_id(self.objects[sobject].key_prefix,
                                      self.next_number(sobject))
            owner = user_id or salesforce_id("005", 1)
            defaults = {f.name: 0 for f in self.objects[sobject].fields
                        if f.type == "boolean"}
            values = _derived(sobject, {**defaults, **values})
            self.insert(sobject, [{"OwnerId": owner, **values, "Id": record_id,
                                   "IsDeleted": 0, "CreatedDate": stamp,
                                   "CreatedById": owner, "LastModifiedDate": stamp,
                                   "LastModifiedById": owner, "SystemModstamp": stamp}])
        return record_id

    def update(self, sobject: str, current: dict, values: dict) -> None:
        """Set `values` on the record `current`, stamping LastModifiedDate and SystemModstamp as
        Salesforce does."""
        stamp = to_storage(self.now())
        self._set(sobject, current, {**values, "LastModifiedDate": stamp,
                                     "SystemModstamp": stamp})

    def delete(self, sobject: str, current: dict) -> None:
        """Soft delete: IsDeleted and a new SystemModstamp, so queryAll and deleted/ still see the
        record."""
        self._set(sobject, current, {"IsDeleted": 1, "SystemModstamp": to_storage(self.now())})

    def _set(self, sobject: str, current: dict, values: dict) -> None:
        """UPDATE in place, so the row keeps its rowid (open cursors page by rowid)."""
        values = _derived(sobject, values)
        compound = self.objects[sobject].field("LastName") is not None
        if compound and ("LastName" in values or "FirstName" in values):
            merged = {**current, **values}
            values = {**values, "Name": " ".join(
                p for p in (merged.get("FirstName"), merged.get("LastName")) if p)}
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        with self._write, self.db:
            self.db.execute(f'UPDATE "{sobject}" SET {assignments} WHERE "Id" = ?',
                            [*values.values(), current["Id"]])

    def changed(self, sobject: str, start: datetime, end: datetime,
                deleted: bool) -> list[tuple[str, str]]:
        """(Id, SystemModstamp) of the records updated (or deleted) in [start, end)."""
        return self.db.execute(
            f'SELECT "Id", "SystemModstamp" FROM "{sobject}" WHERE "IsDeleted" = ? AND '
            '"SystemModstamp" >= ? AND "SystemModstamp" < ? ORDER BY "SystemModstamp"',
            (int(deleted), to_storage(start), to_storage(end))).fetchall()

    def ids(self, sobject: str) -> list[str]:
        """Every Id of `sobject`, deleted records included."""
        return [row[0] for row in self.db.execute(f'SELECT "Id" FROM "{sobject}"')]

    # --------------------------------------------------------------- queries
    def compile(self, soql: str, include_deleted: bool) -> CompiledQuery:
        """Parse and compile `soql` (`include_deleted` for queryAll); a SoqlError comes out located
        (the query line and a caret), as Salesforce words it."""
        try:
            return compile_query(parser.parse(soql), self.objects, self.now(), include_deleted)
        except SoqlError as error:
            raise error.locate(soql) from None

    def open_cursor(self, compiled: CompiledQuery, version: str,
                    batch_size: int = 2000) -> tuple[str, _Cursor]:
        """Count the result set and remember it under a new locator key."""
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
        return key, cursor

    def cursor(self, key: str) -> _Cursor | None:
        """The open cursor `key`; None when unknown or dropped (only the newest 1000 are kept)."""
        with self._lock:
            return self._cursors.get(key)

    def fetch(self, cursor: _Cursor, position: int, size: int) -> list[tuple]:
        """Rows [position, position + size) of a cursor; `position` must be 0 or where an
        earlier fetch ended."""
        size = max(0, min(size, cursor.total - position))
        if size == 0:
            return []
        with self._lock:
            after = cursor.rowid_at.get(position)
        if after is None:
            raise InvalidQueryLocator(str(position))
        offset = (cursor.compiled.offset or 0) + position
        fetched = list(rows(cursor.compiled, self.db, after, offset, size))
        if fetched:
            with self._lock:
                cursor.rowid_at[position + len(fetched)] = fetched[-1][0]
        return fetched

    def query(self, soql: str, version: str, include_deleted: bool, batch_size: int) -> dict:
        """The first page of a query (`batch_size` records), with nextRecordsUrl when more remain;
        COUNT() answers with totalSize only."""
        compiled = self.compile(soql, include_deleted)
        if compiled.count_only:
            total = self.db.execute(compiled.sql, compiled.params).fetchone()[0]
            return {"totalSize": total, "done": True, "records": []}
        key, cursor = self.open_cursor(compiled, version, batch_size)
        return self._page(cursor, key, 0)

    def query_more(self, locator: str) -> dict:
        """The page a `<key>-<position>` locator names; InvalidQueryLocator when the cursor is gone
        or no page ended at that position."""
        key, _, position = locator.partition("-")
        cursor = self.cursor(key)
        if cursor is None or not position.isdigit() or int(position) not in cursor.rowid_at:
            raise InvalidQueryLocator(locator)
        return self._page(cursor, key, int(position))

    def _page(self, cursor: _Cursor, key: str, position: int) -> dict:
        size = min(cursor.batch_size, cursor.total - position)
        fetched = self.fetch(cursor, position, size)
        compiled = cursor.compiled
        if len(compiled.parents) == 1 and not compiled.children:
            records = self._flat_records(compiled, fetched, cursor.version)
        else:
            records = [self.record(compiled, row, cursor.version) for row in fetched]
        served = position + len(records)
        done = served >= cursor.total or len(fetched) < size
        page = {"totalSize": cursor.total, "done": done, "records": records}
        if not done:
            page["nextRecordsUrl"] = f"/services/data/v{cursor.version}/query/{key}-{served}"
        return page

    @staticmethod
    def _flat_records(compiled: CompiledQuery, fetched: list[tuple], version: str) -> list:
        """record() for queries without parent paths or subqueries: the bulk of an
        extraction, so it is kept to one dict per row."""
        name = compiled.sobject.name
        url = f"/services/data/v{version}/sobjects/{name}/"
        names = [c.path[-1] for c in compiled.columns]
        converters = [_CONVERTERS.get(c.field.type) for c in compiled.columns]
        plain = not any(converters)
        records = []
        for row in fetched:
            record = {"attributes": {"type": name, "url": url + row[1]}}
            values = row[2:]
            if plain:
                record.update(zip(names, values, strict=False))
            else:
                for field_name, convert, value in zip(names, converters, values,
                                                      strict=False):
                    record[field_name] = convert(value) if convert and value is not None \
                        else value
            records.append(record)
        return records

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
                target[column.path[-1]] = typed(column.field.type, value)
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


def coerce(field, value):
    """A JSON (or CSV text) value as the store keeps it; ValueError in Salesforce's words
    when the field cannot hold it."""
    if value is None:
        return None
    kind = field.type

    def refuse():
        raise ValueError(f"Cannot deserialize instance of {kind} from "
                         f"{type(value).__name__} value {value!r} at [{field.name}]")

    if kind == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        refuse()
    if kind in ("int", "currency", "double", "percent"):
        if isinstance(value, bool):
            refuse()
        try:
            number = float(value)
        except (TypeError, ValueError):
            refuse()
        return int(number) if kind == "int" else number
    if kind == "datetime":
        try:
            return _dates.to_storage(_dates.parse_datetime(str(value).replace("+0000", "Z")))
        except ValueError:
            refuse()
    if kind == "date":
        try:
            return _dates.parse_date(str(value)[:10]).isoformat()
        except ValueError:
            refuse()
    if isinstance(value, (dict, list)):
        refuse()
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "multipicklist":
        return ";".join(p.strip() for p in text.split(";") if p.strip())
    return text


def _derived(sobject: str, values: dict) -> dict:
    """Fields the org computes: an Opportunity's IsClosed and IsWon follow its stage."""
    if sobject == "Opportunity" and values.get("StageName"):
        stage = values["StageName"]
        values = {**values, "IsClosed": int(stage.startswith("Closed")),
                  "IsWon": int(stage == "Closed Won")}
    return values


def _attributes(sobject: str, record_id: str, version: str) -> dict:
    return {"attributes": {"type": sobject,
                           "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}}


_CONVERTERS = {"boolean": bool, "int": int, "currency": float, "double": float,
               "percent": float}


def typed(kind: str, value):
    """A stored value as the API returns it (SQLite keeps booleans as 0/1)."""
    if value is None:
        return None
    if kind == "boolean":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in ("currency", "double", "percent"):
        return float(value)
    return value


__all__ = ["Store", "InvalidQueryLocator", "SoqlError", "coerce", "salesforce_id", "typed"]
