"""An example of users' own tests with mwaa-kit's pytest plugin (entry point pytest11):
the fixtures come from the plugin, nothing is imported from it here."""

import pytest

pytestmark = pytest.mark.e2e


def test_example_dags_import_without_errors(mwaa_dagbag):
    assert mwaa_dagbag.import_errors == {}
    assert {"salesforce_to_s3", "salesforce_full_and_custom"} <= set(mwaa_dagbag.dag_ids)


def test_monthly_batches_all_feed_the_check(mwaa_dagbag):
    dag = mwaa_dagbag.get_dag("salesforce_to_s3")
    check = dag.get_task("check_landed")
    batches = {task_id for task_id in dag.task_ids if task_id.startswith("opportunity_month")}
    assert len(batches) == 6 and batches == check.upstream_task_ids


def test_aws_emulator_serves_s3(aws_emulator):
    s3 = aws_emulator.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="a.json", Body=b"{}")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]] == ["a.json"]
    aws_emulator.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_salesforce_stub_answers_a_real_client(salesforce_stub, monkeypatch):
    import simple_salesforce  # noqa: PLC0415 — an example of users' tests: only this one needs it

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(salesforce_stub.ca_path))
    client = simple_salesforce.Salesforce(domain=salesforce_stub.domain,
                                          **salesforce_stub.credentials)
    result = client.query("SELECT Id, Name FROM Account")
    assert result["totalSize"] > 0
    assert {record["attributes"]["type"] for record in result["records"]} == {"Account"}
