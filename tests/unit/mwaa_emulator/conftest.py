"""An in-process moto S3 server and MWAA emulator, reached with unmodified boto3 clients.

The emulator's transitions are counted: a create, update or delete shows its transitional
state (CREATING, UPDATING, DELETING) to one GetEnvironment and is over at the next request,
so no test waits on a clock."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.server import make_server, s3_client
from mwaa_kit.emulators.mwaa.transitions import Transition
from mwaa_kit.emulators.mwaa.urls import ADMIN_PATH
from mwaa_kit.runtime.processes import free_port
from tests.unit.mwaa_emulator.fake_airflow import VERSIONS, FakeAirflow

ROLE = "arn:aws:iam::123456789012:role/mwaa-execution"
NETWORK = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}


@pytest.fixture(scope="session")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint):
    return s3_client(s3_endpoint)


@pytest.fixture
def backend(tmp_path, s3):
    backend = MwaaBackend(tmp_path / "state", s3)
    backend.transitions.set_transition(Transition("reads", reads=1))
    return backend


def settled(mwaa, name: str) -> dict:
    """The environment once its change is over: under counted transitions, the second read
    at the latest (no sleeping)."""
    for _ in range(2):
        environment = mwaa.get_environment(Name=name)["Environment"]
        if environment["Status"] not in ("CREATING", "UPDATING", "DELETING"):
            return environment
    raise AssertionError(f"{name} stayed {environment['Status']}")


@pytest.fixture
def endpoint(backend):
    server = make_server(free_port(), backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def mwaa(endpoint, monkeypatch):
    """boto3's own `mwaa` client; only the host prefix is turned off, as for any local
    endpoint (AWS_DISABLE_HOST_PREFIX_INJECTION, a standard botocore setting)."""
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    return boto3.client("mwaa", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def bucket(s3):
    name = f"mwaa-source-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def admin(endpoint: str, action: str, body: dict) -> tuple[int, dict]:
    """POST `body` to the emulator's state-manager endpoint `action` (set-transition,
    advance): the status and the JSON answer."""
    request = urllib.request.Request(f"{endpoint}{ADMIN_PATH}/{action}", method="POST",
                                     data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(params=sorted(VERSIONS), ids=lambda major: f"airflow{major}")
def airflow(request):
    """A running FakeAirflow of each major in turn."""
    server = FakeAirflow(request.param)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()
