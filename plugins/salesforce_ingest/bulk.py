"""Pages of a Bulk API 2.0 query job, for objects too large for REST paging.

simple-salesforce creates the job, polls it until it completes and downloads its CSV
results chunk by chunk (Sforce-Locator), the next chunk while the caller works through
this one. Each chunk is cut into pages of `page_rows` rows, each page a `(header, rows)`
pair: the selected field paths ("Account.Name") and lists of strings in that order.
Nothing holds more than three chunks: one read, one waiting, one downloading.
"""

from __future__ import annotations

import csv
import queue
import threading
from collections.abc import Iterator
from itertools import islice

CHUNK_SIZE = 25_000  # records per results download
PAGE_ROWS = 2_000
POLL_SECONDS = 0.5  # the first wait for the job; simple-salesforce then backs off


def iter_bulk_pages(client, sobject: str, soql: str, chunk_size: int = CHUNK_SIZE,
                    page_rows: int = PAGE_ROWS, poll_seconds: float = POLL_SECONDS,
                    ) -> Iterator[tuple[list[str], list[list[str]]]]:
    chunks = getattr(client.bulk2, sobject).query(soql, max_records=chunk_size,
                                                  wait=poll_seconds)
    for chunk in read_ahead(chunks):
        reader = csv.reader(_lines(chunk))
        del chunk  # freed as soon as it is read, before the next one arrives
        header = next(reader, None)
        while header and (rows := list(islice(reader, page_rows))):
            yield header, rows


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` with their "\\n", as csv.reader wants them (a quoted field
    may span lines); lighter than io.StringIO, which holds 4 bytes a character."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


def read_ahead(items: Iterator, depth: int = 1) -> Iterator:
    """`items`, produced by a thread at most `depth` items ahead of the caller.

    Waiting for the server's next chunk then overlaps the work on the current one, so an
    extraction runs at the rate of the slower of the two instead of their sum. Memory
    grows by `depth` + 1 items at most. The producer's errors reach the caller in order;
    when the caller stops early (an error of its own), the producer stops too.

    Worth it for Bulk chunks (tens of thousands of records each). Not for REST pages of
    2,000: reading a response takes the GIL back at every TLS record, so a thread
    fetching beside a busy one loses more to waiting for the GIL than the overlap wins.
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
