"""Promotion against the in-process MWAA emulator and moto S3, without validate (fast)."""

from __future__ import annotations

import textwrap

import pytest

from mwaa_kit.project import load_project
from mwaa_kit.release.connect import Clients
from tests.unit.mwaa_emulator.conftest import (  # noqa: F401 - fixtures
    NETWORK,
    ROLE,
    backend,
    bucket,
    endpoint,
    mwaa,
    s3,
    s3_endpoint,
    settled,
)

ENVIRONMENT = "Promoted"
FILES = {
    "mwaa-kit.toml": f"""
        [environment]
        airflow_version = "3.0.6"
        [airflow_config]
        "core.default_task_retries" = "1"
        [targets.test]
        environment_name = "{ENVIRONMENT}"
        region = "us-east-1"
        """,
    "dags/first.py": "# first DAG\n",
    "dags/second.py": "# second DAG\n",
    "plugins/operators/__init__.py": "",
    "plugins/operators/thing.py": "VALUE = 1\n",
    "requirements/requirements.txt": "requests\n",
}


def write(root, files):
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    write(root, FILES)
    return load_project(root)


@pytest.fixture
def environment(mwaa, bucket):  # noqa: F811 - fixtures
    mwaa.create_environment(Name=ENVIRONMENT, ExecutionRoleArn=ROLE,
                            SourceBucketArn=f"arn:aws:s3:::{bucket}", DagS3Path="dags",
                            NetworkConfiguration=NETWORK, AirflowVersion="3.0.6")
    settled(mwaa, ENVIRONMENT)
    return ENVIRONMENT


@pytest.fixture
def clients(mwaa, s3):  # noqa: F811 - fixtures
    return Clients(mwaa=mwaa, s3=s3, identity="tester")

