"""The automatic runtime choice on a machine where podman answers and no registry does:
compose with the local base images scripts/setup-containers made, and native, with the
reason in one line, when a base image is missing (real podman, real network)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mwaa_kit.runtime.compose import images
from tests.e2e.conftest import run_cli, write_project

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HELLO = {"dags/hello.py": """
    from datetime import datetime
    try:
        from airflow.sdk import DAG
    except ImportError:
        from airflow import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    with DAG("hello", schedule=None, start_date=datetime(2024, 1, 1)):
        EmptyOperator(task_id="hi")
    """}


@pytest.fixture(scope="module", autouse=True)
def podman():
    subprocess.run([str(REPO / "scripts/setup-containers")], check=True, capture_output=True)


def _automatic_environment(**overrides) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key != "MWAA_KIT_RUNTIME" and key not in images.BASE_IMAGE_VARIABLES}
    return {**env, "COLUMNS": "200", **overrides}


def test_the_local_base_images_make_compose_the_choice():
    assert not images.registry_answers(), "this test is about a machine without a registry"
    chosen = subprocess.run(
        [sys.executable, "-c", "from mwaa_kit.runtime import select; "
         "print(select.choose(None, print))"],
        capture_output=True, text=True, check=True, env=_automatic_environment())
    assert chosen.stdout.strip() == "compose"


def test_a_missing_base_image_means_native_and_up_says_why(project_dir):
    project = write_project(project_dir, HELLO)
    up = subprocess.run([sys.executable, "-m", "mwaa_kit", "up"], cwd=project,
                        capture_output=True, text=True, timeout=1500,
                        env=_automatic_environment(AIRFLOW_BASE_IMAGE="mwaa-kit/absent:1"))
    assert up.returncode == 0, up.stderr[-3000:]
    assert "running natively" in up.stdout and "mwaa-kit/absent:1" in up.stdout
    assert (project / ".mwaa-kit" / "runtime").read_text() == "native"
    run_cli("dags", "test", "hello", project=project, check=True)
