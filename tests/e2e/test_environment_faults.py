"""Nothing lost, nothing left behind: the native environment of the example project under
kill -9 of each of its processes during a run of the example DAG, and a second project's
environment beside it (real Airflow, PostgreSQL, moto, the Salesforce stub)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import boto3
import pytest

from mwaa_kit.project import load_project
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.native import postgres
from mwaa_kit.runtime.native.environment import NativeEnvironment
from tests.e2e.conftest import (
    AIRFLOW_VERSION,
    copy_example,
    remove_project,
    run_cli,
    write_project,
)

pytestmark = pytest.mark.e2e

DAG_ID = "salesforce_to_s3"
BUCKET = "salesforceingestion-data"
# In the order a crash is met: Airflow's own processes, then the services under them.
COMPONENTS = ["scheduler", "dag-processor", "triggerer",
              "api-server" if AIRFLOW_VERSION.startswith("3") else "webserver",
              "postgres", "aws", "salesforce"]
AIRFLOW_PROCESSES = set(COMPONENTS[:4])
# Tasks a crash kills are retried: often enough for seven crashes, and soon.
RETRIES = {"core.default_task_retries": "4", "core.default_task_retry_delay": "5"}


QUICK_DAG = """
from datetime import datetime
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("quick", schedule="@hourly", start_date=datetime(2024, 1, 1), catchup=False):
    BashOperator(task_id="first", bash_command="sleep 2") >> BashOperator(
        task_id="second", bash_command="sleep 2")
"""


@pytest.fixture(scope="module")
def example():
    project = copy_example("faults", RETRIES)
    write_project(project, {"dags/quick.py": QUICK_DAG})
    run_cli("up", "--quiet", project=project, check=True)
    yield project
    remove_project(project)


def _state(project) -> dict:
    return json.loads((project / ".mwaa-kit/native/state.json").read_text())


def _pids(project) -> dict[str, int]:
    return {entry["name"]: entry["pid"] for entry in _state(project)["processes"]}


def _client(project, service: str):
    port = _state(project)["ports"]["aws"]
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}",
                        region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def _dag_runs(project) -> int:
    state = _state(project)
    psql = postgres.find_bin_dir() / "psql"
    result = subprocess.run(
        [str(psql), "-h", "127.0.0.1", "-p", str(state["ports"]["postgres"]), "-U",
         postgres.ROLE, "-d", postgres.database_name(state["airflow_version"]), "-tAc",
         "SELECT count(*) FROM dag_run"],
        capture_output=True, text=True, check=True,
        env={**os.environ, **postgres.client_env(project / ".mwaa-kit/native/postgres")})
    return int(result.stdout)


def _counts(project) -> dict[str, int]:
    """What a developer would miss: the data lake, the secrets, the run history, the org."""
    s3, secrets = _client(project, "s3"), _client(project, "secretsmanager")
    with sqlite3.connect(project / ".mwaa-kit/salesforce/data.sqlite") as org:
        records = sum(org.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                      for name in ("Account", "Opportunity", "Lead"))
    return {
        "s3 objects": s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0),
        "secrets": len(secrets.list_secrets()["SecretList"]),
        "dag runs": _dag_runs(project),
        "org records": records,
    }


def _wait_for(condition, what: str, timeout: float = 600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"gave up waiting for {what}")


def _run(project, run_id: str) -> dict:
    return NativeEnvironment(load_project(project)).run_states(DAG_ID, run_id)


def test_a_crash_of_each_process_loses_nothing_and_up_restarts_only_it(example):
    run_cli("dags", "test", DAG_ID, project=example, check=True)  # data to lose
    before = _counts(example)
    assert before["s3 objects"] == 6 and before["dag runs"] >= 1

    triggered = json.loads(run_cli("dags", "trigger", DAG_ID, "--format", "json",
                                   project=example, check=True).stdout)
    run_id = triggered["run_id"]
    # Under load a poll may come after a short task ended: a started task is enough.
    _wait_for(lambda: any(task["state"] in ("running", "success")
                          for task in _run(example, run_id)["tasks"]), "a started task")
    seen_groups = set(_pids(example).values())
    for component in COMPONENTS:
        pids = _pids(example)
        os.kill(pids[component], signal.SIGKILL)
        _wait_for(lambda component=component: not processes.is_alive(processes.ProcessRecord(
            **next(e for e in _state(example)["processes"] if e["name"] == component))),
            f"{component} to die", timeout=30)

        table = run_cli("status", project=example)
        as_json = run_cli("status", "--format", "json", project=example)
        assert table.returncode == 1 and as_json.returncode == 1, component
        stopped = {name for name, info in json.loads(as_json.stdout)["processes"].items()
                   if not info["alive"]}
        # Airflow's processes may give up on a database that went away; nothing else stops.
        assert component in stopped and (stopped == {component} or component == "postgres")
        assert f"{component} " in table.stdout and "stopped" in table.stdout

        result = run_cli("up", project=example)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Restarting what stopped: " in result.stderr and component in result.stderr
        after = _pids(example)
        restarted = {name for name in after if after[name] != pids.get(name)}
        # A new database means new Airflow processes (they held connections to the old).
        expected = stopped | (AIRFLOW_PROCESSES if component == "postgres" else set())
        assert component in restarted and restarted <= expected, restarted
        assert processes.group_members(pids[component]) == [], \
            f"the crashed {component}'s group lives on"
        seen_groups |= set(after.values())

    run = _wait_for(lambda: (lambda r: r if r["state"] in ("success", "failed") else None)(
        _run(example, run_id)), "the run to end")
    assert run["state"] == "success", run
    after = _counts(example)  # the unpaused DAG may add a scheduled run of its own
    assert after["s3 objects"] >= before["s3 objects"]
    assert after["dag runs"] >= before["dag runs"] + 1
    assert (after["secrets"], after["org records"]) == (before["secrets"],
                                                        before["org records"])

    ports = _state(example)["ports"]
    run_cli("down", project=example, check=True)
    assert {pgid: processes.group_members(pgid) for pgid in seen_groups
            if processes.group_members(pgid)} == {}
    assert [name for name, port in ports.items() if not processes.port_is_free(port)] == []


def test_dags_test_leaves_the_running_scheduler_out_of_its_run(example):
    run_cli("up", "--quiet", project=example, check=True)
    run_cli("dags", "trigger", "quick", "--wait", project=example, check=True)  # unpauses
    for _ in range(3):  # the scheduler used to take the test's tasks too: 409 on one side
        result = run_cli("dags", "test", "quick", "--format", "json", project=example)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout)["state"] == "success"
    assert NativeEnvironment(load_project(example)).run_states("quick")["paused"] is False


def test_the_account_survives_down_up_and_restart(example):
    run_cli("up", "--quiet", project=example, check=True)
    s3, secrets = _client(example, "s3"), _client(example, "secretsmanager")
    s3.put_object(Bucket=BUCKET, Key="kept/by-a-developer.json", Body=b"{}")
    secrets.create_secret(Name="airflow/variables/made_by_hand", SecretString="kept")
    for command in (["down"], ["up", "--quiet"], ["restart", "--quiet"]):
        run_cli(*command, project=example, check=True)
    s3, secrets = _client(example, "s3"), _client(example, "secretsmanager")
    assert s3.get_object(Bucket=BUCKET, Key="kept/by-a-developer.json")["Body"].read() == b"{}"
    assert secrets.get_secret_value(SecretId="airflow/variables/made_by_hand")[
        "SecretString"] == "kept"


def test_every_socket_of_the_environment_listens_on_the_loopback_only(example):
    run_cli("up", "--quiet", project=example, check=True)
    ours = {member for entry in _state(example)["processes"]
            for member in processes.group_members(entry["pid"])}
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
    sockets = [(line.split()[3], line) for line in listening
               if any(f"pid={pid}," in line for pid in ours)]
    assert sockets, "found none of the environment's sockets"
    assert [line for address, line in sockets if not address.startswith("127.0.0.1:")] == []


def test_a_second_project_started_at_the_same_time_runs_beside_the_first(example):
    run_cli("down", project=example, check=True)
    second = copy_example("beside")
    try:
        # Both `up`s at once: both would choose port 8080 but for the port reservations.
        ups = [subprocess.Popen([*_cli(), "up", "--quiet"], cwd=project, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "MWAA_KIT_RUNTIME": "native"})
               for project in (example, second)]
        for up in ups:
            assert up.wait(timeout=900) == 0, up.stderr.read()[-3000:]
        assert _state(second)["ports"]["ui"] != _state(example)["ports"]["ui"]
        for project in (example, second):
            status = run_cli("status", "--format", "json", project=project)
            assert status.returncode == 0, status.stdout
        for project in (example, second):
            run = run_cli("dags", "test", DAG_ID, "--format", "json", project=project)
            assert run.returncode == 0, run.stderr[-3000:]
            assert json.loads(run.stdout)["state"] == "success"
    finally:
        remove_project(second)


def test_a_second_up_while_one_runs_is_refused(example):
    run_cli("down", project=example, check=True)
    first = subprocess.Popen([*_cli(), "up", "--quiet"], cwd=example,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "MWAA_KIT_RUNTIME": "native"})
    try:
        _wait_for(lambda: "up (pid" in _lock_text(example), "the first up to hold the lock",
                  timeout=60)
        second = run_cli("up", project=example)
        assert second.returncode == 1
        assert f"`mwaa-kit up (pid {first.pid})` is running in this project" in second.stderr
    finally:
        assert first.wait(timeout=900) == 0, first.stderr.read()[-3000:]


def _cli() -> list[str]:
    return [sys.executable, "-m", "mwaa_kit"]


def _lock_text(project) -> str:
    lock = project / ".mwaa-kit" / "lifecycle.lock"
    return lock.read_text() if lock.exists() else ""
