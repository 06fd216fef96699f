"""The local environment as an MWAA environment: `mwaa-kit up --dags-from bucket` serves the
MWAA API over the running local Airflow, and promotions reach that Airflow as they reach
MWAA — DAGs through the bucket sync, requirements/startup/plugins through UpdateEnvironment,
which restarts the components on the new bundle, or keeps the old one when it fails —,
InvokeRestApi reaches that Airflow's REST API, and Airflow's own tasks reach the MWAA API;
its web server origin (HTTPS, the kit's CA) logs in the Amazon provider's MwaaHook with a
web token, and a real headless Chromium through the web-login URL.
Real parts throughout: PostgreSQL, moto, the MWAA emulator process, Airflow, the CLI,
Debian's Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

from mwaa_kit.emulators.mwaa.server import client_environment
from mwaa_kit.emulators.mwaa.urls import ADMIN_PATH
from tests.e2e.chromium import chromium, log_in_with_web_token
from tests.e2e.conftest import E2E_ROOT, run_cli
from tests.e2e.local_mwaa_probes import HOOK_SCRIPT, PROBE_DAG, REST_PROBE_DAG
from tests.e2e.mwaa_data_plane import (
    AWS_CLI,
    airflow_cli,
    child_runs,
    finished,
    poll_rest,
    run_the_trigger_with_a_failing_child,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENT = "SalesforceIngestion"  # the example project's environment_name


@pytest.fixture(scope="module")
def local():
    """The example project, up natively with DAGs from its environment's bucket."""
    E2E_ROOT.mkdir(parents=True, exist_ok=True)
    E2E_ROOT.chmod(0o755)
    root = E2E_ROOT / f"local-mwaa-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    for name in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("mwaa-kit.toml", "seed.toml"):
        shutil.copy(REPO / name, root / name)
    (root / "dags" / "rest_probe.py").write_text(REST_PROBE_DAG)
    run_cli("up", "--dags-from", "bucket", "--quiet", project=root, check=True)
    state = json.loads((root / ".mwaa-kit" / "native" / "state.json").read_text())
    yield {"root": root, "mwaa_url": state["mwaa_url"], "ui_url": state["ui_url"],
           "web_url": state["web_url"], "virtualenv": state["virtualenv"],
           "airflow_home": state["airflow_home"],
           "mwaa": boto3.client("mwaa", endpoint_url=state["mwaa_url"], region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing",
                                config=Config(inject_host_prefix=False))}
    run_cli("down", project=root)
    shutil.rmtree(root, ignore_errors=True)


def _promote(local, *arguments: str, check: int) -> dict:
    result = run_cli(*arguments, "--target", "local", "--format", "json", "--poll-interval",
                     "0.5", project=local["root"])
    assert result.returncode == check, f"{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


def _environment(local) -> dict:
    return local["mwaa"].get_environment(Name=ENVIRONMENT)["Environment"]


def _running(local) -> bool:
    status = run_cli("status", "--format", "json", project=local["root"])
    return json.loads(status.stdout)["running"]


def _wait_for_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was never synced from the bucket"
        time.sleep(0.5)


def test_boto3_and_the_aws_cli_see_the_local_environment(local):
    assert ENVIRONMENT in local["mwaa"].list_environments()["Environments"]
    env = {**os.environ, **client_environment(local["mwaa_url"])}
    result = subprocess.run([AWS_CLI, "mwaa", "get-environment", "--name", ENVIRONMENT],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    environment = json.loads(result.stdout)["Environment"]
    assert environment["Status"] == "AVAILABLE"
    assert environment["WebserverUrl"] == local["web_url"]  # the one HTTPS origin
    assert environment["RequirementsS3ObjectVersion"]


def _rest(local, path: str, method: str = "GET", **members) -> dict:
    return local["mwaa"].invoke_rest_api(Name=ENVIRONMENT, Path=path, Method=method, **members)


def _poll(local, path: str, done, timeout: float) -> dict:
    return poll_rest(local["mwaa"], ENVIRONMENT, path, done, timeout)


def test_invoke_rest_api_lists_triggers_and_refuses_as_mwaa(local):
    expected = {"salesforce_full_and_custom", "salesforce_to_s3", "rest_probe"}
    _poll(local, "/dags", lambda answer: expected <= {dag["dag_id"] for dag in answer["dags"]},
          240)

    unpaused = _rest(local, "/dags/rest_probe", "PATCH", Body={"is_paused": False})
    assert unpaused["RestApiResponse"]["is_paused"] is False
    run_id = f"rest-api-{uuid.uuid4().hex[:8]}"  # MWAA's Path holds 64 characters at most
    started = _rest(local, "/dags/rest_probe/dagRuns", "POST",
                    Body={"dag_run_id": run_id,
                          "logical_date": datetime.now(UTC).isoformat()})
    assert started["RestApiStatusCode"] == 200
    assert started["RestApiResponse"]["dag_run_id"] == run_id
    assert _poll(local, f"/dags/rest_probe/dagRuns/{run_id}",
                 finished, 300)["state"] == "success"

    with pytest.raises(local["mwaa"].exceptions.RestApiClientException) as unknown:
        _rest(local, "/dags/no_such_dag/dagRuns", "POST",
              Body={"logical_date": datetime.now(UTC).isoformat()})
    assert unknown.value.response["RestApiStatusCode"] == 404
    assert "no_such_dag" in json.dumps(unknown.value.response["RestApiResponse"])


def _tls_dir(local) -> Path:
    return Path(local["root"]) / ".mwaa-kit" / "mwaa" / "tls"


def test_status_says_where_the_origin_and_its_ca_are(local):
    status = json.loads(run_cli("status", "--format", "json", project=local["root"]).stdout)
    assert status["endpoints"]["web"] == local["web_url"]
    assert status["web_ca_file"] == str(_tls_dir(local) / "ca.pem")
    text = run_cli("status", project=local["root"]).stdout
    assert local["web_url"] in text and "--cacert" in text


def test_the_providers_mwaa_hook_logs_in_with_a_web_token(local):
    _poll(local, "/dags", lambda answer: any(dag["dag_id"] == "rest_probe"
                                              for dag in answer["dags"]), 240)
    env = {**os.environ, **client_environment(local["mwaa_url"]),
           # the bundle the environment's own processes are given: system CAs and the kit's
           "REQUESTS_CA_BUNDLE": str(Path(local["root"]) / ".mwaa-kit/native/ca-bundle.pem"),
           "AIRFLOW_HOME": local["airflow_home"]}
    python = str(Path(local["virtualenv"]) / "venv" / "bin" / "python")
    result = subprocess.run([python, "-c", HOOK_SCRIPT, ENVIRONMENT], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["RestApiStatusCode"] == 200
    assert "rest_probe" in {dag["dag_id"] for dag in answer["RestApiResponse"]["dags"]}


@pytest.fixture
def browser(local):
    driver = chromium((_tls_dir(local) / "server.pem").read_bytes())
    yield driver
    driver.quit()


def test_the_web_login_url_opens_the_ui_logged_in(local, browser):
    token = local["mwaa"].create_web_login_token(Name=ENVIRONMENT)
    landed = log_in_with_web_token(browser, token, "rest_probe")
    assert landed.startswith(f"https://{token['WebServerHostname']}") and "login" not in landed


def test_an_expired_web_token_is_refused(local):
    token = local["mwaa"].create_web_login_token(Name=ENVIRONMENT)
    login = f"https://{token['WebServerHostname']}/pluginsv2/aws_mwaa/login"
    requests.post(f"{local['mwaa_url']}{ADMIN_PATH}/advance-token-clock",
                  json={"seconds": 61}, timeout=30).raise_for_status()
    refused = requests.post(login, data={"token": token["WebToken"]}, timeout=30,
                            verify=str(_tls_dir(local) / "ca.pem"))
    assert refused.status_code == 403
    assert "expired" in refused.json()["message"]
    assert "_token" not in refused.cookies


def test_a_dag_triggers_and_waits_for_another_through_the_provider_s_mwaa_operators(local):
    """The example's mwaa_api_trigger, unchanged: the Amazon provider's
    MwaaTriggerDagRunOperator (waiting) and MwaaDagRunSensor, in Airflow's own tasks, reach
    the local MWAA API, which runs mwaa_api_child in the same Airflow. Its two waiting
    tasks and the child's two runs fit mw1.small's five task slots."""
    expected = {"mwaa_api_trigger", "mwaa_api_child"}
    _poll(local, "/dags", lambda answer: expected <= {dag["dag_id"] for dag in answer["dags"]},
          240)

    run = run_cli("dags", "trigger", "mwaa_api_trigger", "--wait", "--timeout", "600",
                  "--format", "json", project=local["root"])
    assert run.returncode == 0, run.stdout + run.stderr
    tasks = {task["task_id"]: task["state"] for task in json.loads(run.stdout)["tasks"]}
    assert tasks == dict.fromkeys(("trigger_and_wait", "trigger", "wait_for_run"), "success")
    assert child_runs(local["mwaa"], ENVIRONMENT, "success") == ["success", "success"]

    final, states = run_the_trigger_with_a_failing_child(local["mwaa"], ENVIRONMENT)
    assert final == "failed"
    assert states == {"trigger_and_wait": "failed", "trigger": "success",
                      "wait_for_run": "failed"}
    assert child_runs(local["mwaa"], ENVIRONMENT, "fail") == ["failed", "failed"]


def test_a_promoted_dag_and_requirement_reach_the_local_airflow(local):
    root = local["root"]
    synced = root / ".mwaa-kit" / "mwaa" / "dags" / "promoted_probe.py"
    (root / "dags" / "promoted_probe.py").write_text(PROBE_DAG)
    assert not synced.exists()  # the project's dags/ is not the DAG folder: the bucket is
    requirements = root / "requirements" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "humanize\n")
    before = _environment(local)

    outcome = _promote(local, "promote", check=0)
    assert outcome["status"] == "AVAILABLE" and outcome["update_called"]
    after = _environment(local)
    assert after["RequirementsS3ObjectVersion"] != before["RequirementsS3ObjectVersion"]
    assert after["PluginsS3ObjectVersion"] == before["PluginsS3ObjectVersion"]

    _wait_for_file(synced)
    run = run_cli("dags", "trigger", "promoted_probe", "--wait", "--timeout", "600",
                  project=root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "success" in run.stdout

    again = _promote(local, "promote", "--skip-validate", check=0)
    assert again["status"] == "NOTHING_TO_DO" and not again["update_called"]
    assert again["uploaded_bytes"] == 0


def test_a_failed_update_keeps_the_running_versions_and_rollback_restores(local):
    root = local["root"]
    good = _environment(local)
    startup = root / "requirements" / "startup.sh"
    original = startup.read_text()
    startup.write_text(original + 'echo "cannot reach the vault" >&2\nexit 3\n')

    failed = _promote(local, "promote", "--skip-validate", check=1)
    assert failed["status"] == "UPDATE_FAILED"
    environment = _environment(local)
    assert environment["Status"] == "UPDATE_FAILED"
    assert "cannot reach the vault" in environment["LastUpdate"]["Error"]["ErrorMessage"]
    assert environment["StartupScriptS3ObjectVersion"] == good["StartupScriptS3ObjectVersion"]
    assert _running(local)  # MWAA keeps the previous versions running, and so does the kit
    state = json.loads((root / ".mwaa-kit" / "native" / "state.json").read_text())
    home_script = Path(state["airflow_home"]) / "startup" / "startup.sh"
    assert home_script.read_text() == original
    startup.write_text(original)  # mended in the project; rollback re-applies the last good

    restored = _promote(local, "rollback", check=0)
    assert restored["status"] == "AVAILABLE"
    assert _environment(local)["Status"] == "AVAILABLE"
    assert _running(local)
    run = run_cli("dags", "trigger", "salesforce_full_and_custom", "--wait", "--timeout", "600",
                  project=root)
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_promotion_killed_mid_upload_leaves_the_running_versions(local):
    root = local["root"]
    before = _environment(local)
    for number in range(40):  # enough uploads to be killed among them
        (root / "dags" / f"generated_{number:02d}.py").write_text(f"# generated {number}\n")
    requirements = root / "requirements" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "six\n")
    promotion = subprocess.Popen(
        [sys.executable, "-m", "mwaa_kit", "promote", "--target", "local", "--skip-validate",
         "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={"MWAA_KIT_RUNTIME": "native", **os.environ, "COLUMNS": "200"})
    for line in promotion.stdout:
        if "Uploading dags/generated_" in line:
            promotion.kill()  # SIGKILL: no clean-up of any kind
            break
    promotion.wait(timeout=60)
    assert promotion.returncode == -9, "the promotion ended before it could be killed"

    after = _environment(local)
    assert after["Status"] == "AVAILABLE"
    for member in ("PluginsS3ObjectVersion", "RequirementsS3ObjectVersion",
                   "StartupScriptS3ObjectVersion"):
        assert after[member] == before[member]
    assert _running(local)
    held = run_cli("promote", "--target", "local", "--skip-validate", project=root)
    assert held.returncode == 1 and "holds the lock" in held.stderr
    finished = _promote(local, "promote", "--skip-validate", "--break-lock", check=0)
    assert finished["status"] == "AVAILABLE" and finished["update_called"]


def _airflow_cli(local, command: str, token: dict | None = None) -> tuple[int, str, str]:
    return airflow_cli(local["mwaa_url"], _tls_dir(local) / "ca.pem", ENVIRONMENT, command,
                       token)


def test_the_airflow_cli_endpoint_runs_what_mwaa_runs_and_refuses_the_rest(local):
    _poll(local, "/dags", lambda answer: "rest_probe" in str(answer["dags"]), 240)
    status, stdout, stderr = _airflow_cli(local, "dags list -o json")
    assert status == 200, stderr  # Airflow logs its warnings to stdout, before the list
    assert "rest_probe" in {dag["dag_id"] for dag in json.loads(stdout.splitlines()[-1])}
    assert _airflow_cli(local, "dags unpause rest_probe")[0] == 200
    run_id = f"cli-{uuid.uuid4().hex[:8]}"
    status, stdout, stderr = _airflow_cli(local, f"dags trigger rest_probe -r {run_id}")
    assert status == 200 and run_id in stdout, stderr
    assert _poll(local, f"/dags/rest_probe/dagRuns/{run_id}",
                 finished, 300)["state"] == "success"
    status, stdout, stderr = _airflow_cli(local, "db reset -y")
    assert (status, stdout) == (500, "") and "not a supported Airflow CLI command" in stderr
    token = local["mwaa"].create_cli_token(Name=ENVIRONMENT)
    requests.post(f"{local['mwaa_url']}{ADMIN_PATH}/advance-token-clock",
                  json={"seconds": 61}, timeout=30).raise_for_status()
    status, _, message = _airflow_cli(local, "version", token)
    assert status == 403 and "expired" in message
