"""Conformance of the stub with the unmodified simple-salesforce, over HTTPS, with the
stub in its own process."""

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.emulators.salesforce.testing import running_stub

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    with running_stub(tmp_path_factory.mktemp("stub"),
                      seed={"Account": 20, "Opportunity": 2500, "Lead": 40}) as running:
        yield running


@pytest.fixture
def sf(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    return Salesforce(domain=stub.domain, **stub.credentials)


def test_soap_login_with_token_and_with_organization_id(stub, sf, monkeypatch):
    assert sf.sf_instance == f"127.0.0.1:{stub.port}"
    by_org = Salesforce(username=auth.USERNAME, password=auth.PASSWORD,
                        organizationId=auth.ORGANIZATION_ID, domain=stub.domain)
    assert by_org.query("SELECT COUNT() FROM Lead")["totalSize"] > 0
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        Salesforce(domain=stub.domain, username=auth.USERNAME, password="nope",
                   security_token=auth.SECURITY_TOKEN)


def test_oauth_password_and_client_credentials(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    sf = Salesforce(domain=stub.domain, username=auth.USERNAME, password=auth.PASSWORD,
                    consumer_key=auth.CLIENT_ID, consumer_secret=auth.CLIENT_SECRET)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    token = requests.post(f"{stub.base_url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": auth.CLIENT_ID,
        "client_secret": auth.CLIENT_SECRET}, timeout=10).json()
    assert token["instance_url"] == stub.base_url and token["token_type"] == "Bearer"
    refused = requests.post(f"{stub.base_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": "x", "client_secret": "y"}, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_query_all_iter_pages_with_batch_size(sf):
    expected = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    first = sf.query("SELECT Id FROM Opportunity",
                     headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(first["records"]) == 500 and first["nextRecordsUrl"].startswith(
        "/services/data/v")
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity")]
    assert len(ids) == len(set(ids)) == expected
    with_deleted = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert with_deleted["totalSize"] == 2500
    assert any(r["IsDeleted"] for r in with_deleted["records"])


def test_describe_and_global_describe(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "User", "Organization"} <= names
    account = sf.Account.describe()
    assert account["keyPrefix"] == "001"
    assert {"childSObject": "Opportunity", "field": "AccountId",
            "relationshipName": "Opportunities", "cascadeDelete": False} in account[
        "childRelationships"]
    modstamp = next(f for f in account["fields"] if f["name"] == "SystemModstamp")
    assert (modstamp["type"], modstamp["soapType"], modstamp["nillable"]) == (
        "datetime", "xsd:dateTime", False)


def test_crud(sf):
    created = sf.Lead.create({"LastName": "Lovelace", "Company": "Engines",
                              "Status": "Open - Not Contacted", "IsConverted": False})
    lead = sf.Lead.get(created["id"])
    assert (lead["LastName"], lead["IsConverted"]) == ("Lovelace", False)
    sf.Lead.update(created["id"], {"Company": "Analytical Engines"})
    assert sf.Lead.get(created["id"])["Company"] == "Analytical Engines"
    sf.Lead.delete(created["id"])
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(created["id"])


def _faults(stub, rules):
    response = requests.post(f"{stub.base_url}/__admin/faults", json=rules,
                             verify=str(stub.ca_path), timeout=10)
    response.raise_for_status()


def test_an_expired_session_makes_the_client_log_in_again(stub, sf):
    old_session = sf.session_id
    _faults(stub, [{"kind": "expired_session", "path": "/query"}])
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0
    assert sf.session_id != old_session


@pytest.mark.parametrize("kind, error", [
    ("request_limit", SalesforceRefusedRequest),
    ("server_error", SalesforceGeneralError),
    ("unavailable", SalesforceGeneralError),
])
def test_faults_answer_with_salesforce_errors(stub, sf, kind, error):
    _faults(stub, [{"kind": kind, "path": "/query"}])
    with pytest.raises(error):
        sf.query("SELECT Id FROM Lead")
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0  # fired once only


@pytest.mark.parametrize("kind", ["drop", "truncate"])
def test_broken_connections(stub, sf, kind):
    _faults(stub, [{"kind": kind, "path": "/query"}])
    with pytest.raises((requests.exceptions.ConnectionError,
                        requests.exceptions.ChunkedEncodingError, ValueError)):
        sf.query("SELECT Id, Name FROM Opportunity")


def test_sessions_expire_after_their_ttl(tmp_path, monkeypatch):
    import time

    with running_stub(tmp_path, seed={"Lead": 3}, session_ttl=1) as short:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(short.ca_path))
        logged_in = Salesforce(domain=short.domain, **short.credentials)
        bare = Salesforce(instance=logged_in.sf_instance, session_id=logged_in.session_id)
        assert bare.query("SELECT COUNT() FROM Lead")["totalSize"] >= 0
        time.sleep(1.5)
        with pytest.raises(SalesforceExpiredSession):  # a bare session cannot log in again
            bare.query("SELECT COUNT() FROM Lead")
