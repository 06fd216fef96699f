"""Conformance of the stub with the unmodified simple-salesforce, over HTTPS, with the
stub in its own process: logins, queries and paging, describe, CRUD, errors."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.emulators.salesforce.testing import running_stub

pytestmark = pytest.mark.e2e

OBJECTS = [
    {"name": "Account", "fields": [{"name": "External_Id__c", "type": "string",
                                    "externalId": True}]},
    {"name": "Thing__c", "keyPrefix": "a01", "fields": [
        {"name": "Size__c", "type": "double"},
        {"name": "Colors__c", "type": "multipicklist", "values": ["Red", "Green", "Blue"]},
        {"name": "Account__c", "type": "reference", "referenceTo": "Account"}]},
]


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    state = tmp_path_factory.mktemp("stub")
    objects_file = state.parent / f"{state.name}-objects.json"
    objects_file.write_text(json.dumps(OBJECTS))
    with running_stub(state, seed={"Account": 20, "Contact": 30, "Opportunity": 2500,
                                   "Lead": 40, "Thing__c": 5},
                      objects_file=objects_file) as running:
        yield running


@pytest.fixture
def sf(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    return Salesforce(domain=stub.domain, **stub.credentials)


def _count(sf, sobject, where=""):
    return sf.query(f"SELECT COUNT() FROM {sobject}" + (f" WHERE {where}" if where else
                                                         ""))["totalSize"]


# ------------------------------------------------------------------ logins
def test_health_and_port_file(stub):
    response = requests.get(f"{stub.base_url}/health", verify=str(stub.ca_path), timeout=10)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert (stub.state_dir / "port").read_text() == str(stub.port)


def test_soap_login_with_token_and_with_organization_id(stub, sf, monkeypatch):
    assert sf.sf_instance == f"127.0.0.1:{stub.port}"
    by_org = Salesforce(username=auth.USERNAME, password=auth.PASSWORD,
                        organizationId=auth.ORGANIZATION_ID, domain=stub.domain)
    assert _count(by_org, "Lead") > 0
    with pytest.raises(SalesforceAuthenticationFailed, match="INVALID_LOGIN"):
        Salesforce(domain=stub.domain, username=auth.USERNAME, password="nope",
                   security_token=auth.SECURITY_TOKEN)


def test_oauth_password_grant(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    sf = Salesforce(domain=stub.domain, username=auth.USERNAME, password=auth.PASSWORD,
                    consumer_key=auth.CLIENT_ID, consumer_secret=auth.CLIENT_SECRET)
    assert _count(sf, "Account") > 0
    with pytest.raises(SalesforceAuthenticationFailed, match="authentication failure"):
        Salesforce(domain=stub.domain, username=auth.USERNAME, password="wrong",
                   consumer_key=auth.CLIENT_ID, consumer_secret=auth.CLIENT_SECRET)
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client_id"):
        Salesforce(domain=stub.domain, username=auth.USERNAME, password=auth.PASSWORD,
                   consumer_key="someone-else", consumer_secret=auth.CLIENT_SECRET)


def test_oauth_client_credentials(stub, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    sf = Salesforce(domain=stub.domain, consumer_key=auth.CLIENT_ID,
                    consumer_secret=auth.CLIENT_SECRET)  # Basic auth header
    assert _count(sf, "Lead") > 0
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid_client"):
        Salesforce(domain=stub.domain, consumer_key=auth.CLIENT_ID, consumer_secret="nope")
    token = requests.post(f"{stub.base_url}/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": auth.CLIENT_ID,
        "client_secret": auth.CLIENT_SECRET}, timeout=10).json()
    assert token["instance_url"] == stub.base_url and token["token_type"] == "Bearer"
    unsupported = requests.post(f"{stub.base_url}/services/oauth2/token",
                                data={"grant_type": "magic"}, timeout=10)
    assert unsupported.status_code == 400
    assert unsupported.json() == {"error": "unsupported_grant_type",
                                  "error_description": "grant type not supported"}


def test_jwt_bearer_verifies_the_signature(stub, monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(stub.ca_path))
    sf = Salesforce(username=auth.USERNAME, consumer_key=auth.CLIENT_ID,
                    privatekey_file=str(stub.jwt_key_path), domain=stub.domain)
    assert _count(sf, "Opportunity") > 0

    stranger = tmp_path / "other-key.pem"
    stranger.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(SalesforceAuthenticationFailed, match="invalid assertion"):
        Salesforce(username=auth.USERNAME, consumer_key=auth.CLIENT_ID,
                   privatekey_file=str(stranger), domain=stub.domain)
    with pytest.raises(SalesforceAuthenticationFailed, match="hasn't approved"), \
            pytest.warns(UserWarning, match="authorize this"):  # the client's own hint
        Salesforce(username="someone@else.example", consumer_key=auth.CLIENT_ID,
                   privatekey_file=str(stub.jwt_key_path), domain=stub.domain)


def test_sessions_expire_after_their_ttl(tmp_path, monkeypatch):
    # The sessions' clock is advanced through the admin API, not waited out.
    with running_stub(tmp_path, seed={"Lead": 3}, session_ttl=60) as short:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(short.ca_path))
        logged_in = Salesforce(domain=short.domain, **short.credentials)
        bare = Salesforce(instance=logged_in.sf_instance, session_id=logged_in.session_id)
        assert _count(bare, "Lead") == 3
        short.admin("sessions", "POST", {"advance_seconds": 59})
        assert _count(bare, "Lead") == 3  # still within its ttl
        short.admin("sessions", "POST", {"advance_seconds": 2})
        with pytest.raises(SalesforceExpiredSession) as expired:
            bare.query("SELECT COUNT() FROM Lead")  # a bare session cannot log in again
        assert expired.value.content == [{"message": "Session expired or invalid",
                                          "errorCode": "INVALID_SESSION_ID"}]
        assert _count(logged_in, "Lead") == 3  # a client with credentials logs in again


# ----------------------------------------------------------------- queries
def test_query_all_iter_pages_with_batch_size(sf):
    expected = _count(sf, "Opportunity")
    first = sf.query("SELECT Id FROM Opportunity",
                     headers={"Sforce-Query-Options": "batchSize=500"})
    assert len(first["records"]) == 500 and first["totalSize"] == expected
    assert first["nextRecordsUrl"].startswith("/services/data/v")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 500  # pages keep the query's batch size
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Opportunity")]
    assert len(ids) == len(set(ids)) == expected
    small = sf.query("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=5"})
    assert len(small["records"]) == min(200, _count(sf, "Lead"))  # clamped to >= 200


def test_query_all_includes_deleted_rows(sf):
    with_deleted = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)
    assert with_deleted["totalSize"] == 2500
    deleted = sum(1 for r in with_deleted["records"] if r["IsDeleted"])
    assert deleted > 0 and _count(sf, "Opportunity") == 2500 - deleted


def test_an_unknown_query_locator_is_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query_more("0r8xx0000000000-2000")
    assert refused.value.content == [{"message": "invalid query locator",
                                      "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_records_have_attributes_parent_paths_and_salesforce_datetimes(sf):
    record = sf.query("SELECT Id, Name, Amount, IsWon, CloseDate, SystemModstamp, "
                      "Account.Name, Account.Owner.Username FROM Opportunity "
                      "WHERE AccountId != null LIMIT 1")["records"][0]
    assert record["attributes"] == {"type": "Opportunity", "url": "/services/data/v59.0"
                                    f"/sobjects/Opportunity/{record['Id']}"}
    assert record["Account"]["attributes"]["type"] == "Account"
    assert record["Account"]["Owner"]["Username"] == auth.USERNAME
    assert isinstance(record["Amount"], float) and isinstance(record["IsWon"], bool)
    datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
    datetime.strptime(record["CloseDate"], "%Y-%m-%d")
    assert record["Id"].startswith("006") and len(record["Id"]) == 18


def test_child_subqueries(sf):
    accounts = sf.query_all("SELECT Id, Name, (SELECT Id, Name FROM Opportunities "
                            "ORDER BY Name) FROM Account")["records"]
    with_children = [a for a in accounts if a["Opportunities"]]
    assert with_children
    account = with_children[0]
    expected = _count(sf, "Opportunity", f"AccountId = '{account['Id']}'")
    assert account["Opportunities"]["totalSize"] == expected
    assert account["Opportunities"]["records"][0]["attributes"]["type"] == "Opportunity"


def test_monthly_batches_on_system_modstamp_cover_the_last_seven_months(sf):
    """The example DAG's batches: `SystemModstamp >= month AND < next month`."""
    today = datetime.now(UTC).date().replace(day=1)
    starts = []
    for back in range(7, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC))
    counts = []
    for start, end in zip(starts, starts[1:], strict=False):
        where = (f"SystemModstamp >= {start:%Y-%m-%dT%H:%M:%SZ} AND "
                 f"SystemModstamp < {end:%Y-%m-%dT%H:%M:%SZ}")
        batch = list(sf.query_all_iter(f"SELECT Id, SystemModstamp FROM Opportunity "
                                       f"WHERE {where}"))
        assert batch and all(start <= datetime.strptime(r["SystemModstamp"],
                             "%Y-%m-%dT%H:%M:%S.%f%z") < end for r in batch)
        back = 7 - len(counts)
        assert len(batch) == _count(sf, "Opportunity", f"SystemModstamp = N_MONTHS_AGO:{back}")
        counts.append(len(batch))
    assert sum(counts) == _count(sf, "Opportunity", "SystemModstamp = LAST_N_MONTHS:7")
    assert _count(sf, "Opportunity", "CloseDate = LAST_N_MONTHS:7") > 0


def test_where_order_limit_offset(sf):
    rows = sf.query("SELECT Name, Amount FROM Opportunity WHERE (StageName IN "
                    "('Closed Won', 'Prospecting') OR Amount > 200000) AND NOT Name LIKE "
                    "'%deal 1%' ORDER BY Amount DESC NULLS LAST LIMIT 5 OFFSET 2")["records"]
    amounts = [r["Amount"] for r in rows]
    assert len(rows) == 5 and amounts == sorted(amounts, reverse=True)
    assert not any("deal 1" in r["Name"] for r in rows)


@pytest.mark.parametrize("soql, code", [
    ("SELECT Id FROM Nope", "INVALID_TYPE"),
    ("SELECT Nope FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE CreatedDate > 2024-01-01", "INVALID_FIELD"),
])
def test_query_errors_have_salesforce_shapes(sf, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query(soql)
    assert refused.value.status == 400
    [error] = refused.value.content
    assert set(error) == {"message", "errorCode"} and error["errorCode"] == code
    assert "ERROR at Row:1:Column:" in error["message"]


def test_every_supported_api_version_answers(stub, sf):
    versions = requests.get(f"{stub.base_url}/services/data/", verify=str(stub.ca_path),
                            timeout=10).json()
    assert [v["version"] for v in versions] == [f"{n}.0" for n in range(52, 63)]
    for version in ("52.0", "62.0"):
        old = Salesforce(instance=sf.sf_instance, session_id=sf.session_id, version=version)
        assert _count(old, "Lead") > 0
    with pytest.raises(SalesforceResourceNotFound):
        Salesforce(instance=sf.sf_instance, session_id=sf.session_id,
                   version="51.0").query("SELECT COUNT() FROM Lead")


# ---------------------------------------------------------------- describe
def test_describe_and_global_describe(sf):
    described = sf.describe()
    names = {o["name"] for o in described["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "User", "Organization",
            "Thing__c"} <= names
    prefixes = {o["name"]: o["keyPrefix"] for o in described["sobjects"]}
    assert [prefixes[n] for n in ("Account", "Contact", "Lead", "Opportunity", "User",
                                  "Organization")] == ["001", "003", "00Q", "006", "005",
                                                       "00D"]
    account = sf.Account.describe()
    children = {(c["childSObject"], c["field"], c["relationshipName"])
                for c in account["childRelationships"]}
    assert {("Opportunity", "AccountId", "Opportunities"), ("Contact", "AccountId",
            "Contacts"), ("Thing__c", "Account__c", "Things__r")} <= children
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    modstamp = fields["SystemModstamp"]
    assert (modstamp["type"], modstamp["soapType"], modstamp["nillable"]) == (
        "datetime", "xsd:dateTime", False)
    lookup = fields["AccountId"]
    assert (lookup["type"], lookup["referenceTo"], lookup["relationshipName"]) == (
        "reference", ["Account"], "Account")
    assert fields["Name"]["length"] == 255 and fields["Name"]["nameField"]
    assert {v["value"] for v in fields["StageName"]["picklistValues"]} >= {"Closed Won"}


def test_custom_objects_from_the_objects_file(sf):
    thing = sf.Thing__c.describe()
    assert thing["custom"] and thing["keyPrefix"] == "a01"
    size = next(f for f in thing["fields"] if f["name"] == "Size__c")
    assert size["custom"] and size["type"] == "double"
    created = sf.Thing__c.create({"Name": "Widget", "Size__c": 3.5,
                                  "Colors__c": "Red;Blue"})
    assert created["id"].startswith("a01")
    found = sf.query("SELECT Name, Size__c FROM Thing__c WHERE Colors__c INCLUDES "
                     "('Blue;Red') AND Colors__c EXCLUDES ('Green')")["records"]
    assert [(r["Name"], r["Size__c"]) for r in found] == [("Widget", 3.5)]
    everything = sf.query("SELECT FIELDS(ALL) FROM Thing__c LIMIT 200")["records"]
    assert {"Size__c", "Colors__c", "SystemModstamp"} <= set(everything[0])


# -------------------------------------------------------------------- CRUD
def test_crud(sf):
    created = sf.Lead.create({"FirstName": "Ada", "LastName": "Lovelace",
                              "Company": "Engines", "Status": "Open - Not Contacted"})
    assert created["success"] and created["id"].startswith("00Q")
    lead = sf.Lead.get(created["id"])
    assert (lead["Name"], lead["IsConverted"]) == ("Ada Lovelace", False)
    assert sf.Lead.update(created["id"], {"Company": "Analytical Engines"}) == 204
    assert sf.Lead.get(created["id"])["Company"] == "Analytical Engines"
    assert sf.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(created["id"])
    with pytest.raises(SalesforceResourceNotFound) as again:
        sf.Lead.delete(created["id"])
    assert again.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    assert any(r["Id"] == created["id"] for r in sf.query_all(
        "SELECT Id FROM Lead WHERE IsDeleted = true", include_deleted=True)["records"])


def test_create_refusals(sf):
    with pytest.raises(SalesforceMalformedRequest) as missing:
        sf.Lead.create({"FirstName": "Nobody"})
    assert missing.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert set(missing.value.content[0]["fields"]) == {"LastName", "Company", "Status"}
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.Account.create({"Name": "X", "Nope__c": 1})
    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as locked:
        sf.Account.create({"Name": "X", "CreatedDate": "2020-01-01T00:00:00Z"})
    assert locked.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_upsert_and_get_by_external_id(sf):
    response = sf.Account.upsert("External_Id__c/EXT-1", {"Name": "Upserted"},
                                 raw_response=True)
    assert response.status_code == 201 and response.json()["created"] is True
    response = sf.Account.upsert("External_Id__c/EXT-1", {"Name": "Upserted again"},
                                 raw_response=True)
    assert response.status_code == 200 and response.json()["created"] is False
    record = sf.Account.get_by_custom_id("External_Id__c", "EXT-1")
    assert record["Name"] == "Upserted again" and record["External_Id__c"] == "EXT-1"


def test_updated_and_deleted_endpoints(sf):
    start = datetime.now(UTC) - timedelta(minutes=1)
    created = sf.Contact.create({"LastName": "Hopper"})
    sf.Contact.delete(created["id"])
    end = datetime.now(UTC) + timedelta(minutes=1)
    deleted = sf.Contact.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [created["id"]]
    kept = sf.Account.create({"Name": "Fresh"})
    assert kept["id"] in sf.Account.updated(start, end)["ids"]


def test_limits_and_api_usage(sf):
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] > limits["DailyApiRequests"]["Remaining"]
    sf.query("SELECT COUNT() FROM Lead")
    assert sf.api_usage["api-usage"].used > 0
