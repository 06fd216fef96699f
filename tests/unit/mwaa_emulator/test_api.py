"""The MWAA API emulator through boto3's unmodified `mwaa` client (and the AWS CLI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, settled

# The AWS CLI the test extra installs beside this Python (not whatever is on PATH).
AWS_CLI = str(Path(sys.executable).with_name("aws"))


def _put(s3, bucket, key, body=b"x"):
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def _create(mwaa, bucket, name="Env1", **extra):
    return mwaa.create_environment(
        Name=name, ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::{bucket}",
        DagS3Path="dags", NetworkConfiguration=NETWORK, AirflowVersion="3.0.6", **extra)


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def test_create_get_list_and_the_states(mwaa, s3, bucket):
    plugins = _put(s3, bucket, "plugins.zip")
    requirements = _put(s3, bucket, "requirements.txt")
    arn = _create(mwaa, bucket, PluginsS3Path="plugins.zip", PluginsS3ObjectVersion=plugins,
                  RequirementsS3Path="requirements.txt",
                  RequirementsS3ObjectVersion=requirements, EnvironmentClass="mw1.medium",
                  Tags={"team": "data"})["Arn"]
    assert arn == "arn:aws:airflow:us-east-1:123456789012:environment/Env1"
    assert mwaa.get_environment(Name="Env1")["Environment"]["Status"] == "CREATING"
    environment = settled(mwaa, "Env1")
    assert environment["Status"] == "AVAILABLE"
    assert environment["AirflowVersion"] == "3.0.6"
    assert environment["SourceBucketArn"] == f"arn:aws:s3:::{bucket}"
    assert environment["PluginsS3ObjectVersion"] == plugins
    assert environment["RequirementsS3ObjectVersion"] == requirements
    assert environment["EnvironmentClass"] == "mw1.medium"
    assert environment["WebserverUrl"].startswith("https://")
    assert environment["CreatedAt"].year >= 2024  # a timestamp botocore parsed
    assert mwaa.list_environments()["Environments"] == ["Env1"]
    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "data"}


def test_validation_errors(mwaa, s3, bucket):
    s3.create_bucket(Bucket=f"{bucket}-plain")
    with pytest.raises(ClientError) as error:
        _create(mwaa, f"{bucket}-plain")
    assert _code(error) == "ValidationException"
    assert "versioning" in str(error.value)
    with pytest.raises(ClientError) as error:
        _create(mwaa, f"{bucket}-absent")
    assert _code(error) == "ValidationException"
    with pytest.raises(ClientError) as error:
        _create(mwaa, bucket, PluginsS3Path="plugins.zip", PluginsS3ObjectVersion="nope")
    assert _code(error) == "ValidationException"
    assert "does not exist" in str(error.value)
    with pytest.raises(ClientError) as error:
        mwaa.create_environment(
            Name="Env2", ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::{bucket}",
            DagS3Path="dags", NetworkConfiguration=NETWORK, AirflowVersion="1.10.12")
    assert "not supported" in str(error.value)
    with pytest.raises(ClientError) as error:
        _create(mwaa, bucket, EnvironmentClass="mw1.huge")
    assert "EnvironmentClass" in str(error.value)
    with pytest.raises(ClientError) as error:
        mwaa.get_environment(Name="Nowhere")
    assert _code(error) == "ResourceNotFoundException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert mwaa.list_environments()["Environments"] == []


def test_update_then_available_and_a_failed_update_keeps_the_old_versions(mwaa, s3, bucket):
    first = _put(s3, bucket, "requirements.txt", b"a\n")
    _create(mwaa, bucket, RequirementsS3Path="requirements.txt",
            RequirementsS3ObjectVersion=first)
    settled(mwaa, "Env1")
    second = _put(s3, bucket, "requirements.txt", b"b\n")
    mwaa.update_environment(Name="Env1", RequirementsS3ObjectVersion=second,
                            AirflowConfigurationOptions={"core.default_task_retries": "2"})
    with pytest.raises(ClientError) as error:  # MWAA refuses an update while updating
        mwaa.update_environment(Name="Env1", RequirementsS3ObjectVersion=first)
    assert _code(error) == "ValidationException"
    updating = mwaa.get_environment(Name="Env1")["Environment"]
    assert updating["Status"] == "UPDATING"
    assert updating["LastUpdate"]["Status"] == "PENDING"
    assert updating["RequirementsS3ObjectVersion"] == first  # not applied yet
    done = settled(mwaa, "Env1")
    assert done["Status"] == "AVAILABLE"
    assert done["LastUpdate"]["Status"] == "SUCCESS"
    assert done["RequirementsS3ObjectVersion"] == second
    assert done["AirflowConfigurationOptions"] == {"core.default_task_retries": "2"}

    mwaa.update_environment(Name="Env1", RequirementsS3ObjectVersion="missing-version")
    failed = settled(mwaa, "Env1")
    assert failed["Status"] == "UPDATE_FAILED"
    assert failed["LastUpdate"]["Status"] == "FAILED"
    assert "missing-version" in failed["LastUpdate"]["Error"]["ErrorMessage"]
    assert failed["RequirementsS3ObjectVersion"] == second  # MWAA rolled back
    mwaa.update_environment(Name="Env1", RequirementsS3ObjectVersion=first)  # allowed again
    assert settled(mwaa, "Env1")["Status"] == "AVAILABLE"


def test_state_survives_a_restart(mwaa, s3, bucket, backend):
    _create(mwaa, bucket)
    settled(mwaa, "Env1")
    again = MwaaBackend(backend.state_dir, s3)
    assert again.get_environment("us-east-1", "Env1")["Status"] == "AVAILABLE"


def test_delete_tags_tokens_and_rest_api(mwaa, s3, bucket):
    arn = _create(mwaa, bucket)["Arn"]
    settled(mwaa, "Env1")
    mwaa.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    mwaa.untag_resource(ResourceArn=arn, tagKeys=["a"])
    assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    cli = mwaa.create_cli_token(Name="Env1")
    assert cli["CliToken"] and cli["WebServerHostname"].endswith(".airflow.amazonaws.com")
    web = mwaa.create_web_login_token(Name="Env1")
    assert web["WebToken"] and web["WebServerHostname"] == cli["WebServerHostname"]
    with pytest.raises(ClientError) as error:
        mwaa.invoke_rest_api(Name="Env1", Path="/dags", Method="GET")
    assert _code(error) == "NotImplementedException"  # no Airflow behind this emulator
    with pytest.raises(ClientError) as error:
        mwaa.create_cli_token(Name="Other")
    assert _code(error) == "ResourceNotFoundException"
    mwaa.delete_environment(Name="Env1")
    assert mwaa.get_environment(Name="Env1")["Environment"]["Status"] == "DELETING"
    with pytest.raises(ClientError) as error:
        mwaa.get_environment(Name="Env1")
    assert _code(error) == "ResourceNotFoundException"


def test_list_environments_pages(mwaa, s3, bucket):
    for index in range(3):
        _create(mwaa, bucket, name=f"Env{index}")
    paginator = mwaa.get_paginator("list_environments")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 2}))
    assert [name for page in pages for name in page["Environments"]] == ["Env0", "Env1", "Env2"]
    assert len(pages) == 2


def test_the_aws_cli_works_unchanged(endpoint, s3, bucket, mwaa):
    _create(mwaa, bucket)
    settled(mwaa, "Env1")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_DISABLE_HOST_PREFIX_INJECTION": "true"}
    result = subprocess.run(
        [AWS_CLI, "mwaa", "get-environment", "--name", "Env1", "--endpoint-url", endpoint],
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Environment"]["Status"] == "AVAILABLE"
    missing = subprocess.run(
        [AWS_CLI, "mwaa", "get-environment", "--name", "Nope", "--endpoint-url", endpoint],
        capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_a_tag_sets_one_environments_update_delay(mwaa, s3, bucket, backend):
    arn = _create(mwaa, bucket, Tags={"mwaa-kit:update-delay": "30"})["Arn"]
    settled(mwaa, "Env1")
    mwaa.update_environment(Name="Env1", MaxWorkers=3)
    for _ in range(3):  # reads end the others' updates; this one's lasts 30 s
        assert mwaa.get_environment(Name="Env1")["Environment"]["Status"] == "UPDATING"
    assert arn.endswith("/Env1")
    assert backend.advance("us-east-1", "Env1") == "AVAILABLE"
    assert mwaa.get_environment(Name="Env1")["Environment"]["MaxWorkers"] == 3
