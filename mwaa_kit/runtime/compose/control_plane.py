"""The MWAA control plane over the compose stack.

The stack's `mwaa` service serves the MWAA API (runtime/mwaa_api.py, InvokeRestApi forwarded
to the webserver container) and the environment's HTTPS web origin (its CA copied to the
host by stack.py); its state lives in the stack's volume, out of the host's reach. So
`mwaa-kit up` publishes the project as the API's own clients would: the bundle in a
versioned source bucket of the stack's LocalStack, then CreateEnvironment through the
published MWAA API, which the stack runs with no create or delete delay (an environment
left by an earlier `up` is deleted first, so the environment is the project as it is now).
"""

from __future__ import annotations

import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.emulators.mwaa.models import TRANSITIONAL
from mwaa_kit.emulators.mwaa.server import s3_client
from mwaa_kit.runtime.mwaa_updates import publish_bundle, source_bucket_name


def publish(project, aws_endpoint: str, mwaa_endpoint: str) -> dict:
    """Make the project the stack's MWAA environment, AVAILABLE: returns it as GetEnvironment
    answers."""
    mwaa = _client(mwaa_endpoint, project.region)
    name = project.environment_name
    if _settled(mwaa, name) is not None:
        mwaa.delete_environment(Name=name)
        _settled(mwaa, name)
    body = publish_bundle(project, s3_client(aws_endpoint, project.region),
                          source_bucket_name(project))
    mwaa.create_environment(Name=name, **body)
    return _settled(mwaa, name)


def _client(endpoint: str, region: str):
    """boto3's own `mwaa` client of the stack's API (no host prefixes on a local host)."""
    return boto3.client("mwaa", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 3}))


def _settled(mwaa, name: str, timeout: float = 60) -> dict | None:
    """The environment once no change of it is pending (None once it is gone): the stack's
    API completes creations and deletions on its next tick, a fraction of a second."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            environment = mwaa.get_environment(Name=name)["Environment"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        if environment["Status"] not in TRANSITIONAL or time.monotonic() > deadline:
            return environment
        time.sleep(0.2)
