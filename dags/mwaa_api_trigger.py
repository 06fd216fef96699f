"""Drive a DAG of an MWAA environment from another DAG, through MWAA's API.

`mwaa_api_trigger` triggers `mwaa_api_child` of its own environment twice with the Amazon
provider's MWAA operators, which call InvokeRestApi (boto3 `mwaa`):

* `trigger_and_wait`: MwaaTriggerDagRunOperator with wait_for_completion, which polls
  the run with the provider's waiter;
* `trigger`, then `wait_for_run`: the same operator without waiting, and MwaaDagRunSensor
  on the run it started.

Both fail when the child's run fails: trigger with conf `{"outcome": "fail"}` to see it.
Locally, mwaa-kit points boto3's `mwaa` client at its MWAA API, so this runs unchanged.
While the child runs, each waiting task holds a task slot: up to four at once.

The Amazon provider 9.0.0 of MWAA's Airflow 2.10.3 has no MWAA operators: there, this file
defines no DAG (rather than an import error).
"""

import os
from datetime import datetime

try:  # Airflow 3.x
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.decorators import task

try:
    from airflow.providers.amazon.aws.operators.mwaa import MwaaTriggerDagRunOperator
    from airflow.providers.amazon.aws.sensors.mwaa import MwaaDagRunSensor
except ImportError:  # amazon provider 9.0.0 (Airflow 2.10.3)
    MwaaTriggerDagRunOperator = MwaaDagRunSensor = None

CHILD = "mwaa_api_child"
# MWAA sets it in every Airflow process: the environment this DAG runs in.
ENVIRONMENT = os.environ.get("AIRFLOW_ENV_NAME", "")
# InvokeRestApi's Path holds 64 characters at most, and the waiter and the sensor GET
# /dags/<id>/dagRuns/<run id>: Airflow's own run ids (manual__<timestamp>) are too long.
RUN_ID = "triggered_{{ macros.uuid.uuid4().hex[:12] }}"
# Airflow 3's REST API requires a logical date, unique per DAG; any time will do.
LOGICAL_DATE = "{{ macros.datetime.now().astimezone().isoformat() }}"
COMMON = {
    "schedule": None,
    "start_date": datetime(2024, 1, 1),
    "catchup": False,
    "params": {"outcome": "success"},
    "tags": ["mwaa", "example"],
    # A failed child run is the answer, not a fault to retry (a retry would trigger anew).
    "default_args": {"retries": 0},
}


def _child_dag() -> DAG:
    """Succeeds, or fails when its conf says `"outcome": "fail"`."""
    # Unpaused from the start: a run triggered through the API must not wait for a click.
    with DAG(dag_id=CHILD, is_paused_upon_creation=False, **COMMON) as dag:
        @task
        def settle(params=None):
            if params["outcome"] == "fail":
                raise RuntimeError("Failing, as the run's conf asks (outcome=fail)")
            return params["outcome"]

        settle()
    return dag


def _trigger_dag() -> DAG:
    """Triggers the child with this run's `outcome`; succeeds only when the child does."""
    with DAG(dag_id="mwaa_api_trigger", doc_md=__doc__, **COMMON) as dag:
        triggered = {"env_name": ENVIRONMENT, "trigger_dag_id": CHILD, "trigger_run_id": RUN_ID,
                     "logical_date": LOGICAL_DATE, "conf": {"outcome": "{{ params.outcome }}"}}
        MwaaTriggerDagRunOperator(task_id="trigger_and_wait", wait_for_completion=True,
                                  waiter_delay=5, waiter_max_attempts=120, **triggered)
        started = MwaaTriggerDagRunOperator(task_id="trigger", **triggered)
        started >> MwaaDagRunSensor(
            task_id="wait_for_run",
            external_env_name=ENVIRONMENT,
            external_dag_id=CHILD,
            external_dag_run_id=(
                "{{ ti.xcom_pull(task_ids='trigger')['RestApiResponse']['dag_run_id'] }}"),
            poke_interval=5,
            timeout=600,
        )
    return dag


if MwaaTriggerDagRunOperator is not None:
    child_dag = _child_dag()
    trigger_dag = _trigger_dag()
