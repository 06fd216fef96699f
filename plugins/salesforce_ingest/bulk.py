"""Pages of a Bulk API 2.0 query job, for objects too large for REST paging.

simple-salesforce creates the job, waits for it and downloads its CSV results page by
page (Sforce-Locator); each page becomes a list of flat rows keyed by the selected
field paths ("Account.Name"). Nothing holds more than one page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

PAGE_SIZE = 50_000


def iter_bulk_pages(client, sobject: str, soql: str,
                    page_size: int = PAGE_SIZE) -> Iterator[list[dict]]:
    for chunk in getattr(client.bulk2, sobject).query(soql, max_records=page_size):
        yield list(csv.DictReader(io.StringIO(chunk)))
