"""The stub's org: deterministic generator, fixtures, objects file, fault rules, JWT
verification and certificates."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from mwaa_kit.cli import salesforce as salesforce_cli
from mwaa_kit.emulators.salesforce import auth, ca, org
from mwaa_kit.emulators.salesforce.faults import Faults
from mwaa_kit.emulators.salesforce.models.queries import Queries
from mwaa_kit.emulators.salesforce.responses.query import render
from mwaa_kit.emulators.salesforce.schema import apply_objects_file, standard_objects

NOW = datetime(2025, 1, 15, 9, tzinfo=UTC)


def _query(store, soql):
    """The first page of `soql` as the REST query resource answers it."""
    queries = Queries(store)
    return render(queries, queries.query(soql, "59.0", False))


def _rows(store, sobject):
    names = [f.name for f in store.objects[sobject].fields]
    columns = ", ".join(f'"{name}"' for name in names)
    return [dict(zip(names, row, strict=True))
            for row in store.db.execute(f'SELECT {columns} FROM "{sobject}" ORDER BY rowid')]


def test_the_same_seed_and_now_give_the_same_org(tmp_path):
    orgs = []
    for name in ("a", "b"):
        store = org.open_store(tmp_path / name, now=NOW)
        org.seed(store, {"Opportunity": 60, "Account": 10, "Contact": 5}, 42, NOW)
        orgs.append({s: _rows(store, s) for s in ("Account", "Contact", "Opportunity")})
    assert orgs[0] == orgs[1]
    other = org.open_store(tmp_path / "c", now=NOW)
    org.seed(other, {"Opportunity": 60, "Account": 10}, 43, NOW)
    assert _rows(other, "Opportunity") != orgs[0]["Opportunity"]


def test_generated_values_are_realistic_and_spread(tmp_path):
    store = org.open_store(tmp_path, now=NOW)
    org.seed(store, {"Opportunity": 30, "Account": 8}, 7, NOW)
    opportunities = _rows(store, "Opportunity")
    accounts = {a["Id"] for a in _rows(store, "Account")}
    assert all(o["Id"].startswith("006") and len(o["Id"]) == 18 for o in opportunities)
    assert all(o["AccountId"] is None or o["AccountId"] in accounts for o in opportunities)
    assert all(o["IsClosed"] == o["StageName"].startswith("Closed") for o in opportunities)
    assert all(o["CreatedDate"] <= o["SystemModstamp"] <= "2025-01-15T09" for o in
               opportunities)
    assert min(o["CreatedDate"] for o in opportunities) >= "2023-01-15"
    live = [o for o in opportunities if not o["IsDeleted"]]
    for month in ("2024-06", "2024-07", "2024-08", "2024-09", "2024-10", "2024-11",
                  "2024-12"):  # each of the seven months before January 2025
        assert any(o["SystemModstamp"].startswith(month) for o in live), month
        assert any(o["CloseDate"].startswith(month) for o in live), month
    contacts = org.open_store(tmp_path / "x", now=NOW)
    org.seed(contacts, {"Contact": 3}, 1, NOW)
    assert all(c["Name"] == f"{c['FirstName']} {c['LastName']}"
               for c in _rows(contacts, "Contact"))


def test_unknown_objects_are_refused(tmp_path):
    store = org.open_store(tmp_path, now=NOW)
    with pytest.raises(ValueError, match="unknown object 'Widget'"):
        org.seed(store, {"Widget": 3}, 1, NOW)


def test_fixtures_from_csv_and_json(tmp_path):
    store = org.open_store(tmp_path / "state", now=NOW)
    csv_file = tmp_path / "Lead.csv"
    csv_file.write_text("LastName,Company,Status,IsConverted\n"
                        "Curie,Radium,Open - Not Contacted,false\n"
                        "Noether,Algebra,Closed - Converted,true\n")
    assert org.load_fixtures(store, csv_file, now=NOW) == 2
    json_file = tmp_path / "fixtures.json"
    json_file.write_text(json.dumps({"Account": [
        {"Id": "001000000000XYZAAA", "Name": "Fixed Id", "AnnualRevenue": 5}]}))
    assert org.load_fixtures(store, json_file, now=NOW) == 1
    leads = _rows(store, "Lead")
    assert [(r["Name"], r["IsConverted"]) for r in leads] == [("Curie", 0), ("Noether", 1)]
    assert all(r["Id"].startswith("00Q") and r["SystemModstamp"] for r in leads)
    page = _query(store, "SELECT Name, AnnualRevenue FROM Account WHERE Id = "
                         "'001000000000XYZAAA'")
    assert page["records"][0]["AnnualRevenue"] == 5.0
    bad = tmp_path / "Opportunity.csv"
    bad.write_text("Name,Nope\nx,y\n")
    with pytest.raises(ValueError, match="no field 'Nope'"):
        org.load_fixtures(store, bad, now=NOW)
    typed = tmp_path / "Account.csv"
    typed.write_text("Name,NumberOfEmployees\nx,many\n")
    with pytest.raises(ValueError, match="Cannot deserialize"):
        org.load_fixtures(store, typed, now=NOW)


def test_objects_file_adds_custom_objects_and_fields(tmp_path):
    path = tmp_path / "objects.json"
    path.write_text(json.dumps([
        {"name": "Thing__c", "keyPrefix": "a05", "fields": [
            {"name": "Weight__c", "type": "double"},
            {"name": "Opportunity__c", "type": "reference", "referenceTo": "Opportunity"}]},
        {"name": "Opportunity", "fields": [{"name": "Region__c", "type": "picklist",
                                            "values": ["EMEA", "AMER"]}]}]))
    objects = apply_objects_file(standard_objects(), path)
    thing = objects["Thing__c"]
    assert thing.custom and thing.key_prefix == "a05"
    assert thing.field("opportunity__c").relationship_name == "Opportunity__r"
    assert ("Thing__c", "Opportunity__c", "Things__r") in objects["Opportunity"].children
    assert objects["Opportunity"].field("Region__c").values == ("EMEA", "AMER")
    store = org.open_store(tmp_path / "s", path, now=NOW)
    org.seed(store, {"Opportunity": 5, "Thing__c": 4}, 1, NOW)
    page = _query(store, "SELECT Name, Weight__c, Opportunity__r.Name FROM Thing__c")
    assert page["totalSize"] == 4
    for entries, message in (
            ([{"name": "Thing", "fields": []}], "must end with __c"),
            ([{"name": "A__c", "fields": [{"name": "B", "type": "string"}]}], "end with __c"),
            ([{"name": "A__c", "fields": [{"name": "B__c", "type": "blob"}]}], "type 'blob'"),
            ([{"name": "A__c", "keyPrefix": "001", "fields": []}], "unique 3-character"),
            ([{"name": "A__c", "fields": [{"name": "B__c", "type": "reference",
                                           "referenceTo": "Nope__c"}]}], "unknown object")):
        path.write_text(json.dumps(entries))
        with pytest.raises(ValueError, match=message):
            apply_objects_file(standard_objects(), path)


def test_a_store_reopened_with_a_new_field_gains_its_column(tmp_path):
    store = org.open_store(tmp_path, now=NOW)
    org.seed(store, {"Account": 2}, 1, NOW)
    path = tmp_path / "objects.json"
    path.write_text(json.dumps([{"name": "Account", "fields": [
        {"name": "Tier__c", "type": "string"}]}]))
    reopened = org.open_store(tmp_path, path, now=NOW)
    page = _query(reopened, "SELECT Name, Tier__c FROM Account")
    assert page["totalSize"] == 2 and page["records"][0]["Tier__c"] is None


def test_fault_rules_by_path_object_nth_and_probability():
    faults = Faults(seed=1)
    faults.replace([{"kind": "server_error", "path": "/query", "sobject": "Lead",
                     "after": 1, "times": 2}])
    picks = [faults.pick("/services/data/v59.0/query", obj) for obj in
             ("Lead", "Account", "Lead", "lead", "Lead")]
    assert [p is not None for p in picks] == [False, False, True, True, False]
    faults.replace([{"kind": "unavailable", "probability": 0.25}])
    fired = sum(faults.pick("/services/data/v59.0/limits") is not None for _ in range(400))
    assert 60 <= fired <= 140
    faults.add([{"kind": "drop", "path": "/jobs/"}])
    assert [r["kind"] for r in faults.listing()] == ["unavailable", "drop"]
    for bad in ([{"kind": "x"}], [{"kind": "drop", "after": -1}], {"kind": "drop"},
                [{"kind": "drop", "seconds": "slow"}], [{"kind": "drop", "times": True}]):
        with pytest.raises(ValueError):
            faults.replace(bad)


def _jwt(key, claims, header=None):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header or {'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_jwt_bearer_checks_signature_issuer_audience_expiry_and_subject(tmp_path):
    cert_path, key_path = ca.ensure_jwt_keypair(tmp_path)
    assert ca.ensure_jwt_keypair(tmp_path) == (cert_path, key_path)  # reused
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    sessions = auth.Sessions(60, jwt_certificate=cert_path.read_bytes())
    good = {"iss": auth.CLIENT_ID, "sub": auth.USERNAME, "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 120}

    def grant(claims, **kwargs):
        refusal = sessions.oauth({"grant_type": auth.JWT_GRANT,
                                  "assertion": _jwt(key, claims, **kwargs)},
                                 audiences=("https://127.0.0.1:9",))
        return refusal.description if refusal else None

    assert grant(good) is None
    assert grant({**good, "aud": "https://127.0.0.1:9/#.salesforce.com"}) is None
    assert grant({**good, "aud": "https://evil.example"}) == "audience is invalid"
    assert grant({**good, "iss": "other"}) == "client identifier invalid"
    assert grant({**good, "exp": int(time.time()) - 5}) == "expired authorization code"
    assert grant({**good, "sub": "x@y"}) == "user hasn't approved this consumer"
    assert grant(good, header={"alg": "HS256"}) == "invalid assertion"
    forged = _jwt(key, good)[:-4] + "AAAA"
    assert sessions.oauth({"grant_type": auth.JWT_GRANT, "assertion": forged}
                          ).description == "invalid assertion"
    assert sessions.oauth({"grant_type": auth.JWT_GRANT, "assertion": "not.a.jwt"}
                          ).description == "invalid assertion"


def test_certificates_are_made_once_and_name_loopback(tmp_path):
    cert_path, _ = ca.ensure_certificates(tmp_path)
    ca_pem = (tmp_path / "ca.pem").read_bytes()
    ca.ensure_certificates(tmp_path)
    assert (tmp_path / "ca.pem").read_bytes() == ca_pem  # the CA clients trust is kept
    server = x509.load_pem_x509_certificates(cert_path.read_bytes())[0]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    authority = x509.load_pem_x509_certificate(ca_pem)
    server.verify_directly_issued_by(authority)


def test_an_older_state_dir_gets_compound_names_backfilled(tmp_path):
    store = org.open_store(tmp_path, now=NOW)
    org.seed(store, {"Lead": 3}, 1, NOW)
    with store.db:
        store.db.execute('ALTER TABLE "Lead" DROP COLUMN "Name"')  # as before Name existed
    reopened = org.open_store(tmp_path, now=NOW)
    leads = _rows(reopened, "Lead")
    assert all(lead["Name"] == f"{lead['FirstName']} {lead['LastName']}" for lead in leads)


def test_the_seed_arguments_are_what_the_seed_command_reads(tmp_path):
    arguments = org.seed_arguments({"Account": 3, "Lead": 2}, 7)
    result = CliRunner().invoke(salesforce_cli.salesforce, [
        "seed", "--state-dir", str(tmp_path), "--now", "2025-01-15T09:00:00Z", *arguments])
    assert result.exit_code == 0, result.output
    store = org.open_store(tmp_path)
    assert (store.count("Account"), store.count("Lead")) == (3, 2)
    expected = org.open_store(tmp_path / "direct", now=NOW)
    org.seed(expected, {"Account": 3, "Lead": 2}, 7, NOW)
    assert _rows(store, "Lead") == _rows(expected, "Lead")  # the seed value was read too
