"""`mwaa-kit promote / history / rollback` end to end over real parts: a moto server process
for S3, the kit's MWAA API emulator process, and the example project, driven through the
CLI as a release engineer would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from mwaa_kit.emulators.mwaa.server import HEALTH_PATH, client_environment
from mwaa_kit.project import load_project
from mwaa_kit.release.lock import LOCK_KEY
from mwaa_kit.runtime import processes
from tests.e2e.conftest import E2E_ROOT
from tests.e2e.promote_emulators import new_environment
from tests.unit.mwaa_emulator.conftest import admin, settled

# The AWS CLI the test extra installs beside this Python (not whatever is on PATH).
AWS_CLI = str(Path(sys.executable).with_name("aws"))

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BROKEN = REPO / "tests" / "fixtures" / "broken_projects"
EXAMPLE_VERSION = load_project(REPO).airflow_version  # the environment runs what it names


@pytest.fixture
def target(emulators, aws):
    """An AVAILABLE environment on a versioned bucket, and a copy of the example project
    whose `e2e` target names that environment."""
    environment = new_environment(aws, EXAMPLE_VERSION)
    name = environment["name"]
    E2E_ROOT.mkdir(parents=True, exist_ok=True)
    root = E2E_ROOT / f"promote-{name}"
    for folder in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    config = (REPO / "mwaa-kit.toml").read_text()
    (root / "mwaa-kit.toml").write_text(
        config + f'\n[targets.e2e]\nenvironment_name = "{name}"\nregion = "us-east-1"\n')
    yield {**environment, "root": root, **emulators, **aws}
    shutil.rmtree(root, ignore_errors=True)


def _cli(target, *arguments, check=None, background=False):
    env = {**os.environ, "AWS_ENDPOINT_URL": target["s3_url"], "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "COLUMNS": "200", **client_environment(target["mwaa_url"])}
    command = [sys.executable, "-m", "mwaa_kit", *arguments, "--target", "e2e",
               "--project", str(target["root"])]
    if background:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if check is not None:
        assert result.returncode == check, f"{result.stdout}\n{result.stderr}"
    return result


def _json(result) -> dict:
    return json.loads(result.stdout)




def _dag_keys(target) -> list[str]:
    listing = target["s3"].list_objects_v2(Bucket=target["bucket"], Prefix="dags/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_promote_no_op_dag_change_and_requirements_change(target):
    first = _json(_cli(target, "promote", "--format", "json", "--poll-interval", "0.2",
                       check=0))  # validate runs
    assert first["status"] == "AVAILABLE" and first["update_called"]
    assert _dag_keys(target) == ["dags/mwaa_api_trigger.py", "dags/salesforce_full_and_custom.py",
                                 "dags/salesforce_to_s3.py"]
    environment = target["mwaa"].get_environment(Name=target["name"])["Environment"]
    assert environment["PluginsS3ObjectVersion"] and environment["StartupScriptS3ObjectVersion"]

    again = _json(_cli(target, "promote", "--format", "json", check=0))
    assert again["status"] == "NOTHING_TO_DO"
    assert again["uploaded_bytes"] == 0 and not again["update_called"]

    dag = target["root"] / "dags" / "salesforce_to_s3.py"
    dag.write_text(dag.read_text() + "\n# a comment\n")
    changed = _json(_cli(target, "promote", "--format", "json", "--skip-validate", check=0))
    assert changed["status"] == "SYNCED" and not changed["update_called"]
    assert changed["uploaded_bytes"] == dag.stat().st_size
    assert [change["name"] for change in changed["plan"]["changes"]] == [
        "dags/salesforce_to_s3.py"]

    requirements = target["root"] / "requirements" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "six\n")
    table = _cli(target, "promote", "--skip-validate", "--poll-interval", "0.2", check=0)
    assert "requirements.txt" in table.stdout and "updated and AVAILABLE" in table.stdout
    after = target["mwaa"].get_environment(Name=target["name"])["Environment"]
    assert after["RequirementsS3ObjectVersion"] != environment["RequirementsS3ObjectVersion"]
    assert after["PluginsS3ObjectVersion"] == environment["PluginsS3ObjectVersion"]

    records = _json(_cli(target, "history", "--format", "json", check=0))
    assert [record["outcome"] for record in records] == ["AVAILABLE", "SYNCED", "AVAILABLE"]
    assert records[-1]["git"]["commit"] is None or len(records[-1]["git"]["commit"]) == 40
    assert "promote" in _cli(target, "history", check=0).stdout


def test_failed_update_is_reported_and_rollback_restores(target):
    good = _json(_cli(target, "promote", "--format", "json", "--skip-validate",
                      "--poll-interval", "0.2", check=0))
    requirements = target["root"] / "requirements" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "six\n")
    dag = target["root"] / "dags" / "salesforce_to_s3.py"
    original_dag = dag.read_bytes()
    dag.write_text(dag.read_text() + "\n# changed\n")
    previous = admin(target["mwaa_url"], "set-transition", {
        "kind": "update", "transition": {"progression": "explicit"}})[1]["previous"]
    try:
        running = _cli(target, "promote", "--skip-validate", "--poll-interval", "0.2",
                       background=True)
        for line in running.stderr:  # the promotion reports the update under way
            if "is UPDATING" in line:
                break
        else:
            raise AssertionError(running.communicate())
        # While MWAA updates, the new requirements version disappears: MWAA cannot fetch it.
        versions = target["s3"].list_object_versions(Bucket=target["bucket"],
                                                     Prefix="requirements.txt")["Versions"]
        newest = next(item["VersionId"] for item in versions if item["IsLatest"])
        target["s3"].delete_object(Bucket=target["bucket"], Key="requirements.txt",
                                   VersionId=newest)
        assert admin(target["mwaa_url"], "advance", {"name": target["name"]}) == (
            200, {"Name": target["name"], "Status": "UPDATE_FAILED"})
    finally:
        admin(target["mwaa_url"], "set-transition", {
            "kind": "update", "transition": previous["update"]})
    stdout, stderr = running.communicate(timeout=120)
    assert running.returncode == 1, stdout + stderr
    assert "UPDATE_FAILED" in stderr and "does not exist" in stderr
    failed = target["mwaa"].get_environment(Name=target["name"])["Environment"]
    assert failed["Status"] == "UPDATE_FAILED"
    assert failed["RequirementsS3ObjectVersion"] == good["record"]["bundle"][
        "RequirementsS3ObjectVersion"]

    refused = _cli(target, "promote", "--skip-validate", check=1)
    assert "UPDATE_FAILED, not AVAILABLE" in refused.stderr

    restored = _json(_cli(target, "rollback", "--format", "json", "--poll-interval", "0.2",
                          check=0))
    assert restored["status"] == "AVAILABLE"
    assert restored["record"]["rolled_back_to"] == good["record"]["id"]
    body = target["s3"].get_object(Bucket=target["bucket"], Key="dags/salesforce_to_s3.py")
    assert body["Body"].read() == original_dag
    assert settled(target["mwaa"], target["name"])["Status"] == "AVAILABLE"


def test_concurrent_promotion_is_refused(target):
    target["s3"].put_object(Bucket=target["bucket"], Key=LOCK_KEY, Body=json.dumps(
        {"user": "release-bot", "host": "ci", "action": "promote", "since": "now"}).encode())
    result = _cli(target, "promote", "--skip-validate", check=1)
    assert "holds the lock" in result.stderr and "release-bot" in result.stderr
    as_json = _json(_cli(target, "promote", "--skip-validate", "--format", "json", check=1))
    assert as_json["error"]["type"] == "LockHeldError"
    assert "release-bot" in as_json["error"]["message"]
    assert _dag_keys(target) == []


def test_a_broken_dag_is_refused_before_any_upload(target):
    shutil.copy(BROKEN / "dags_syntax_error" / "dags" / "typo.py",
                target["root"] / "dags" / "typo.py")
    result = _cli(target, "promote", check=1)
    assert "validate found errors" in result.stderr and "typo.py" in result.stderr
    assert _dag_keys(target) == []
    assert target["s3"].list_objects_v2(Bucket=target["bucket"]).get("KeyCount", 0) == 0


def test_an_environment_not_available_is_refused(target):
    arn = target["mwaa"].get_environment(Name=target["name"])["Environment"]["Arn"]
    target["mwaa"].tag_resource(ResourceArn=arn, Tags={"mwaa-kit:update-delay": "60"})
    target["mwaa"].update_environment(Name=target["name"], MaxWorkers=4)
    result = _cli(target, "promote", "--skip-validate", check=1)
    assert "UPDATING, not AVAILABLE" in result.stderr
    assert _dag_keys(target) == []


def test_the_aws_cli_reads_the_emulated_environment(target):
    env = {**os.environ, **client_environment(target["mwaa_url"])}
    result = subprocess.run([AWS_CLI, "mwaa", "get-environment", "--name", target["name"]],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Environment"]["Status"] == "AVAILABLE"


def test_mwaa_serve_creates_the_projects_environment(emulators, aws, tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    (root / "mwaa-kit.toml").write_text('[environment]\nname = "LocalServe"\n'
                                        'airflow_version = "3.0.6"\n')
    port = processes.free_port()
    record = processes.start(
        "mwaa-serve", [sys.executable, "-m", "mwaa_kit", "mwaa", "serve", "--project",
                       str(root), "--port", str(port), "--s3-endpoint", emulators["s3_url"],
                       "--environment-bucket", "local-serve-source"],
        env={**os.environ}, log=tmp_path / "serve.log")
    try:
        processes.wait_for_http(f"http://127.0.0.1:{port}{HEALTH_PATH}", 60, record)
        mwaa = boto3.client("mwaa", endpoint_url=f"http://127.0.0.1:{port}",
                            config=Config(inject_host_prefix=False), region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        environment = mwaa.get_environment(Name="LocalServe")["Environment"]
        assert environment["Status"] == "AVAILABLE"
        assert environment["SourceBucketArn"] == "arn:aws:s3:::local-serve-source"
        versioning = aws["s3"].get_bucket_versioning(Bucket="local-serve-source")
        assert versioning["Status"] == "Enabled"
    finally:
        processes.stop(record)
    assert "AWS_DISABLE_HOST_PREFIX_INJECTION=true" in (tmp_path / "serve.log").read_text()
