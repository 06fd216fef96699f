"""The REST query API: query/queryAll?q= and the nextRecordsUrl pages, records rendered as
Salesforce returns them (attributes, typed fields, nested parents, child relationships)."""

from __future__ import annotations

import re

from mwaa_kit.emulators.salesforce.exceptions import ApiError
from mwaa_kit.emulators.salesforce.models.queries import MAX_BATCH_SIZE, Page, Queries
from mwaa_kit.emulators.salesforce.responses.wire import (
    Request,
    Response,
    attributes,
    json_response,
    typed,
)
from mwaa_kit.emulators.salesforce.soql.evaluator import CompiledQuery

_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)")
_CONVERTERS = {"boolean": bool, "int": int, "currency": float, "double": float,
               "percent": float}


def query(request: Request) -> Response:
    """GET .../query?q= (or queryAll?q=, deleted records too): the first page, of the
    Sforce-Query-Options batchSize (200 to 2000)."""
    soql = request.arg("q")
    if not soql.strip():
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    match = _BATCH_SIZE.search(request.headers.get("Sforce-Query-Options", ""))
    batch_size = min(MAX_BATCH_SIZE, max(200, int(match.group(1)))) if match \
        else MAX_BATCH_SIZE
    queries = request.stub.queries
    return json_response(200, render(queries, queries.query(
        soql, request.params["version"], request.params["api"] == "queryAll", batch_size)))


def query_more(request: Request) -> Response:
    """GET .../query/<locator>: the page a nextRecordsUrl names (400 INVALID_QUERY_LOCATOR
    when it names none)."""
    queries = request.stub.queries
    return json_response(200, render(queries, queries.query_more(request.params["locator"])))


def render(queries: Queries, page: Page) -> dict:
    """A page as the query resource answers: totalSize, done, records, nextRecordsUrl
    (`queries` run the child subqueries its records hold)."""
    compiled = page.compiled
    if len(compiled.parents) == 1 and not compiled.children:
        records = _flat_records(compiled, page.rows, page.version)
    else:
        records = [_record(queries, compiled, row, page.version) for row in page.rows]
    answer = {"totalSize": page.total, "done": page.next_locator is None,
              "records": records}
    if page.next_locator is not None:
        answer["nextRecordsUrl"] = f"/services/data/v{page.version}/query/{page.next_locator}"
    return answer


def _flat_records(compiled: CompiledQuery, rows: list[tuple], version: str) -> list:
    """_record() for queries without parent paths or subqueries: the bulk of an
    extraction, so it is kept to one dict per row."""
    name = compiled.sobject.name
    url = f"/services/data/v{version}/sobjects/{name}/"
    names = [c.path[-1] for c in compiled.columns]
    converters = [_CONVERTERS.get(c.field.type) for c in compiled.columns]
    plain = not any(converters)
    records = []
    for row in rows:
        record = {"attributes": {"type": name, "url": url + row[1]}}
        values = row[2:]
        if plain:
            record.update(zip(names, values, strict=False))
        else:
            for field_name, convert, value in zip(names, converters, values, strict=False):
                record[field_name] = convert(value) if convert and value is not None \
                    else value
        records.append(record)
    return records


def _record(queries: Queries, compiled: CompiledQuery, row: tuple, version: str) -> dict:
    """A row as Salesforce returns it: attributes, fields, nested parents, children."""
    record = attributes(version, compiled.sobject.name, row[1])
    parents = {key: index for index, key in enumerate(k for k in compiled.parents if k)}
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
                target[name] = attributes(version, compiled.parents[key][1].name, parent_id)
            target = target[name]
        if target is not None:
            target[column.path[-1]] = typed(column.field.type, value)
    for relationship, child, field_name, subquery in compiled.children:
        child_query, rows = queries.children(child, field_name, subquery, row[1])
        found = [_record(queries, child_query, child_row, version) for child_row in rows]
        record[relationship] = {"totalSize": len(found), "done": True,
                                "records": found} if found else None
    return record
