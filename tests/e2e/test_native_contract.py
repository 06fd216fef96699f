"""The MWAA contract end to end: real Airflow in its virtualenv (MWAA's Python), a real
moto server over HTTP, a real PostgreSQL, driven through the `mwaa-kit` CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from mwaa_kit import catalog
from mwaa_kit.emulators.mwaa.server import airflow_connection_environment
from tests.e2e.conftest import AIRFLOW_VERSION, new_folder, remove_project, run_cli, write_project

pytestmark = pytest.mark.e2e

CONTRACT_PROJECT = {
    "mwaa-kit.toml": f"""
        [environment]
        name = "ContractCheck"
        airflow_version = "{AIRFLOW_VERSION}"
        [airflow_config]
        "core.default_task_retries" = "0"
    """,
    "seed.toml": """
        [[buckets]]
        name = "$environment_name-source"
        versioned = true
        [connections.warehouse]
        conn_type = "postgres"
        host = "warehouse.internal"
        login = "loader"
        password = "s3cret"
        port = 5439
        [variables]
        greeting_target = "world"
    """,
    "plugins/operators/__init__.py": "",
    "plugins/operators/greeting.py": """
        def greet(name):
            return f"hello {name} from plugins.zip"
    """,
    "requirements/requirements.txt": "humanize\n",
    "requirements/startup.sh": """
        export STARTUP_GREETING="hello-from-startup-on-$MWAA_AIRFLOW_COMPONENT"
    """,
    "dags/contract_checks.py": """
        import os
        from datetime import datetime

        from operators.greeting import greet

        try:
            from airflow.sdk import dag, task
        except ImportError:
            from airflow.decorators import dag, task


        EXPECTED_AWS_DEFAULT = "aws://"


        @dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
        def contract_checks():
            @task
            def plugin_import():
                assert greet("mwaa") == "hello mwaa from plugins.zip"

            @task
            def requirement_used():
                import humanize
                assert humanize.intcomma(1234567) == "1,234,567"

            @task
            def startup_variable():
                assert os.environ["STARTUP_GREETING"].startswith("hello-from-startup-on-")

            @task
            def mwaa_variables():
                version = os.environ["AIRFLOW_VERSION"]
                assert os.environ["AWS_EXECUTION_ENV"] == "Amazon_MWAA_" + version.replace(".", "")
                assert os.environ["AIRFLOW_CONN_AWS_DEFAULT"] == EXPECTED_AWS_DEFAULT
                assert os.environ["MWAA_AIRFLOW_COMPONENT"] in ("worker", "scheduler")

            @task
            def secrets_manager_connection_and_variable():
                try:
                    from airflow.sdk import BaseHook, Variable
                except ImportError:
                    from airflow.hooks.base import BaseHook
                    from airflow.models import Variable
                connection = BaseHook.get_connection("warehouse")
                assert (connection.host, connection.login, connection.port) == (
                    "warehouse.internal", "loader", 5439)
                assert connection.password == "s3cret"
                assert Variable.get("greeting_target") == "world"

            plugin_import() >> requirement_used() >> startup_variable() >> mwaa_variables()
            secrets_manager_connection_and_variable()


        contract_checks()
    """,
    "dags/always_fails.py": """
        from datetime import datetime

        try:
            from airflow.sdk import dag, task
        except ImportError:
            from airflow.decorators import dag, task


        @dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
        def always_fails():
            @task(retries=0)
            def boom():
                raise RuntimeError("this task fails on purpose")

            boom()


        always_fails()
    """,
}
# MWAA's aws_default, but on a version whose botocore predates AWS_DISABLE_HOST_PREFIX_INJECTION
# the local runtime gives it that setting as botocore config (emulators/mwaa/server.py).
_LOCAL_AWS_DEFAULT = airflow_connection_environment(catalog.get_version(AIRFLOW_VERSION))
if _LOCAL_AWS_DEFAULT:
    CONTRACT_PROJECT["dags/contract_checks.py"] = CONTRACT_PROJECT[
        "dags/contract_checks.py"].replace('"aws://"', repr(_LOCAL_AWS_DEFAULT[
            "AIRFLOW_CONN_AWS_DEFAULT"]))


@pytest.fixture(scope="module")
def running_project(tmp_path_factory):
    root = new_folder("contract")
    root.mkdir()
    write_project(root, CONTRACT_PROJECT)
    run_cli("up", "--quiet", project=root, check=True)
    yield root
    remove_project(root)


def _status(project):
    return json.loads(run_cli("status", "--format", "json", project=project, check=True).stdout)


def test_up_starts_every_component_and_the_ui_answers(running_project):
    status = _status(running_project)
    assert status["running"] and status["executor"] == "LocalExecutor"
    assert status["database"] == "postgresql"
    webserver = "api-server" if AIRFLOW_VERSION.startswith("3") else "webserver"
    assert {"postgres", "aws", "scheduler", "dag-processor", "triggerer", webserver} <= set(
        status["processes"])
    with urllib.request.urlopen(status["ui_url"], timeout=10) as response:
        assert response.status == 200


def test_dags_test_runs_every_contract_check(running_project):
    result = run_cli("dags", "test", "contract_checks", "--format", "json",
                     project=running_project)
    run = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr[-3000:]
    assert run["state"] == "success"
    assert {t["task_id"]: t["state"] for t in run["tasks"]} == {
        "plugin_import": "success", "requirement_used": "success",
        "startup_variable": "success", "mwaa_variables": "success",
        "secrets_manager_connection_and_variable": "success",
    }


def test_dags_test_exits_non_zero_when_the_run_fails(running_project):
    result = run_cli("dags", "test", "always_fails", "--format", "json",
                     project=running_project)
    assert result.returncode == 1
    run = json.loads(result.stdout)
    assert run["state"] == "failed" and run["tasks"][0]["state"] == "failed"


def test_trigger_runs_through_the_scheduler(running_project):
    result = run_cli("dags", "trigger", "contract_checks", "--wait", "--timeout", "600",
                     "--format", "json", project=running_project)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    run = json.loads(result.stdout)
    assert run["run_id"].startswith("mwaa_kit__")
    assert all(task["state"] == "success" for task in run["tasks"])


def test_a_new_dag_file_is_picked_up_by_the_running_scheduler(running_project):
    write_project(running_project, {
        "dags/added_later.py": CONTRACT_PROJECT["dags/always_fails.py"].replace(
            "always_fails", "added_later"),
    })
    env = json.loads((running_project / ".mwaa-kit/native/airflow-env.json").read_text())
    python = json.loads((running_project / ".mwaa-kit/native/state.json").read_text())[
        "virtualenv"] + "/venv/bin/python"
    probe = ("from airflow.models.dag import DagModel\n"
             "from airflow.utils.session import create_session\n"
             "with create_session() as s:\n"
             "    print(s.query(DagModel).filter(DagModel.dag_id == 'added_later').count())\n")
    seen = False
    for _ in range(20):
        out = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True)
        if out.stdout.strip().endswith("1"):
            seen = True
            break
        time.sleep(3)
    assert seen, "the scheduler never registered dags/added_later.py"


def test_airflow_runs_any_cli_command_in_the_environment(running_project):
    listed = run_cli("airflow", "dags", "list", "-o", "plain", project=running_project,
                     check=True).stdout
    assert "contract_checks" in listed
    # The variable the seed put in the emulated Secrets Manager, read through MWAA's
    # secrets backend as a task would read it.
    variable = run_cli("airflow", "variables", "get", "greeting_target",
                       project=running_project)
    assert variable.returncode == 0, variable.stdout + variable.stderr
    assert "world" in variable.stdout
    missing = run_cli("airflow", "variables", "get", "no_such_variable",
                      project=running_project)
    assert missing.returncode == 1 and "does not exist" in missing.stdout


def test_logs_lists_components_and_prints_one(running_project):
    listing = run_cli("logs", project=running_project, check=True).stdout
    assert {"scheduler", "dag-processor", "postgres", "aws"} <= {
        line.split()[0] for line in listing.splitlines()}
    tail = run_cli("logs", "scheduler", "-n", "5", project=running_project, check=True).stdout
    assert 0 < len(tail.splitlines()) <= 5
    unknown = run_cli("logs", "nope", project=running_project)
    assert unknown.returncode == 2 and "known:" in unknown.stderr


def test_second_up_is_harmless_and_a_restart_installs_nothing(running_project):
    before = _status(running_project)
    again = run_cli("up", project=running_project, check=True)
    assert "already up" in again.stderr
    assert _status(running_project)["processes"] == before["processes"]

    install_log = (running_project / ".mwaa-kit/airflow-home" / AIRFLOW_VERSION
                   / "logs/requirements-install.log")
    size = install_log.stat().st_size if install_log.exists() else 0
    run_cli("down", project=running_project, check=True)
    assert not _status(running_project)["running"]
    run_cli("up", "--quiet", project=running_project, check=True)
    assert _status(running_project)["running"]
    assert (install_log.stat().st_size if install_log.exists() else 0) == size


def test_up_recovers_after_a_crash(running_project):
    status = _status(running_project)
    os.killpg(status["processes"]["scheduler"]["pid"], signal.SIGKILL)
    time.sleep(1)
    dead = run_cli("status", "--format", "json", project=running_project)
    assert dead.returncode == 1 and not json.loads(dead.stdout)["running"]
    run_cli("up", "--quiet", project=running_project, check=True)
    assert _status(running_project)["running"]
