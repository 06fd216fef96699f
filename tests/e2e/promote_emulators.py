"""What the promotion e2e tests share (test_promote, test_ci_promotion): a moto server
process for S3 (and STS), the kit's MWAA API emulator process, and AVAILABLE environments
on versioned buckets there. Test modules import the fixtures by name."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config

from mwaa_kit.runtime import processes
from mwaa_kit.runtime.services import start_moto, start_mwaa_api
from tests.unit.mwaa_emulator.conftest import admin, settled

ROLE = "arn:aws:iam::123456789012:role/mwaa-execution"
NETWORK = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """moto server and the MWAA emulator, each its own process; the emulator's changes are
    counted: each shows its transitional state to one GetEnvironment, then is over."""
    logs = tmp_path_factory.mktemp("promote-emulators")
    moto = start_moto(logs / "moto.log", processes.free_port())
    s3_url = f"http://127.0.0.1:{moto.port}"
    mwaa = start_mwaa_api(logs / "mwaa.log", processes.free_port(), s3_url,
                          logs / "mwaa-state")
    mwaa_url = f"http://127.0.0.1:{mwaa.port}"
    assert admin(mwaa_url, "set-transition", {
        "transition": {"progression": "reads", "reads": 1}})[0] == 200
    yield {"s3_url": s3_url, "mwaa_url": mwaa_url}
    processes.stop(mwaa)
    processes.stop(moto)


@pytest.fixture
def aws(emulators):
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                   "region_name": "us-east-1"}
    return {
        "s3": boto3.client("s3", endpoint_url=emulators["s3_url"], **credentials),
        "mwaa": boto3.client("mwaa", endpoint_url=emulators["mwaa_url"],
                             config=Config(inject_host_prefix=False), **credentials),
    }


def new_environment(aws: dict, airflow_version: str) -> dict[str, str]:
    """A versioned bucket and an AVAILABLE environment of `airflow_version` on it: its name
    and its bucket."""
    name = f"Env{uuid.uuid4().hex[:8]}"
    bucket = f"mwaa-{name.lower()}"
    aws["s3"].create_bucket(Bucket=bucket)
    aws["s3"].put_bucket_versioning(Bucket=bucket,
                                    VersioningConfiguration={"Status": "Enabled"})
    aws["mwaa"].create_environment(
        Name=name, ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::{bucket}",
        DagS3Path="dags", NetworkConfiguration=NETWORK, AirflowVersion=airflow_version)
    settled(aws["mwaa"], name)
    return {"name": name, "bucket": bucket}
