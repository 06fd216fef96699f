"""The DAGs test_compose_stack writes into its stack's project, and how it reads their tasks'
logs from the worker containers (kept apart so the test module stays within the project's
400 lines)."""

from __future__ import annotations

import json
import subprocess

SLOW_DAG = """
from datetime import datetime, timedelta
from operators.salesforce_to_s3_operator import SalesforceToS3Operator
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG

with DAG("slow_extract", schedule=None, start_date=datetime(2024, 1, 1),
         default_args={"retries": 2, "retry_delay": timedelta(seconds=5)}):
    SalesforceToS3Operator(
        task_id="extract", sf_conn_id="salesforce_connection", sf_obj="Opportunity",
        sf_fields=["Id", "Name"], fmt="ndjson", batch_size=200,
        s3_conn_id="aws_connection", s3_bucket="{{ var.value.bucket_name }}",
        s3_key="test/slow_extract.json")
"""
# Where a task may write on MWAA: its image runs Airflow as `airflow` (not root), which owns
# only its home, /usr/local/airflow; /tmp is writable, /usr/lib is not.
PATHS_DAG = """
import subprocess
from datetime import datetime
from pathlib import Path
try:
    from airflow.sdk import DAG, task
except ImportError:
    from airflow import DAG
    from airflow.decorators import task

def write(path):
    Path(path).write_text("written by a task")
    print(f"mwaa-paths: wrote {path}")

with DAG("mwaa_paths", schedule=None, start_date=datetime(2024, 1, 1),
         default_args={"retries": 0}):
    @task
    def whoami():
        uid = subprocess.run(["id", "-u"], capture_output=True, text=True, check=True).stdout
        print(f"mwaa-paths: uid={uid.strip()}")

    @task
    def write_tmp():
        write("/tmp/mwaa-paths-probe")

    @task
    def write_airflow_home():
        write("/usr/local/airflow/mwaa-paths-probe")

    @task
    def write_usr_lib():
        write("/usr/lib/mwaa-paths-probe")

    whoami()
    write_tmp()
    write_airflow_home()
    write_usr_lib()
"""


# A DAG for commands sent to /aws_mwaa/cli: its runs are nobody else's (the other DAGs'
# runs are counted and waited for by other tests).
CLI_PROBE_DAG = """
from datetime import datetime
try:
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:
    from airflow import DAG
    from airflow.operators.empty import EmptyOperator

with DAG("cli_probe", schedule=None, start_date=datetime(2024, 1, 1)):
    EmptyOperator(task_id="nothing")
"""


def task_log(run: dict, task: dict) -> str:
    """The log of `task`'s first attempt, from the worker container that ran it."""
    container = next(c["name"] for c in _all_containers() if task["hostname"]
                     and c["id"].startswith(task["hostname"][:12]))
    pattern = (f"/usr/local/airflow/logs/dag_id={run['dag_id']}/run_id={run['run_id']}/"
               f"task_id={task['task_id']}/attempt=1.log")
    return subprocess.run(["podman", "exec", container, "sh", "-c", f"cat {pattern}"],
                          capture_output=True, text=True, check=True).stdout


def _all_containers() -> list[dict]:
    output = subprocess.run(["podman", "ps", "--format", "json"], capture_output=True,
                            text=True, check=True).stdout
    return [{"id": c["Id"], "name": c["Names"][0]} for c in json.loads(output or "[]")]


def failed_task_logs(output: str) -> str:
    """The end of each failed task's log, from the worker containers that keep them."""
    try:
        run = json.loads(output)
    except ValueError:
        return ""
    workers = subprocess.run(["podman", "ps", "--filter", "label=com.docker.compose.service="
                              "worker", "--format", "{{.Names}}"], capture_output=True,
                             text=True).stdout.split()
    logs = []
    for task in run["tasks"]:
        if task["state"] != "failed":
            continue
        pattern = (f"/usr/local/airflow/logs/dag_id={run['dag_id']}/run_id={run['run_id']}/"
                   f"task_id={task['task_id']}/attempt=*.log")
        for worker in workers:
            logs.append(subprocess.run(["podman", "exec", worker, "sh", "-c",
                                        f"tail -n 40 {pattern} 2>/dev/null"],
                                       capture_output=True, text=True).stdout)
    return "\n".join(logs)
