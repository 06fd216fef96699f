"""The stub's Bulk 2.0 query jobs, fault rules, CLI and process life, with the unmodified
simple-salesforce over HTTPS against the stub in its own process."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from mwaa_kit.emulators.salesforce.testing import running_stub

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    with running_stub(tmp_path_factory.mktemp("stub"),
                      seed={"Account": 30, "Opportunity": 1200, "Lead": 40}) as running:
        yield running


@pytest.fixture
def sf(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    stub.clear_faults()
    yield Salesforce(domain=stub.domain, **stub.credentials)
    stub.clear_faults()


def _rows(pages):
    rows = []
    for page in pages:
        rows += list(csv.DictReader(io.StringIO(page)))
    return rows


# -------------------------------------------------------------------- bulk
def test_bulk2_query_pages_csv_with_locators(sf):
    soql = "SELECT Id, Name, Amount, IsWon, Account.Name FROM Opportunity"
    pages = list(sf.bulk2.Opportunity.query(soql, max_records=500, wait=0))
    assert len(pages) == 3  # 500 + 500 + the rest of the live rows
    rows = _rows(pages)
    expected = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    assert len(rows) == len({r["Id"] for r in rows}) == expected
    assert list(rows[0]) == ["Id", "Name", "Amount", "IsWon", "Account.Name"]
    assert {r["IsWon"] for r in rows} == {"true", "false"}
    assert any(r["Account.Name"] == "" for r in rows)  # no account: an empty value
    with_deleted = _rows(sf.bulk2.Opportunity.query_all("SELECT Id FROM Opportunity",
                                                        wait=0))
    assert len(with_deleted) == 1200


def test_bulk2_job_lifecycle_and_headers(stub, sf):
    session = requests.Session()
    session.verify = str(stub.ca_path)
    session.headers["Authorization"] = f"Bearer {sf.session_id}"
    base = f"{stub.base_url}/services/data/v59.0/jobs/query"
    job = session.post(base, json={"operation": "query",
                                   "query": "SELECT Id FROM Lead"}).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    early = session.get(f"{base}/{job['id']}/results")
    assert early.status_code == 400
    states = [session.get(f"{base}/{job['id']}").json()["state"] for _ in range(3)]
    assert states == ["InProgress", "JobComplete", "JobComplete"]
    first = session.get(f"{base}/{job['id']}/results", params={"maxRecords": 15})
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "15"
    locator = first.headers["Sforce-Locator"]
    rest = session.get(f"{base}/{job['id']}/results", params={"locator": locator})
    assert rest.headers["Sforce-Locator"] == "null"
    total = 15 + int(rest.headers["Sforce-NumberOfRecords"])
    assert total == sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    assert session.get(f"{base}/{job['id']}/results", params={"locator": "???"}
                       ).status_code == 400
    assert job["id"] in [j["id"] for j in session.get(base).json()["records"]]
    assert session.delete(f"{base}/{job['id']}").status_code == 204
    assert session.get(f"{base}/{job['id']}").status_code == 404
    other = session.post(base, json={"operation": "query", "query": "SELECT Id FROM Lead"})
    aborted = session.patch(f"{base}/{other.json()['id']}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"


@pytest.mark.parametrize("soql, code", [
    ("SELECT Nope FROM Lead", "INVALID_FIELD"),
    ("SELECT COUNT() FROM Lead", "API_ERROR"),
    ("SELECT Id, (SELECT Id FROM Opportunities) FROM Account", "API_ERROR"),
])
def test_bulk2_refuses_queries_it_cannot_run(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(sf.bulk2.Lead.query(soql, wait=0))
    assert refused.value.content[0]["errorCode"] == code


# ------------------------------------------------------------------ faults
def test_an_expired_session_makes_the_client_log_in_again(stub, sf):
    old_session = sf.session_id
    stub.set_faults([{"kind": "expired_session", "path": "/query"}])
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0
    assert sf.session_id != old_session


@pytest.mark.parametrize("kind, error, status, code", [
    ("request_limit", SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED"),
    ("server_error", SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION"),
    ("unavailable", SalesforceGeneralError, 503, "SERVER_UNAVAILABLE"),
])
def test_faults_answer_with_salesforce_errors(stub, sf, kind, error, status, code):
    stub.set_faults([{"kind": kind, "path": "/query"}])
    with pytest.raises(error) as raised:
        sf.query("SELECT Id FROM Lead")
    assert raised.value.status == status and raised.value.content[0]["errorCode"] == code
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0  # fired once only


@pytest.mark.parametrize("kind", ["drop", "truncate"])
def test_broken_connections(stub, sf, kind):
    stub.set_faults([{"kind": kind, "path": "/query"}])
    with pytest.raises((requests.exceptions.ConnectionError,
                        requests.exceptions.ChunkedEncodingError)):
        sf.query("SELECT Id, Name FROM Opportunity")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0


def test_a_rule_for_one_object_and_the_nth_request(stub, sf):
    stub.set_faults([{"kind": "request_limit", "sobject": "Opportunity", "after": 2}])
    pages = sf.query("SELECT Id FROM Opportunity",
                     headers={"Sforce-Query-Options": "batchSize=200"})  # 1st request
    sf.query("SELECT COUNT() FROM Lead")  # another object: not counted
    sf.query_more(pages["nextRecordsUrl"], identifier_is_url=True)  # 2nd
    with pytest.raises(SalesforceRefusedRequest):  # 3rd: a query locator of Opportunity
        sf.query_more(pages["nextRecordsUrl"], identifier_is_url=True)
    again = sf.query_more(pages["nextRecordsUrl"], identifier_is_url=True)  # retried
    assert len(again["records"]) == 200
    [rule] = stub.admin("faults")
    assert rule["fired"] == 1


def test_latency_and_probability(stub, sf):
    stub.set_faults([{"kind": "latency", "seconds": 0.4, "path": "/limits"}])
    started = time.monotonic()
    sf.limits()
    assert time.monotonic() - started >= 0.4
    stub.set_faults([{"kind": "server_error", "probability": 0.5, "path": "/query"}])
    failures = 0
    for _ in range(40):
        try:
            sf.query("SELECT COUNT() FROM Lead")
        except SalesforceGeneralError:
            failures += 1
    assert 5 <= failures <= 35


def test_bad_rules_are_refused(stub):
    for rules in ([{"kind": "nope"}], [{"kind": "drop", "colour": "red"}],
                  [{"kind": "drop", "probability": 2}], "not a list"):
        response = requests.put(f"{stub.base_url}/__admin/faults", json=rules,
                                verify=str(stub.ca_path), timeout=10)
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "INVALID_FAULT"


# --------------------------------------------------------------------- CLI
def _cli(*arguments, **kwargs):
    return subprocess.run([sys.executable, "-m", "mwaa_kit", "salesforce", *arguments],
                          capture_output=True, text=True, timeout=120, **kwargs)


def test_faults_cli_adds_lists_and_clears_rules(stub, sf):
    state = str(stub.state_dir)
    added = _cli("faults", "--state-dir", state, "--kind", "unavailable", "--object",
                 "Lead", "--after", "1", "--times", "2")
    assert added.returncode == 0, added.stderr
    short = _cli("faults", "--state-dir", state, "--add", "truncate:/jobs/:0:1")
    assert short.returncode == 0, short.stderr
    listing = json.loads(_cli("faults", "--state-dir", state).stdout)
    assert [(r["kind"], r["sobject"], r["after"], r["times"]) for r in listing] == [
        ("unavailable", "Lead", 1, 2), ("truncate", None, 0, 1)]
    sf.query("SELECT COUNT() FROM Lead")
    with pytest.raises(SalesforceGeneralError):
        sf.query("SELECT COUNT() FROM Lead")
    assert _cli("faults", "--state-dir", state, "--clear").returncode == 0
    assert json.loads(_cli("faults", "--state-dir", state).stdout) == []
    expired = _cli("faults", "--state-dir", state, "--expire-sessions")
    assert expired.returncode == 0
    old = sf.session_id
    sf.query("SELECT COUNT() FROM Lead")  # logs in again
    assert sf.session_id != old
    refused = _cli("faults", "--state-dir", state, "--add", "nope")
    assert refused.returncode == 1 and "unknown kind" in refused.stdout + refused.stderr


def test_module_entry_point_serves_persists_and_stops_on_sigterm(tmp_path, monkeypatch):
    """`python -m mwaa_kit salesforce serve` (as the runtimes start the stub), data kept
    across a restart, a clean exit on SIGTERM, seeding from fixtures while stopped."""
    fixtures = tmp_path / "Account.csv"
    fixtures.write_text("Name,Industry,AnnualRevenue\nFixture One,Banking,12.5\n"
                        "Fixture Two,Media,\n")
    seeded = _cli("seed", "--state-dir", str(tmp_path / "state"), "--from-file",
                  str(fixtures), "--object", "Lead=7", "--now", "2025-06-30T12:00:00Z")
    assert seeded.returncode == 0, seeded.stderr
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "state" / "ca.pem"))
    for restart in range(2):
        process = subprocess.Popen(
            [sys.executable, "-m", "mwaa_kit", "salesforce", "serve", "--host",
             "127.0.0.1", "--port", "0", "--state-dir", str(tmp_path / "state")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            port_file = tmp_path / "state" / "port"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and (tmp_path / "state" / "ca.pem").exists()):
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
            port = port_file.read_text()
            if restart:
                time.sleep(0.2)
            sf = Salesforce(username="dev@mwaa-kit.local", password="password",
                            security_token="token", domain=f"127.0.0.1:{port}/#")
            accounts = sf.query("SELECT Name, AnnualRevenue FROM Account WHERE Name LIKE "
                                "'Fixture%' ORDER BY Name")["records"]
            assert [(a["Name"], a["AnnualRevenue"]) for a in accounts] == [
                ("Fixture One", 12.5), ("Fixture Two", None)]
            leads = sf.query("SELECT COUNT() FROM Lead")["totalSize"]
            if restart == 0:
                sf.Lead.create({"LastName": "Kept", "Company": "Across restarts",
                                "Status": "Open - Not Contacted"})
                first_count = leads + 1
            else:
                assert leads == first_count
        finally:
            port_file.unlink(missing_ok=True)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
    assert os.path.exists(tmp_path / "state" / "data.sqlite")
