"""`--dags-from` in the compose stack, as Compose v2 itself resolves docker-compose.yml with
the variables `up` writes: the project's dags/ bound live by default; with `bucket`, the
dags-sync service and every Airflow container share the volume it mirrors the
environment bucket's DagS3Path into."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mwaa_kit.project import Project
from mwaa_kit.runtime.compose.stack import COMPOSE_FILE, ComposeEnvironment

DAGS = "/usr/local/airflow/dags"
ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.skipif(shutil.which("docker-compose") is None,
                                reason="needs Docker Compose v2 (docker-compose)")


def _resolved(tmp_path, dags_from: str, seed: str = "") -> dict:
    if seed:
        tmp_path.joinpath("seed.toml").write_text(seed)
    stack = ComposeEnvironment(Project(root=tmp_path, environment_name="Sales_Env"))
    stack.compose_dir.mkdir(parents=True)
    stack._write_env_file({"ui": 8080, "aws": 4566, "salesforce": 8443, "mwaa": 8000,
                           "web": 8555},
                          workers=1, dags_from=dags_from)
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE_FILE), "-p", "t",
                             "--env-file", str(stack.env_file), "config", "--format", "json"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["services"]


def _dags_mounts(services: dict) -> dict[str, tuple[str, str]]:
    return {name: (volume["type"], volume["source"]) for name, service in services.items()
            for volume in service.get("volumes", []) if volume["target"] == DAGS}


def test_by_default_the_project_s_dags_are_bound_live_and_nothing_syncs(tmp_path):
    services = _resolved(tmp_path, "project")
    assert "dags-sync" not in services
    mounts = _dags_mounts(services)
    assert {"scheduler", "webserver", "worker", "init", "mwaa"} <= set(mounts)
    assert set(mounts.values()) == {("bind", str(tmp_path / "dags"))}


def test_from_the_bucket_every_airflow_container_reads_what_dags_sync_mirrors(tmp_path):
    services = _resolved(tmp_path, "bucket")
    mounts = _dags_mounts(services)
    assert {"scheduler", "webserver", "worker", "dags-sync"} <= set(mounts)
    assert set(mounts.values()) == {("volume", "synced-dags")}
    sync = services["dags-sync"]
    assert sync["entrypoint"] == ["python3", "-m", "mwaa_kit.emulators.mwaa", "sync-dags"]
    arguments = dict(zip(sync["command"][::2], sync["command"][1::2], strict=True))
    assert arguments["--bucket"] == "sales-env-mwaa-source"  # the bucket `up` publishes
    assert arguments["--prefix"] == "dags"
    assert arguments["--destination"] == DAGS
    assert arguments["--s3-endpoint"] == "http://localstack:4566"


def test_the_sync_s_profile_adds_to_the_salesforce_stub_s(tmp_path):
    services = _resolved(tmp_path, "bucket", seed=(ROOT / "seed.toml").read_text())
    assert {"dags-sync", "salesforce"} <= set(services)
