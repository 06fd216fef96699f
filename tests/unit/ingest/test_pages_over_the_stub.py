"""Query pages from the real stub through an unmodified simple-salesforce client."""

from collections import OrderedDict

import pytest
from salesforce_ingest.pages import iter_pages, with_plain_dicts
from simple_salesforce import Salesforce

from mwaa_kit.emulators.salesforce.testing import running_stub

SOQL = "SELECT Id, Name, Amount FROM Opportunity"


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    with running_stub(tmp_path_factory.mktemp("stub"), seed={"Account": 5,
                                                             "Opportunity": 450}) as running:
        yield running


@pytest.fixture
def connect(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    return lambda: Salesforce(domain=stub.domain, **stub.credentials)


def test_pages_hold_every_record_once_in_plain_dicts(connect):
    expected = [dict(record) for record in connect().query_all_iter(SOQL)]
    pages = list(iter_pages(lambda: with_plain_dicts(connect()), SOQL, batch_size=200))
    records = [record for page in pages for record in page]
    assert [len(page) for page in pages] == [200, 200, len(expected) - 400]
    assert records == expected
    assert {type(record) for record in records} == {dict}
    assert {type(record["attributes"]) for record in records} == {dict}


def test_without_it_simple_salesforce_decodes_ordered_dicts(connect):
    """The control: left as SalesforceHook builds it, the client decodes OrderedDicts."""
    [page] = iter_pages(connect, SOQL + " LIMIT 1")
    assert type(page[0]) is OrderedDict
