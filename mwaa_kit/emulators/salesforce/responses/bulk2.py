"""The Bulk API 2.0 query endpoints (.../jobs/query): job info JSON, and results as CSV
pages of `maxRecords` rows, the next page named by the `Sforce-Locator` header (`null`
on the last page), the page's row count in `Sforce-NumberOfRecords`. Parent fields are
`Account.Name` columns; booleans are `true`/`false`; nulls are empty."""

from __future__ import annotations

import base64
import binascii
import csv
import io

from mwaa_kit.emulators.salesforce.exceptions import ApiError, InvalidQueryLocator
from mwaa_kit.emulators.salesforce.models.bulk2 import DELIMITERS, LINE_ENDINGS, Job
from mwaa_kit.emulators.salesforce.models.queries import Cursor
from mwaa_kit.emulators.salesforce.models.records import USER_ID
from mwaa_kit.emulators.salesforce.responses.wire import (
    Request,
    Response,
    json_response,
    no_content,
)

DEFAULT_MAX_RECORDS = 50000
_CSV_CONVERTERS = {"boolean": lambda value: "true" if value else "false",
                   "int": lambda value: str(int(value))}


def create_job(request: Request) -> Response:
    """POST .../jobs/query: create a query job from its JSON request."""
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "INVALIDJOB", "Send the job as a JSON object")
    return _info(request.stub.bulk2.create(body, request.params["version"]))


def list_jobs(request: Request) -> Response:
    """GET .../jobs/query: every job kept, in one page."""
    return json_response(200, {"done": True, "records": [
        _info_dict(job) for job in request.stub.bulk2.listing()], "nextRecordsUrl": None})


def job_status(request: Request) -> Response:
    """GET .../jobs/query/<id>: the job's info, its state one step further along."""
    return _info(request.stub.bulk2.status(request.params["job"]))


def abort_job(request: Request) -> Response:
    """PATCH .../jobs/query/<id> with {"state": "Aborted"}: abort the job."""
    body = request.json()
    if not isinstance(body, dict) or body.get("state") != "Aborted":
        raise ApiError(400, "INVALIDJOBSTATE", "A query job can only be set to Aborted")
    return _info(request.stub.bulk2.abort(request.params["job"]))


def delete_job(request: Request) -> Response:
    """DELETE .../jobs/query/<id>: delete a finished or aborted job; 204."""
    request.stub.bulk2.delete(request.params["job"])
    return no_content()


def results(request: Request) -> Response:
    """GET .../jobs/query/<id>/results[?locator=&maxRecords=]: one CSV page of a finished
    job's records."""
    try:
        max_records = int(request.query["maxRecords"][0]) if "maxRecords" in request.query \
            else DEFAULT_MAX_RECORDS
    except ValueError:
        raise ApiError(400, "INVALID_MAX_RECORDS", "maxRecords must be a positive "
                       "integer") from None
    if max_records < 1:
        raise ApiError(400, "INVALID_MAX_RECORDS", "maxRecords must be positive")
    job, cursor = request.stub.bulk2.finished(request.params["job"])
    try:
        position = _position(request.arg("locator")) if request.arg("locator") else 0
        rows = request.stub.queries.fetch(cursor, position, max_records)
    except InvalidQueryLocator:
        raise ApiError(400, "INVALID_LOCATOR", "Invalid locator") from None
    served = position + len(rows)
    locator = _locator(served) if served < cursor.total and rows else "null"
    return Response(200, _csv(job, cursor, rows), "text/csv",
                    {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(rows))})


def _info_dict(job: Job) -> dict:
    """The job as Salesforce's job info JSON describes it."""
    return {
        "id": job.id, "operation": job.operation, "object": job.sobject,
        "createdById": USER_ID, "createdDate": job.created,
        "systemModstamp": job.created, "state": job.state,
        "concurrencyMode": "Parallel", "contentType": "CSV",
        "apiVersion": float(job.version), "jobType": "V2Query",
        "lineEnding": job.line_ending, "columnDelimiter": job.delimiter,
        "numberRecordsProcessed": job.records_processed, "retries": 0,
        "totalProcessingTime": 0, "isPkChunkingSupported": True,
    }


def _info(job: Job) -> Response:
    return json_response(200, _info_dict(job))


def _locator(position: int) -> str:
    """The Sforce-Locator of the results page starting at row `position`, opaque as
    Salesforce's are."""
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def _position(locator: str) -> int:
    """The row position a locator names; InvalidQueryLocator when it is not one of
    _locator()'s."""
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidQueryLocator(locator) from None
    if not text.isdigit():
        raise InvalidQueryLocator(locator)
    return int(text)


def _csv(job: Job, cursor: Cursor, rows: list[tuple]) -> bytes:
    """Rows as the job's CSV: a header of field paths, every value quoted."""
    columns = cursor.compiled.columns
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITERS[job.delimiter], quoting=csv.QUOTE_ALL,
                        lineterminator=LINE_ENDINGS[job.line_ending])
    writer.writerow([".".join(c.path) for c in columns])
    width = 2 + len(columns)
    parents = {key: width + index for index, key in
               enumerate(k for k in cursor.compiled.parents if k)}
    plan = [(2 + index, _CSV_CONVERTERS.get(column.field.type),
             parents[column.path[:-1]] if len(column.path) > 1 else None)
            for index, column in enumerate(columns)]
    if all(convert is None and parent is None for _, convert, parent in plan):
        # csv writes None as empty and numbers as str() does: the rows go as stored
        writer.writerows(row[2:width] for row in rows)
    else:
        writer.writerows([_csv_value(row, *step) for step in plan] for row in rows)
    return out.getvalue().encode()


def _csv_value(row: tuple, position: int, convert, parent_position: int | None):
    """A column's cell: empty when null or past a null parent, else as Bulk writes it."""
    value = row[position]
    if value is None or (parent_position is not None and row[parent_position] is None):
        return ""
    return convert(value) if convert else value
