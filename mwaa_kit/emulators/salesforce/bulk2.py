"""Bulk API 2.0 query jobs over the store.

A job is created `UploadComplete`, reads as `InProgress` on the first status check and
`JobComplete` on the next (so clients exercise their polling), and serves its results
as CSV pages: `maxRecords` rows each, the next page named by the `Sforce-Locator`
header (`null` on the last page), the page's row count in `Sforce-NumberOfRecords`.
Parent fields are `Account.Name` columns; booleans are `true`/`false`; nulls are empty.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.store import InvalidQueryLocator, Store, salesforce_id

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
DEFAULT_MAX_RECORDS = 50000
_MAX_JOBS = 500


class BulkError(Exception):
    """A Bulk API 2.0 refusal: the HTTP `status`, Salesforce's errorCode and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Job:
    """One Bulk 2.0 query job; `cursor_key` names the store cursor, opened (and counted) when
    the job was created, that its results are paged from."""

    id: str
    operation: str
    query: str
    sobject: str
    version: str
    delimiter: str
    line_ending: str
    created: str
    cursor_key: str
    state: str = "UploadComplete"
    checks: int = 0
    records_processed: int = 0

    def info(self, user_id: str) -> dict:
        """The job as Salesforce's job info JSON describes it, created by `user_id`."""
        return {
            "id": self.id, "operation": self.operation, "object": self.sobject,
            "createdById": user_id, "createdDate": self.created,
            "systemModstamp": self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": float(self.version), "jobType": "V2Query",
            "lineEnding": self.line_ending, "columnDelimiter": self.delimiter,
            "numberRecordsProcessed": self.records_processed, "retries": 0,
            "totalProcessingTime": 0, "isPkChunkingSupported": True,
        }


def encode_locator(position: int) -> str:
    """The Sforce-Locator of the results page starting at row `position`, opaque as
    Salesforce's are."""
    return base64.b64encode(str(position).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    """The row position a locator names; InvalidQueryLocator when it is not base64 of a number."""
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidQueryLocator(locator) from None
    if not text.isdigit():
        raise InvalidQueryLocator(locator)
    return int(text)


class Bulk2:
    """The org's Bulk 2.0 query jobs (the newest 500 kept), their states and result pages."""

    def __init__(self, store: Store, user_id: str):
        self.store, self.user_id = store, user_id
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, body: dict, version: str) -> Job:
        """Create a query or queryAll job, refusing what Bulk 2.0 refuses (COUNT(), subqueries,
        OFFSET); the query runs and its result set is counted now."""
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise BulkError(400, "INVALIDJOB", f"Invalid operation: {operation!r}; a query "
                            "job's operation is query or queryAll")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise BulkError(400, "INVALIDJOB", "A query job needs a query")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS:
            raise BulkError(400, "INVALIDJOB", f"Invalid columnDelimiter: {delimiter}")
        if line_ending not in LINE_ENDINGS:
            raise BulkError(400, "INVALIDJOB", f"Invalid lineEnding: {line_ending}")
        compiled = self.store.compile(query, operation == "queryAll")
        if compiled.count_only:
            raise SoqlError("API_ERROR", "Aggregate queries (COUNT()) are not supported by "
                            "Bulk API 2.0")
        if compiled.children:
            raise SoqlError("API_ERROR", "Nested (parent-to-child) queries are not supported "
                            "by Bulk API 2.0")
        if compiled.offset:
            raise SoqlError("API_ERROR", "OFFSET is not supported by Bulk API 2.0")
        key, _ = self.store.open_cursor(compiled, version)
        with self._lock:
            number = len(self.jobs) + secrets.randbelow(10**9)
            job = Job(salesforce_id("750", number), operation, query, compiled.sobject.name,
                      version, delimiter, line_ending, to_storage(self.store.now()), key)
            self.jobs[job.id] = job
            while len(self.jobs) > _MAX_JOBS:
                self.jobs.popitem(last=False)
        return job

    def get(self, job_id: str) -> Job:
        """The job `job_id`; BulkError 404 NOT_FOUND when there is none (or it was dropped)."""
        with self._lock:
            job = self.jobs.get(job_id)
        if job is None:
            raise BulkError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def status(self, job_id: str) -> Job:
        """The job, one state further along (UploadComplete -> InProgress -> JobComplete)."""
        job = self.get(job_id)
        with self._lock:
            if job.state in ("UploadComplete", "InProgress"):
                job.checks += 1
                job.state = "InProgress" if job.checks == 1 else "JobComplete"
                if job.state == "JobComplete":
                    job.records_processed = self.store.cursor(job.cursor_key).total
        return job

    def abort(self, job_id: str) -> Job:
        """Abort a job not yet finished; BulkError INVALIDJOBSTATE once it is JobComplete, Failed
        or Aborted."""
        job = self.get(job_id)
        with self._lock:
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise BulkError(400, "INVALIDJOBSTATE",
                                f"Job {job_id} is {job.state} and cannot be aborted")
            job.state = "Aborted"
        return job

    def delete(self, job_id: str) -> None:
        """Delete a finished or aborted job; one still UploadComplete or InProgress must be
        aborted first, as Salesforce requires."""
        job = self.get(job_id)
        if job.state in ("UploadComplete", "InProgress"):
            raise BulkError(400, "INVALIDJOBSTATE", "Abort the job before deleting it")
        with self._lock:
            self.jobs.pop(job_id, None)

    def listing(self) -> list[Job]:
        """Every job kept, oldest first."""
        with self._lock:
            return list(self.jobs.values())

    def results(self, job_id: str, locator: str | None,
                max_records: int | None) -> tuple[bytes, str, int]:
        """(CSV body, next locator or "null", number of records) of one results page."""
        job = self.get(job_id)
        if job.state != "JobComplete":
            raise BulkError(400, "INVALIDJOBSTATE",
                            f"Results are not available: job {job_id} is {job.state}")
        cursor = self.store.cursor(job.cursor_key)
        if cursor is None:
            raise BulkError(400, "INVALIDJOB", "The job's results are no longer available")
        position = decode_locator(locator) if locator else 0
        size = max_records or DEFAULT_MAX_RECORDS
        fetched = self.store.fetch(cursor, position, size)
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
            writer.writerows(row[2:width] for row in fetched)
        else:
            writer.writerows([_csv_value(row, *step) for step in plan] for row in fetched)
        served = position + len(fetched)
        next_locator = encode_locator(served) if served < cursor.total and fetched else "null"
        return out.getvalue().encode(), next_locator, len(fetched)


def _csv_value(row: tuple, position: int, convert, parent_position: int | None):
    """A column's cell: empty when null or past a null parent, else as Bulk writes it."""
    value = row[position]
    if value is None or (parent_position is not None and row[parent_position] is None):
        return ""
    return convert(value) if convert else value


_CSV_CONVERTERS = {"boolean": lambda value: "true" if value else "false",
                   "int": lambda value: str(int(value))}
