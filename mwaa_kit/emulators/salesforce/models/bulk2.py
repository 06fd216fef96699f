"""Bulk API 2.0 query jobs: their options, states and result pages.

A job is created `UploadComplete` and moves one state further on each status check:
`InProgress` on the first, `JobComplete` on the next (so clients exercise their polling,
and a test drives the transition by counting its checks, never by waiting). Its query
runs, and its result set is counted, when it is created; results are served in pages
by position.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from mwaa_kit.emulators.salesforce.exceptions import ApiError, not_found
from mwaa_kit.emulators.salesforce.models.newest import Newest
from mwaa_kit.emulators.salesforce.models.queries import Cursor, Queries
from mwaa_kit.emulators.salesforce.schema import salesforce_id
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_MAX_JOBS = 500


@dataclass
class Job:
    """One Bulk 2.0 query job; `cursor_key` names the query cursor, opened (and counted)
    when the job was created, that its results are paged from; `checks` counts the status
    checks that move its state."""

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


class Bulk2:
    """The org's Bulk 2.0 query jobs (the newest 500 kept), their states and result pages."""

    def __init__(self, queries: Queries):
        self.queries = queries
        self.jobs = Newest[Job](_MAX_JOBS)
        self._lock = threading.Lock()  # guards the jobs' states

    def create(self, body: dict, version: str) -> Job:
        """Create a query or queryAll job from its JSON request, refusing what Bulk 2.0
        refuses (COUNT(), subqueries, OFFSET); the query runs and its result set is counted
        now."""
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation!r}; a query "
                           "job's operation is query or queryAll")
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ApiError(400, "INVALIDJOB", "A query job needs a query")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS:
            raise ApiError(400, "INVALIDJOB", f"Invalid columnDelimiter: {delimiter}")
        if line_ending not in LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", f"Invalid lineEnding: {line_ending}")
        compiled = self.queries.compile(query, operation == "queryAll")
        if compiled.count_only:
            raise SoqlError("API_ERROR", "Aggregate queries (COUNT()) are not supported by "
                            "Bulk API 2.0")
        if compiled.children:
            raise SoqlError("API_ERROR", "Nested (parent-to-child) queries are not supported "
                            "by Bulk API 2.0")
        if compiled.offset:
            raise SoqlError("API_ERROR", "OFFSET is not supported by Bulk API 2.0")
        key, _ = self.queries.open(compiled, version)
        created = to_storage(self.queries.store.now())
        number = len(self.jobs) + secrets.randbelow(10**9)
        job = Job(salesforce_id("750", number), operation, query, compiled.sobject.name,
                  version, delimiter, line_ending, created, key)
        self.jobs.put(job.id, job)
        return job

    def get(self, job_id: str) -> Job:
        """The job `job_id`; 404 NOT_FOUND when there is none (or it was dropped)."""
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    def status(self, job_id: str) -> Job:
        """The job, one state further along (UploadComplete -> InProgress -> JobComplete)."""
        job = self.get(job_id)
        with self._lock:
            if job.state in ("UploadComplete", "InProgress"):
                job.checks += 1
                job.state = "InProgress" if job.checks == 1 else "JobComplete"
                if job.state == "JobComplete":
                    job.records_processed = self.queries.cursor(job.cursor_key).total
        return job

    def abort(self, job_id: str) -> Job:
        """Abort a job not yet finished; 400 INVALIDJOBSTATE once it is JobComplete, Failed
        or Aborted."""
        job = self.get(job_id)
        with self._lock:
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(400, "INVALIDJOBSTATE",
                               f"Job {job_id} is {job.state} and cannot be aborted")
            job.state = "Aborted"
        return job

    def delete(self, job_id: str) -> None:
        """Delete a finished or aborted job; one still UploadComplete or InProgress must be
        aborted first, as Salesforce requires."""
        job = self.get(job_id)
        if job.state in ("UploadComplete", "InProgress"):
            raise ApiError(400, "INVALIDJOBSTATE", "Abort the job before deleting it")
        self.jobs.pop(job_id)

    def listing(self) -> list[Job]:
        """Every job kept, oldest first."""
        return self.jobs.values()

    def finished(self, job_id: str) -> tuple[Job, Cursor]:
        """A job whose results can be read, and the cursor they are paged from; 400
        INVALIDJOBSTATE before it is JobComplete, INVALIDJOB once its results are gone."""
        job = self.get(job_id)
        if job.state != "JobComplete":
            raise ApiError(400, "INVALIDJOBSTATE",
                           f"Results are not available: job {job_id} is {job.state}")
        cursor = self.queries.cursor(job.cursor_key)
        if cursor is None:
            raise ApiError(400, "INVALIDJOB", "The job's results are no longer available")
        return job, cursor
