"""SOQL queries over the store and their cursors.

A cursor is a query's result set, counted when it opens. Pages are addressed by position,
as Salesforce's `<locator>-<position>` URLs are, so asking for a page again (a client
retrying after a broken answer) returns the same records; where the query allows, a page
resumes by rowid, which keeps a million-row extraction linear. The newest 1000 cursors
are kept.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from mwaa_kit.emulators.salesforce.exceptions import InvalidQueryLocator
from mwaa_kit.emulators.salesforce.models.newest import Newest
from mwaa_kit.emulators.salesforce.schema import SObject
from mwaa_kit.emulators.salesforce.soql import parser
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.soql.evaluator import CompiledQuery, compile_query
from mwaa_kit.emulators.salesforce.soql.parser import BoolOp, Comparison, Literal
from mwaa_kit.emulators.salesforce.store import Store

_MAX_CURSORS = 1000
MAX_BATCH_SIZE = 2000


@dataclass
class Cursor:
    """A query's result set, opened in API `version`, served `batch_size` rows a page;
    `rowid_at` maps the positions where pages ended to the rowid to resume after."""

    compiled: CompiledQuery
    version: str
    batch_size: int
    total: int
    rowid_at: dict[int, int] = field(default_factory=lambda: {0: 0})


@dataclass(frozen=True)
class Page:
    """One page of a query: its rows (rowid, Id, columns..., parent Ids...), the result
    set's size, and the locator of the next page while more remain."""

    compiled: CompiledQuery
    version: str
    rows: list[tuple]
    total: int
    next_locator: str | None = None


class Queries:
    """The org's SOQL engine and open cursors, shared by REST queries and Bulk jobs."""

    def __init__(self, store: Store):
        self.store = store
        self._cursors = Newest[Cursor](_MAX_CURSORS)
        self._lock = threading.Lock()  # guards the cursors' rowid_at

    def compile(self, soql: str, include_deleted: bool) -> CompiledQuery:
        """Parse and compile `soql` (`include_deleted` for queryAll) at the org's clock; a
        SoqlError comes out located (the query line and a caret), as Salesforce words it."""
        try:
            return compile_query(parser.parse(soql), self.store.objects, self.store.now(),
                                 include_deleted)
        except SoqlError as error:
            raise error.locate(soql) from None

    def open(self, compiled: CompiledQuery, version: str,
             batch_size: int = MAX_BATCH_SIZE) -> tuple[str, Cursor]:
        """Count the result set (after OFFSET, within LIMIT) and keep it under a new locator
        key."""
        total = max(0, self.store.count_rows(compiled) - (compiled.offset or 0))
        if compiled.limit is not None:
            total = min(total, compiled.limit)
        cursor = Cursor(compiled, version, batch_size, total)
        key = secrets.token_hex(8)
        self._cursors.put(key, cursor)
        return key, cursor

    def cursor(self, key: str) -> Cursor | None:
        """The open cursor `key`; None when unknown or dropped (only the newest are kept)."""
        return self._cursors.get(key)

    def fetch(self, cursor: Cursor, position: int, size: int) -> list[tuple]:
        """Rows [position, position + size) of a cursor; InvalidQueryLocator unless
        `position` is 0 or where an earlier fetch ended."""
        size = max(0, min(size, cursor.total - position))
        if size == 0:
            return []
        with self._lock:
            after = cursor.rowid_at.get(position)
        if after is None:
            raise InvalidQueryLocator(str(position))
        fetched = self.store.rows(cursor.compiled, after,
                                  (cursor.compiled.offset or 0) + position, size)
        if fetched:
            with self._lock:
                cursor.rowid_at[position + len(fetched)] = fetched[-1][0]
        return fetched

    def query(self, soql: str, version: str, include_deleted: bool,
              batch_size: int = MAX_BATCH_SIZE) -> Page:
        """The first page of a query (`batch_size` rows); COUNT() answers with its total
        alone."""
        compiled = self.compile(soql, include_deleted)
        if compiled.count_only:
            return Page(compiled, version, [], self.store.count_rows(compiled))
        key, cursor = self.open(compiled, version, batch_size)
        return self._page(key, cursor, 0)

    def query_more(self, locator: str) -> Page:
        """The page a `<key>-<position>` locator names; InvalidQueryLocator when the cursor
        is gone or no page ended at that position."""
        key, _, position = locator.partition("-")
        cursor = self.cursor(key)
        if cursor is None or not position.isdigit() or int(position) not in cursor.rowid_at:
            raise InvalidQueryLocator(locator)
        return self._page(key, cursor, int(position))

    def _page(self, key: str, cursor: Cursor, position: int) -> Page:
        size = min(cursor.batch_size, cursor.total - position)
        fetched = self.fetch(cursor, position, size)
        served = position + len(fetched)
        more = served < cursor.total and len(fetched) >= size
        return Page(cursor.compiled, cursor.version, fetched, cursor.total,
                    f"{key}-{served}" if more else None)

    def children(self, child: SObject, field_name: str, subquery: parser.Query,
                 parent_id: str) -> tuple[CompiledQuery, list[tuple]]:
        """A parent-to-child subquery's rows for the parent `parent_id`: the subquery with
        `field_name = parent_id` added to its WHERE, compiled, and its rows."""
        condition = Comparison(field_name, "=", Literal("string", parent_id))
        where = BoolOp("AND", (condition, subquery.where)) if subquery.where else condition
        compiled = compile_query(parser.Query(subquery.fields, child.name, where,
                                              subquery.order, subquery.limit, subquery.offset),
                                 self.store.objects, self.store.now(), False)
        return compiled, self.store.rows(compiled, 0, compiled.offset or 0,
                                         compiled.limit or MAX_BATCH_SIZE)
