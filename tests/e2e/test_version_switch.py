"""Switching a project's `airflow_version` in mwaa-kit.toml, down to 2.x and back, without
`down --purge`: each version runs on its own AIRFLOW_HOME and its own database, and finds
them again when the project switches back. Real Airflow, PostgreSQL and moto, via the CLI."""

from __future__ import annotations

import json
import subprocess

import pytest

from mwaa_kit import catalog
from tests.e2e.conftest import AIRFLOW_VERSION, run_cli, write_project

pytestmark = [
    pytest.mark.e2e,
    # It runs two fixed versions whatever the tox environment: once per suite is enough.
    pytest.mark.skipif(AIRFLOW_VERSION != catalog.DEFAULT_VERSION,
                       reason="runs in the default version's test environment only"),
]

NEWER = catalog.DEFAULT_VERSION
OLDER = "2.11.0"  # a 2.x: it cannot read a 3.x airflow.cfg or database
PROBE_DAG = """
    from datetime import datetime

    import airflow

    try:
        from airflow.sdk import dag, task
    except ImportError:
        from airflow.decorators import dag, task


    @dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
    def version_probe():
        # The task's name says which Airflow parsed the DAG.
        @task(task_id="ran_on_" + airflow.__version__.replace(".", "_"))
        def ran_on():
            return airflow.__version__

        ran_on()


    version_probe()
"""
COUNT_RUNS = """
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
with create_session() as session:
    print(session.query(DagRun).filter(DagRun.dag_id == "version_probe").count())
"""


def _switch_to(project, version: str) -> subprocess.CompletedProcess:
    write_project(project, {"mwaa-kit.toml": f"""
        [environment]
        name = "VersionSwitch"
        airflow_version = "{version}"
    """})
    return run_cli("up", project=project, check=True)


def _probe_runs_on(project, version: str) -> None:
    result = run_cli("dags", "test", "version_probe", "--format", "json", project=project)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    tasks = json.loads(result.stdout)["tasks"]
    assert [(t["task_id"], t["state"]) for t in tasks] == [
        ("ran_on_" + version.replace(".", "_"), "success")]


def _runs_in_database(project) -> int:
    """Runs of version_probe in the database of the running version."""
    native = project / ".mwaa-kit" / "native"
    state = json.loads((native / "state.json").read_text())
    env = json.loads((native / "airflow-env.json").read_text())
    result = subprocess.run([state["virtualenv"] + "/venv/bin/python", "-c", COUNT_RUNS],
                            env=env, capture_output=True, text=True, cwd=state["airflow_home"])
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.split()[-1])


def test_switching_airflow_version_down_and_back_needs_no_purge(project_dir):
    write_project(project_dir, {"dags/version_probe.py": PROBE_DAG})
    _switch_to(project_dir, NEWER)
    _probe_runs_on(project_dir, NEWER)
    password = (project_dir / ".mwaa-kit" / "admin-password.json").read_text()
    run_cli("down", project=project_dir, check=True)

    older = _switch_to(project_dir, OLDER)
    assert "Migrating the metadata database" in older.stderr  # a database of its own
    _probe_runs_on(project_dir, OLDER)
    assert _runs_in_database(project_dir) == 1
    run_cli("down", project=project_dir, check=True)

    back = _switch_to(project_dir, NEWER)
    # Its own database again, already migrated, with the first run still in it.
    assert "Migrating the metadata database" not in back.stderr
    _probe_runs_on(project_dir, NEWER)
    assert _runs_in_database(project_dir) == 2

    homes = project_dir / ".mwaa-kit" / "airflow-home"
    assert sorted(path.name for path in homes.iterdir()) == sorted([NEWER, OLDER])
    assert all((homes / version / "airflow.cfg").exists() for version in (NEWER, OLDER))
    # Shared by every version: the UI login stays the same.
    assert (project_dir / ".mwaa-kit" / "admin-password.json").read_text() == password
