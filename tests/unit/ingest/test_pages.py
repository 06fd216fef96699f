import threading
import time

import pytest
from requests.exceptions import ConnectionError
from salesforce_ingest.pages import iter_pages, read_ahead
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

PAGES = {None: {"records": [1, 2], "done": False, "nextRecordsUrl": "/next/1"},
         "/next/1": {"records": [3, 4], "done": False, "nextRecordsUrl": "/next/2"},
         "/next/2": {"records": [5], "done": True}}


class FakeClient:
    """Serves PAGES, raising the queued errors first for the named step."""

    def __init__(self, failures, log):
        self.failures, self.log = failures, log

    def _serve(self, step):
        self.log.append(step)
        queued = self.failures.get(step, [])
        if queued:
            raise queued.pop(0)
        return PAGES[step]

    def query(self, soql, include_deleted, headers):
        assert headers == {"Sforce-Query-Options": "batchSize=500"}
        return self._serve(None)

    def query_more(self, url, identifier_is_url, headers):
        return self._serve(url)


def _records(failures, **kwargs):
    log, sleeps, logins = [], [], []

    def connect():
        logins.append(1)
        return FakeClient(failures, log)

    pages = iter_pages(connect, "SELECT Id FROM Lead", batch_size=500, sleep=sleeps.append,
                       **kwargs)
    records = [r for page in pages for r in page]
    return records, log, sleeps, len(logins)


def _error(kind, status):
    return kind("url", status, "query", [{"errorCode": "REQUEST_LIMIT_EXCEEDED"}])


def test_transient_failures_resume_from_the_failing_page_without_duplicates():
    failures = {"/next/1": [ConnectionError("reset"), _error(SalesforceGeneralError, 503)],
                "/next/2": [_error(SalesforceRefusedRequest, 403)]}
    records, log, sleeps, logins = _records(failures)
    assert records == [1, 2, 3, 4, 5]
    assert log == [None, "/next/1", "/next/1", "/next/1", "/next/2", "/next/2"]
    assert sleeps == [1.0, 2.0, 1.0] and logins == 1


def test_expired_session_logs_in_once_and_continues():
    records, log, _, logins = _records({"/next/2": [_error(SalesforceExpiredSession, 401)]})
    assert records == [1, 2, 3, 4, 5] and logins == 2


def test_a_second_expiry_right_after_login_is_raised():
    failures = {None: [_error(SalesforceExpiredSession, 401)] * 2}
    with pytest.raises(SalesforceExpiredSession):
        _records(failures)


def test_errors_that_are_not_transient_are_raised_at_once():
    with pytest.raises(SalesforceMalformedRequest):
        _records({None: [_error(SalesforceMalformedRequest, 400)]})


def test_retries_are_bounded():
    failures = {None: [ConnectionError("down")] * 10}
    with pytest.raises(ConnectionError):
        _records(failures, max_retries=3)


def test_read_ahead_keeps_order_and_raises_the_producer_s_error_in_its_place():
    def items():
        yield from (1, 2, 3)
        raise ValueError("page 4 failed")

    seen = []
    with pytest.raises(ValueError, match="page 4"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2, 3]


def test_a_caller_that_stops_early_stops_the_producer():
    closed, produced = threading.Event(), []

    def items():
        try:
            for number in range(1000):
                produced.append(number)
                yield number
        finally:
            closed.set()

    reader = read_ahead(items())
    assert next(reader) == 0
    reader.close()
    assert closed.wait(5)
    time.sleep(0.2)
    assert len(produced) <= 3  # the one taken, one waiting, one being made
