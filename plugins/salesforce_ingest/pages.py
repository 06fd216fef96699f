"""Query result pages that survive the failures a long extraction meets.

Each step (the first query, then each `nextRecordsUrl`) is retried on its own, so a
failure resumes from the page that failed: no record is fetched twice or skipped.
An expired session logs in again once; request limits, 5xx answers and broken
connections back off exponentially.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from json import JSONDecodeError

from requests.exceptions import ChunkedEncodingError, ConnectionError, ReadTimeout
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

log = logging.getLogger(__name__)
_TRANSIENT_NETWORK = (ConnectionError, ChunkedEncodingError, ReadTimeout, JSONDecodeError)


def _is_transient(error: Exception) -> bool:
    if isinstance(error, _TRANSIENT_NETWORK):
        return True
    if isinstance(error, SalesforceRefusedRequest):  # 403: REQUEST_LIMIT_EXCEEDED
        return "REQUEST_LIMIT_EXCEEDED" in str(error.content)
    return isinstance(error, SalesforceGeneralError) and error.status >= 500


def iter_pages(
    connect: Callable[[], object],
    soql: str,
    batch_size: int = 2000,
    include_deleted: bool = False,
    max_retries: int = 5,
    backoff_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[list[dict]]:
    """Yield each page's records for `soql`."""
    headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
    client = connect()
    next_url: str | None = None
    while True:
        attempt, relogged = 0, False
        while True:
            try:
                if next_url is None:
                    page = client.query(soql, include_deleted=include_deleted, headers=headers)
                else:
                    page = client.query_more(next_url, identifier_is_url=True, headers=headers)
                break
            except SalesforceExpiredSession:
                if relogged:
                    raise
                log.warning("Salesforce session expired; logging in again")
                client, relogged = connect(), True
            except Exception as error:
                if not _is_transient(error) or attempt >= max_retries:
                    raise
                delay = backoff_seconds * 2**attempt
                attempt += 1
                log.warning("Salesforce request failed (%s); retry %d/%d in %.1f s",
                            type(error).__name__, attempt, max_retries, delay)
                sleep(delay)
        yield page["records"]
        if page.get("done", True):
            return
        next_url = page["nextRecordsUrl"]
