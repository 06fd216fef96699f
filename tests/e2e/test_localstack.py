"""The same contract with LocalStack, run natively, as the AWS emulator."""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import AIRFLOW_VERSION, run_cli, write_project

pytestmark = pytest.mark.e2e


def test_a_dag_reads_secrets_and_writes_s3_on_localstack(project_dir):
    write_project(project_dir, {
        "mwaa-kit.toml": f"""
            [environment]
            airflow_version = "{AIRFLOW_VERSION}"
            [aws]
            emulator = "localstack"
        """,
        "seed.toml": """
            [[buckets]]
            name = "lake"
            [variables]
            target_key = "landing/hello.txt"
        """,
        "dags/to_s3.py": """
            from datetime import datetime

            try:
                from airflow.sdk import Variable, dag, task
            except ImportError:
                from airflow.decorators import dag, task
                from airflow.models import Variable


            @dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
            def to_s3():
                @task
                def write():
                    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
                    S3Hook().load_string("hello", Variable.get("target_key"), "lake")

                write()


            to_s3()
        """,
    })
    run_cli("up", "--quiet", project=project_dir, check=True)
    status = json.loads(run_cli("status", "--format", "json", project=project_dir).stdout)
    assert "localstack" in Path(status["processes"]["aws"]["log"]).read_text()
    run_cli("dags", "test", "to_s3", project=project_dir, check=True)
    listing = json.loads(run_cli("aws", "ls", "s3://lake/landing/", "--format", "json",
                                 project=project_dir, check=True).stdout)
    assert [(item["key"], item["size"]) for item in listing] == [("landing/hello.txt", 5)]
