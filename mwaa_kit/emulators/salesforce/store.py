"""The stub's data: one SQLite table per object, in the state dir, kept across restarts.

It only stores: rows go in and come out as given (system fields, defaults and derived
fields are the models' to fill), and compiled SOQL runs over it. Rendering rows for the
wire is the responses' work.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from mwaa_kit.emulators.salesforce.schema import SObject, salesforce_id
from mwaa_kit.emulators.salesforce.soql import evaluator
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.soql.evaluator import CompiledQuery

_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "currency": "REAL", "double": "REAL",
              "percent": "REAL"}


class Store:
    """The org's records in one SQLite file (a connection per thread, writes serialized);
    `objects` are the tables' schema and `now` the org's clock, which the models stamp
    records and resolve relative dates with."""

    def __init__(self, path: Path, objects: dict[str, SObject],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.path, self.objects, self.now = path, objects, now
        self._local = threading.local()
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
        """Write complete rows as given (INSERT OR REPLACE: an existing Id is overwritten);
        a field a row lacks is stored NULL."""
        names = [f.name for f in self.objects[sobject].fields]
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        sql = f'INSERT OR REPLACE INTO "{sobject}" ({columns}) VALUES ({marks})'
        with self._write, self.db:
            self.db.executemany(sql, ([r.get(n) for n in names] for r in records))

    # ------------------------------------------------------------------ rows
    def get(self, sobject: str, record_id: str, include_deleted: bool = False) -> dict | None:
        """The stored row of `record_id` (15- or 18-character Id), or None."""
        where = '"Id" = ?' if len(record_id) == 18 else 'substr("Id", 1, 15) = ?'
        found = self._select(sobject, where, record_id)
        if not found or (found[0]["IsDeleted"] and not include_deleted):
            return None
        return found[0]

    def find(self, sobject: str, field_name: str, value) -> list[dict]:
        """Live rows whose `field_name` equals `value` (an external Id lookup)."""
        return self._select(sobject, f'"{field_name}" = ? AND "IsDeleted" = 0 LIMIT 10', value)

    def _select(self, sobject: str, where: str, value) -> list[dict]:
        """Rows as dicts, columns in schema order (a migrated table has its new ones last)."""
        names = [f.name for f in self.objects[sobject].fields]
        columns = ", ".join(f'"{name}"' for name in names)
        return [dict(zip(names, row, strict=True)) for row in self.db.execute(
            f'SELECT {columns} FROM "{sobject}" WHERE {where}', (value,))]

    def update(self, sobject: str, record_id: str, values: dict) -> None:
        """Set `values` on the row `record_id` in place, so it keeps its rowid (open cursors
        page by rowid)."""
        assignments = ", ".join(f'"{name}" = ?' for name in values)
        with self._write, self.db:
            self.db.execute(f'UPDATE "{sobject}" SET {assignments} WHERE "Id" = ?',
                            [*values.values(), record_id])

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
    def count_rows(self, compiled: CompiledQuery) -> int:
        """How many rows the compiled query's SQL selects, before its OFFSET and LIMIT; a
        COUNT() query's own answer."""
        if compiled.count_only:
            return self.db.execute(compiled.sql, compiled.params).fetchone()[0]
        return self.db.execute(f"SELECT COUNT(*) FROM ({compiled.sql})",
                               compiled.params).fetchone()[0]

    def rows(self, compiled: CompiledQuery, after_rowid: int, offset: int,
             size: int) -> list[tuple]:
        """`size` result rows (rowid, Id, columns..., parent Ids...) resuming after
        `after_rowid` (keyset paging) or at `offset`."""
        return list(evaluator.rows(compiled, self.db, after_rowid, offset, size))
