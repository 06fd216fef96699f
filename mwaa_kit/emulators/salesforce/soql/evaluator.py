"""Evaluate parsed SOQL over the stub's SQLite store.

Each query becomes one SQL statement: parent paths are LEFT JOINs (up to five levels),
comparisons are typed against the object's describe, relative date literals are
ranges computed from an injectable "now". Rows come back as Salesforce records with
`attributes`, nested parents and child-relationship results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from mwaa_kit.emulators.salesforce.schema import Field, SObject, find_object
from mwaa_kit.emulators.salesforce.soql import dates
from mwaa_kit.emulators.salesforce.soql.errors import (
    SoqlError,
    invalid_field,
    invalid_type,
    position_of,
)
from mwaa_kit.emulators.salesforce.soql.parser import (
    BoolOp,
    Comparison,
    Literal,
    Not,
    Query,
)

_NUMERIC = {"currency", "double", "percent", "int"}
_TEXT = {"id", "reference", "string", "picklist", "textarea", "email", "phone", "url",
         "multipicklist"}


@dataclass(frozen=True)
class Column:
    """A selected field: its canonical path ("Account", "Name"), the SQL reading it, and its
    describe."""

    path: tuple[str, ...]  # canonical names, e.g. ("Account", "Name")
    sql: str
    field: Field


class _Compiler:
    def __init__(self, query: Query, objects: dict[str, SObject], now: datetime):
        self.query, self.objects, self.now = query, objects, now
        self.root = self.sobject(query.sobject)
        self.joins: dict[tuple[str, ...], tuple[str, SObject]] = {(): ("t", self.root)}
        self.join_sql: list[str] = []
        self.params: list = []

    def sobject(self, name: str) -> SObject:
        found = find_object(self.objects, name)
        if found is None:
            raise invalid_type(name)
        return found

    def column(self, path: str) -> Column:
        parts = path.split(".")
        where = position_of(path)
        if len(parts) > 6:
            raise invalid_field(f"{path}: SOQL allows at most 5 levels of parent "
                                "relationships", where)
        if parts[0].lower() == self.root.name.lower() and len(parts) > 1:
            parts = parts[1:]  # Opportunity.Name is Name
        canonical: list[str] = []
        for relationship in parts[:-1]:
            alias, sobject = self.joins[tuple(canonical)]
            reference = sobject.relationship(relationship)
            if reference is None:
                raise invalid_field(
                    f"Didn't understand relationship '{relationship}' in field path. If you "
                    "are attempting to use a custom relationship, be sure to append the '__r' "
                    "after the custom relationship name. Please reference your WSDL or the "
                    "describe call for the appropriate names.", where)
            canonical.append(reference.relationship_name)
            key = tuple(canonical)
            if key not in self.joins:
                parent = self.sobject(reference.reference_to)
                parent_alias = f"j{len(self.joins)}"
                self.joins[key] = (parent_alias, parent)
                self.join_sql.append(f'LEFT JOIN "{parent.name}" {parent_alias} ON '
                                     f'{parent_alias}."Id" = {alias}."{reference.name}"')
        alias, sobject = self.joins[tuple(canonical)]
        field = sobject.field(parts[-1])
        if field is None:
            raise invalid_field(f"No such column '{parts[-1]}' on entity '{sobject.name}'. If "
                                "you are attempting to use a custom field, be sure to append "
                                "the '__c' after the custom field name. Please reference your "
                                "WSDL or the describe call for the appropriate names.", where)
        return Column((*canonical, field.name), f'{alias}."{field.name}"', field)

    # ---------------------------------------------------------------- WHERE
    def condition(self, node, negated: bool = False) -> str:
        """SQL for a WHERE tree. SOQL logic is two-valued (a comparison with a null field
        is false, so NOT of it is true), SQL's is three-valued: under a NOT, each
        comparison is made never-null. Elsewhere a NULL filters like false, as it should,
        and comparisons stay bare so SQLite can use the indexes on dates and lookups."""
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.condition(i, negated)
                                             for i in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.condition(node.item, True)})"
        try:
            sql = self.comparison(node)
        except SoqlError as error:
            if error.position is None:
                error.position = position_of(node.path)
            raise
        return f"COALESCE({sql}, 0)" if negated else sql

    def comparison(self, node: Comparison) -> str:
        column = self.column(node.path)
        if node.op in ("IN", "NOTIN"):
            values = [self.value(column, v) for v in node.value if v.kind != "null"]
            has_null = any(v.kind == "null" for v in node.value)
            marks = ", ".join("?" for _ in values)
            self.params.extend(values)
            listed = f"{column.sql}{self.collate(column)} IN ({marks})" if values else "0"
            if node.op == "IN":
                return f"({column.sql} IS NULL OR {listed})" if has_null else f"({listed})"
            if has_null:
                return f"({column.sql} IS NOT NULL AND NOT {listed})"
            return f"({column.sql} IS NULL OR NOT {listed})"
        if node.op in ("INCLUDES", "EXCLUDES"):
            if column.field.type != "multipicklist":
                raise invalid_field(f"{node.op} can only be used on multi-select picklists")
            # INCLUDES ('A;B', 'C'): (A and B) or C; EXCLUDES is its negation.
            parts = []
            for literal in node.value:
                values = [v.strip() for v in str(self.value(column, literal)).split(";")
                          if v.strip()]
                if not values:
                    parts.append("0")
                    continue
                for value in values:
                    self.params.append("%;" + value.replace("\\", "\\\\").replace(
                        "%", "\\%").replace("_", "\\_") + ";%")
                parts.append("(" + " AND ".join(
                    f"((';' || {column.sql} || ';') LIKE ? ESCAPE '\\')" for _ in values) + ")")
            joined = " OR ".join(parts)
            if node.op == "INCLUDES":
                return f"({column.sql} IS NOT NULL AND ({joined}))"
            return f"({column.sql} IS NULL OR NOT ({joined}))"
        if node.op == "LIKE":
            if column.field.type not in _TEXT:
                raise invalid_field(f"invalid operator on field: {column.field.name}")
            self.params.append(self.value(column, node.value))
            return f"({column.sql} LIKE ? ESCAPE '\\')"
        literal = node.value
        if literal.kind == "null":
            if node.op not in ("=", "!="):
                raise invalid_field(f"invalid operator on null: {node.op}")
            return f"({column.sql} IS {'NOT ' if node.op == '!=' else ''}NULL)"
        if literal.kind == "relative":
            return self.relative(column, node.op, literal.value)
        self.params.append(self.value(column, literal))
        operator = node.op
        if operator == "!=":
            return f"({column.sql} IS NULL OR {column.sql} != ?{self.collate(column)})"
        return f"({column.sql} {operator} ?{self.collate(column)})"

    @staticmethod
    def collate(column: Column) -> str:
        return " COLLATE NOCASE" if column.field.type in _TEXT else ""

    def relative(self, column: Column, op: str, name: str) -> str:
        if column.field.type not in ("date", "datetime"):
            raise invalid_field(f"value of filter criterion for field '{column.field.name}' "
                                f"must be of type {column.field.type} and should not be a "
                                "date literal")
        span = dates.relative_range(name, self.now)
        start, end = (self.stored(column, span.start), self.stored(column, span.end))
        sql = column.sql
        templates = {
            "=": (f"({sql} >= ? AND {sql} < ?)", [start, end]),
            "!=": (f"({sql} IS NULL OR {sql} < ? OR {sql} >= ?)", [start, end]),
            "<": (f"({sql} < ?)", [start]), "<=": (f"({sql} < ?)", [end]),
            ">": (f"({sql} >= ?)", [end]), ">=": (f"({sql} >= ?)", [start]),
        }
        template, values = templates[op]
        self.params.extend(values)
        return template

    @staticmethod
    def stored(column: Column, moment: datetime) -> str:
        if column.field.type == "date":
            return moment.date().isoformat()
        return dates.to_storage(moment)

    def value(self, column: Column, literal: Literal):
        """The literal as stored, refusing a type the field cannot be compared with."""
        kind, ftype, name = literal.kind, column.field.type, column.field.name
        if ftype == "datetime":
            if kind != "datetime":
                raise invalid_field(f"value of filter criterion for field '{name}' must be of "
                                    "type dateTime and should not be enclosed in quotes")
            return dates.to_storage(dates.parse_datetime(literal.value))
        if ftype == "date":
            if kind != "date":
                raise invalid_field(f"value of filter criterion for field '{name}' must be of "
                                    "type date and should not be enclosed in quotes")
            return literal.value
        if ftype == "boolean":
            if kind != "boolean":
                raise invalid_field(f"value of filter criterion for field '{name}' must be of "
                                    "type boolean and should not be enclosed in quotes")
            return int(literal.value)
        if ftype in _NUMERIC:
            if kind != "number":
                raise invalid_field(f"value of filter criterion for field '{name}' must be of "
                                    "type double and should not be enclosed in quotes")
            return literal.value
        if kind != "string":
            raise invalid_field(f"value of filter criterion for field '{name}' must be of "
                                "type string and should be enclosed in quotes")
        return literal.value


@dataclass
class CompiledQuery:
    """A query as one SQL statement, with what paging it and building its records need."""

    sobject: SObject
    sql: str
    params: list
    columns: list[Column]
    parents: dict[tuple[str, ...], tuple[str, SObject]]
    children: list  # (relationship name, child SObject, child field, subquery Query)
    count_only: bool
    keyset: bool  # pages by rowid (no ORDER BY / OFFSET): cheap on large tables
    limit: int | None
    offset: int | None


def compile_query(query: Query, objects: dict[str, SObject], now: datetime,
                  include_deleted: bool) -> CompiledQuery:
    """Compile parsed SOQL over `objects`, relative dates taken at `now`; deleted rows only
    with `include_deleted` (queryAll). SoqlError in Salesforce's words."""
    compiler = _Compiler(query, objects, now)
    root = compiler.root
    columns: list[Column] = []
    children = []
    count_only = False
    for item in query.fields:
        if item == "COUNT()":
            count_only = True
        elif isinstance(item, tuple):  # FIELDS(ALL|STANDARD|CUSTOM)
            if item[1] != "STANDARD" and (query.limit is None or query.limit > 200):
                raise SoqlError("MALFORMED_QUERY", "The SOQL FIELDS function must have a "
                                "LIMIT of at most 200")
            columns += [compiler.column(f.name) for f in root.fields
                        if item[1] == "ALL" or (item[1] == "CUSTOM") == f.custom]
        elif isinstance(item, Query):
            children.append(_child(root, item, objects))
        else:
            columns.append(compiler.column(item))
    if count_only and (columns or children):
        raise SoqlError("MALFORMED_QUERY", "COUNT() must be the only element in the "
                        "SELECT list.")
    if not count_only and not columns and not children:
        raise SoqlError("MALFORMED_QUERY", "unexpected token: 'FROM'")
    conditions = [] if include_deleted else ['t."IsDeleted" = 0']
    if query.where is not None:
        conditions.append(compiler.condition(query.where))
    order = []
    for item in query.order:
        column = compiler.column(item.path)
        direction = "DESC" if item.descending else "ASC"
        nulls = "LAST" if item.nulls_last else "FIRST"
        order.append(f"{column.sql}{compiler.collate(column)} {direction} NULLS {nulls}")
    parent_ids = [f'{alias}."Id"' for key, (alias, _) in compiler.joins.items() if key]
    select = "COUNT(*)" if count_only else ", ".join(
        ['t.rowid', 't."Id"', *[c.sql for c in columns], *parent_ids])
    sql = f'SELECT {select} FROM "{root.name}" t {" ".join(compiler.join_sql)}'
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    keyset = not order and not query.offset and not count_only
    if order:
        sql += " ORDER BY " + ", ".join(order) + ', t.rowid'
    return CompiledQuery(root, sql, compiler.params, columns, compiler.joins, children,
                         count_only, keyset, query.limit, query.offset)


def _child(parent: SObject, query: Query, objects: dict[str, SObject]):
    for child_name, field_name, relationship in parent.children:
        if relationship.lower() == query.sobject.lower():
            return relationship, objects[child_name], field_name, query
    raise invalid_type(query.sobject)


def rows(compiled: CompiledQuery, connection, after_rowid: int, offset: int,
         page_size: int) -> Iterator[tuple]:
    """One page of result rows, resuming after `after_rowid` (keyset) or at `offset`."""
    sql, params = compiled.sql, list(compiled.params)
    if compiled.keyset:
        sql = sql + (" AND" if " WHERE " in sql else " WHERE") + " t.rowid > ?"
        sql += " ORDER BY t.rowid"
        params.append(after_rowid)
        return connection.execute(sql + " LIMIT ?", [*params, page_size])
    return connection.execute(sql + " LIMIT ? OFFSET ?", [*params, page_size, offset])
