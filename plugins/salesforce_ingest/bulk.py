"""Pages of a Bulk API 2.0 query job, for objects too large for REST paging.

simple-salesforce creates the job, polls it until it completes and downloads its CSV
results chunk by chunk (Sforce-Locator), the next chunk while the caller works through
this one. Each chunk is cut into pages of `page_rows` rows, each page a `(header, rows)`
pair: the selected field paths ("Account.Name") and lists of strings in that order.
Nothing holds more than three chunks: one read, one waiting, one downloading.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from itertools import islice

from salesforce_ingest.pages import read_ahead

CHUNK_SIZE = 25_000  # records per results download
PAGE_ROWS = 2_000
# The wait before the job's first status check; simple-salesforce then waits this plus
# e**n ms between checks, growing to 2 s. A job done in a moment is read within 0.2 s;
# a long one costs a few more checks than simple-salesforce's 5-second default would.
POLL_SECONDS = 0.1


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
