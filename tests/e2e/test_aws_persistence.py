"""The native AWS emulator keeps the emulated account across a stop and a crash: S3 objects
with their version ids, secrets, SSM parameters (with tags) and SQS queues (a real moto
server process, stopped with SIGTERM and killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import time

import boto3
import pytest

from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.emulators.aws.persistent_moto import SAVE_INTERVAL
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.services import start_moto

pytestmark = pytest.mark.e2e


class Emulator:
    def __init__(self, folder):
        self.port = processes.free_port()
        self.folder = folder
        self.state = folder / "aws" / "moto-state.pickle"
        self.record = None

    def start(self):
        self.record = start_moto(self.folder / "aws.log", self.port, state=self.state)

    def client(self, service: str):
        return boto3.client(
            service, endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def wait_for_save(self):
        deadline = time.monotonic() + 10
        while not self.state.exists():
            assert time.monotonic() < deadline, "the emulator never saved its state"
            time.sleep(0.1)


@pytest.fixture
def emulator(tmp_path):
    running = Emulator(tmp_path)
    yield running
    if running.record:
        processes.stop(running.record)


def test_the_account_survives_a_crash_and_a_stop(emulator):
    emulator.start()
    s3, secrets = emulator.client("s3"), emulator.client("secretsmanager")
    ssm, sqs = emulator.client("ssm"), emulator.client("sqs")
    s3.create_bucket(Bucket="lake-data")
    s3.put_bucket_versioning(Bucket="lake-data", VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket="lake-data", Key="k.json", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket="lake-data", Key="k.json", Body=b"two")["VersionId"]
    secrets.create_secret(Name="airflow/connections/db", SecretString="pw-7d1")
    ssm.put_parameter(Name="/lake/prefix", Value="raw", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/lake/prefix",
                             Tags=[{"Key": "team", "Value": "data"}])
    sqs.create_queue(QueueName="work")
    time.sleep(2 * SAVE_INTERVAL)  # the emulator's promise: changes saved within this
    emulator.wait_for_save()

    os.kill(emulator.record.pid, signal.SIGKILL)  # a crash: only what was saved is left
    emulator.start()
    s3.create_bucket(Bucket="lake-data")  # as every `up` seeds again: kept, not replaced
    versions = s3.list_object_versions(Bucket="lake-data")["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([first, second])
    assert s3.get_object(Bucket="lake-data", Key="k.json",
                         VersionId=first)["Body"].read() == b"one"
    assert secrets.get_secret_value(SecretId="airflow/connections/db")["SecretString"] == \
        "pw-7d1"
    assert ssm.get_parameter(Name="/lake/prefix")["Parameter"]["Value"] == "raw"
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/lake/prefix")[
        "TagList"] == [{"Key": "team", "Value": "data"}]
    assert [url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]] == ["work"]

    s3.put_object(Bucket="lake-data", Key="written-last.json", Body=b"{}")
    processes.stop(emulator.record)  # SIGTERM: saved at once, not after the interval
    emulator.start()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake-data")["Contents"]]
    assert keys == ["k.json", "written-last.json"]
