"""The use case end to end: the example project's DAGs in the local environment, over
the Salesforce stub and the emulated S3, with counts checked against the stub's data."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime

import boto3
import pytest
import requests
from simple_salesforce import Salesforce

from mwaa_kit.emulators.salesforce import auth
from tests.e2e.conftest import copy_example, remove_project, run_cli, write_project

pytestmark = pytest.mark.e2e

BUCKET = "salesforceingestion-data"
LOGICAL_DATE = "2026-11-15T00:00:00+00:00"
MONTHS = ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]

FAULT_DAG = """
from datetime import datetime
from operators.salesforce_to_s3_operator import SalesforceToS3Operator
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG

with DAG("all_opportunities", schedule=None, start_date=datetime(2024, 1, 1)):
    SalesforceToS3Operator(
        task_id="extract", sf_conn_id="salesforce_connection", sf_obj="Opportunity",
        sf_fields=["Id", "Name", "Account.Name"], fmt="ndjson", batch_size=200,
        retry_backoff_seconds=0.2, retries=0, use_bulk=False,
        s3_conn_id="aws_connection", s3_bucket="{{ var.value.bucket_name }}",
        s3_key="test/all_opportunities.json")

with DAG("bulk_opportunities", schedule=None, start_date=datetime(2024, 1, 1)):
    for name, bulk in (("rest", False), ("bulk", True)):
        SalesforceToS3Operator(
            task_id=name, sf_conn_id="salesforce_connection", sf_obj="Opportunity",
            sf_fields=["Id", "Amount", "IsWon", "CloseDate", "Account.Name"], fmt="ndjson",
            use_bulk=bulk, coerce_to_timestamp=True, retries=0,
            s3_conn_id="aws_connection", s3_bucket="{{ var.value.bucket_name }}",
            s3_key=f"test/opportunities_{name}.json")
"""


@pytest.fixture(scope="module")
def example():
    """A copy of the repository's example project, brought up natively."""
    project = copy_example("example")
    write_project(project, {"dags/all_opportunities.py": FAULT_DAG})
    run_cli("up", "--quiet", project=project, check=True)
    yield project
    remove_project(project)


@pytest.fixture(scope="module")
def status(example):
    return json.loads(run_cli("status", "--format", "json", project=example).stdout)


@pytest.fixture(scope="module")
def s3(status):
    port = status["processes"]["aws"]["port"]
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def sf(example, status):
    port = status["processes"]["salesforce"]["port"]
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment wins
    session.verify = str(example / ".mwaa-kit/salesforce/ca.pem")
    return Salesforce(username=auth.USERNAME, password=auth.PASSWORD,
                      security_token=auth.SECURITY_TOKEN, domain=f"127.0.0.1:{port}/#",
                      session=session)


def _count(sf, sobject, where):
    return sf.query(f"SELECT COUNT() FROM {sobject} WHERE {where}")["totalSize"]


def _faults(example, status, rules):
    port = status["processes"]["salesforce"]["port"]
    requests.post(f"https://127.0.0.1:{port}/__admin/faults", json=rules, timeout=10,
                  verify=str(example / ".mwaa-kit/salesforce/ca.pem")).raise_for_status()


def _body(s3, key):
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def test_monthly_batches_hold_exactly_the_stub_s_records(example, sf, s3):
    result = run_cli("dags", "test", "salesforce_to_s3", LOGICAL_DATE, "--format", "json",
                     project=example)
    assert result.returncode == 0, result.stderr[-3000:]
    # The current month ends at the run's data interval end (2.x and 3.x infer it apart).
    interval_end = datetime.fromisoformat(json.loads(result.stdout)["data_interval_end"])
    seen_ids = set()
    for index, month in enumerate(MONTHS):
        key = f"salesforce/raw/dt=2026-11-15/opportunity/{month}.json"
        lines = _body(s3, key).decode().splitlines()
        records = [json.loads(line) for line in lines]
        start = f"{month}-01T00:00:00Z"
        end = f"{MONTHS[index + 1]}-01T00:00:00Z" if index + 1 < len(MONTHS) \
            else interval_end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        expected = _count(sf, "Opportunity",
                          f"SystemModstamp >= {start} AND SystemModstamp < {end}")
        assert len(records) == expected, month
        assert set(records[0]) == {"id", "name", "stagename", "amount", "closedate",
                                   "account_name", "systemmodstamp"}
        assert all(start[:7] == r["systemmodstamp"][:7] for r in records)
        ids = {r["id"] for r in records}
        assert not ids & seen_ids, "monthly batches overlap"
        seen_ids |= ids


def test_full_object_as_gzipped_csv_and_custom_query_as_json(example, sf, s3):
    result = run_cli("dags", "test", "salesforce_full_and_custom", LOGICAL_DATE,
                     project=example)
    assert result.returncode == 0, result.stderr[-3000:]
    text = gzip.decompress(_body(s3, "salesforce/raw/dt=2026-11-15/account/account.csv.gz"))
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert len(rows) == sf.query("SELECT COUNT() FROM Account")["totalSize"]
    assert rows[0]["systemmodstamp"].isdigit()  # coerce_to_timestamp
    assert "time_fetched_from_salesforce" in rows[0]
    leads = json.loads(_body(s3, "salesforce/raw/dt=2026-11-15/lead/open_leads.json"))
    assert len(leads) == _count(sf, "Lead", "IsConverted = false")
    assert set(leads[0]) == {"id", "company", "status"}


@pytest.mark.parametrize("kind", ["request_limit", "server_error", "unavailable", "drop",
                                  "truncate", "expired_session", "latency"])
def test_every_fault_class_is_survived_with_exact_counts(example, status, sf, s3, kind):
    # Fire on two pages in the middle of a 15-page extraction.
    _faults(example, status, [{"kind": kind, "path": "/query/", "after": 4, "times": 2,
                               "seconds": 0.5}])
    result = run_cli("dags", "test", "all_opportunities", project=example)
    _faults(example, status, [])
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in
               _body(s3, "test/all_opportunities.json").decode().splitlines()]
    assert len(records) == len({r["id"] for r in records}) == sf.query(
        "SELECT COUNT() FROM Opportunity")["totalSize"]


def test_bulk_api_extraction_matches_the_rest_extraction(example, s3):
    result = run_cli("dags", "test", "bulk_opportunities", project=example)
    assert result.returncode == 0, result.stderr[-3000:]

    def rows(name):
        body = _body(s3, f"test/opportunities_{name}.json").decode()
        return sorted((json.loads(line) for line in body.splitlines()), key=lambda r: r["id"])

    rest, bulk = rows("rest"), rows("bulk")
    assert rest and rest == bulk


def test_a_failed_run_leaves_no_object_at_the_key(example, status, s3):
    s3.delete_object(Bucket=BUCKET, Key="test/all_opportunities.json")
    _faults(example, status, [{"kind": "server_error", "path": "/query/", "after": 3,
                               "times": 1000}])
    result = run_cli("dags", "test", "all_opportunities", project=example)
    _faults(example, status, [])
    assert result.returncode == 1
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="test/all_opportunities.json")
    assert "Contents" not in listing
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=BUCKET)


def test_runs_are_dated_by_their_interval_not_the_wall_clock():
    assert datetime.fromisoformat(LOGICAL_DATE) < datetime.now(UTC)
