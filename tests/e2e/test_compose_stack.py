"""The compose stack for real on podman: base images from debootstrap, the images
built, the example DAG run on Celery workers fed by LocalStack's SQS against the stub,
and a worker killed in the middle of a task. Everything runs twice: with podman-compose,
and with Docker Compose v2 driving podman through its Docker-compatible API, as it
drives a Docker engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config
from simple_salesforce import Salesforce

from mwaa_kit.emulators.mwaa.urls import ADMIN_PATH
from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.runtime.processes import free_port
from tests.e2e.chromium import chromium, log_in_with_web_token
from tests.e2e.compose_stack_parts import (
    CLI_PROBE_DAG,
    PATHS_DAG,
    SLOW_DAG,
    failed_task_logs,
    task_log,
)
from tests.e2e.conftest import E2E_ROOT, run_cli, write_project
from tests.e2e.mwaa_data_plane import (
    airflow_cli,
    child_runs,
    create_cli_token,
    finished,
    poll_rest,
    run_the_trigger_with_a_failing_child,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENT = "SalesforceIngestion"
# Base images made locally (no registry here); users keep the public defaults.
LOCAL_BASES = {"AIRFLOW_BASE_IMAGE": "mwaa-kit/base:bookworm-py3.12",
               "POSTGRES_BASE_IMAGE": "mwaa-kit/base:trixie",
               "LOCALSTACK_BASE_IMAGE": "mwaa-kit/base:trixie",
               "STUB_BASE_IMAGE": "mwaa-kit/base:bookworm-py3.12"}


def _cli(*arguments, project, check=True, timeout=1800):
    previous = {name: os.environ.get(name) for name in LOCAL_BASES}
    os.environ.update(LOCAL_BASES)
    try:
        return run_cli(*arguments, project=project, check=check, timeout=timeout)
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)


@pytest.fixture(scope="module", params=["podman-compose", "docker-compose-v2"])
def compose_tool(request, tmp_path_factory):
    """The compose tool `mwaa-kit` is told to use (MWAA_KIT_COMPOSE), for everything the
    tests run; for Compose v2, `podman system service` answers as the Docker engine."""
    subprocess.run([str(REPO / "scripts/setup-containers")], check=True, capture_output=True)
    with pytest.MonkeyPatch.context() as environ:
        if request.param == "podman-compose":
            environ.setenv("MWAA_KIT_COMPOSE", "podman")
            yield request.param
            return
        socket = tmp_path_factory.mktemp("docker-api") / "podman.sock"
        service = subprocess.Popen(["podman", "system", "service", "--time=0",
                                    f"unix://{socket}"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            environ.setenv("MWAA_KIT_COMPOSE", "docker")
            environ.setenv("DOCKER_HOST", f"unix://{socket}")
            environ.setenv("DOCKER_BUILDKIT", "0")  # podman's API builds the classic way
            deadline = time.monotonic() + 60
            while subprocess.run(["docker-compose", "ls"], capture_output=True).returncode:
                assert time.monotonic() < deadline, "podman's Docker API did not answer"
                time.sleep(0.5)
            yield request.param
        finally:
            service.terminate()
            service.wait(timeout=30)


@pytest.fixture(scope="module")
def stack(compose_tool):
    E2E_ROOT.mkdir(parents=True, exist_ok=True)
    project = E2E_ROOT / f"compose-{int(time.time())}"
    for folder in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "seed.toml", project / "seed.toml")
    write_project(project, {
        "dags/slow_extract.py": SLOW_DAG,
        "dags/mwaa_paths.py": PATHS_DAG,
        "dags/cli_probe.py": CLI_PROBE_DAG,
        "mwaa-kit.toml": """
            [environment]
            name = "SalesforceIngestion"
            [airflow_config]
            "scheduler.task_instance_heartbeat_timeout" = "30"
        """,
    })
    try:
        # Any free port, not 8080, which native environments on the machine prefer.
        started = _cli("up", "--runtime", "compose", "--workers", "2", "--quiet", "--port",
                       str(free_port()), project=project, check=False)
        assert started.returncode == 0, started.stdout + started.stderr[-3000:] + "".join(
            _cli("logs", service, project=project, check=False).stdout[-3000:]
            for service in ("init", "scheduler", "webserver", "worker"))
        yield project
    finally:  # a failed `up` must not leave a stack behind either
        _cli("down", "--purge", "--yes", project=project, check=False)
        shutil.rmtree(project, ignore_errors=True)


def _state(project):
    return json.loads((project / ".mwaa-kit/compose/state.json").read_text())


def _s3(project):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{_state(project)['ports']['aws']}",
                        region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def test_the_example_dag_runs_on_celery_workers(stack):
    result = _cli("dags", "trigger", "salesforce_to_s3", "--wait", "--timeout", "900",
                  "--format", "json", project=stack, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:] + failed_task_logs(
        result.stdout)
    run = json.loads(result.stdout)
    assert all(task["state"] == "success" for task in run["tasks"])
    workers = {task["hostname"] for task in run["tasks"]}
    assert workers, "tasks ran nowhere"
    listing = _s3(stack).list_objects_v2(Bucket="salesforceingestion-data",
                                         Prefix="salesforce/raw/")
    assert len([o for o in listing.get("Contents", []) if "/opportunity/" in o["Key"]]) == 6


def test_status_logs_and_airflow_reach_the_stack_through_the_one_interface(stack):
    status = json.loads(_cli("status", "--format", "json", project=stack).stdout)
    assert status["runtime"] == "compose" and status["running"]
    assert {"scheduler", "webserver", "worker"} <= {c["name"] for c in status["components"]}
    assert _cli("logs", project=stack).stdout.split()  # the services, with their containers
    assert _cli("logs", "scheduler", "-n", "3", project=stack).stdout.strip()
    listed = _cli("airflow", "dags", "list", "-o", "plain", project=stack).stdout
    assert "salesforce_to_s3" in listed


def _status(project) -> dict:
    return json.loads(_cli("status", "--format", "json", project=project).stdout)


def _mwaa(status: dict):
    return boto3.client("mwaa", endpoint_url=status["endpoints"]["mwaa_api"],
                        region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(inject_host_prefix=False))


def test_the_stack_serves_the_mwaa_api_over_its_airflow(stack):
    status = _status(stack)
    mwaa = _mwaa(status)
    environment = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert environment["Status"] == "AVAILABLE"
    assert environment["AirflowVersion"] == status["airflow_version"]
    # The one HTTPS origin, published on the host's loopback, as natively.
    assert environment["WebserverUrl"] == status["web_url"] == status["endpoints"]["web"]
    assert status["web_url"].startswith("https://127.0.0.1:")
    dags = poll_rest(mwaa, ENVIRONMENT, "/dags", bool, 120)
    assert {"salesforce_to_s3", "slow_extract"} <= {d["dag_id"] for d in dags["dags"]}
    with pytest.raises(mwaa.exceptions.RestApiClientException) as unknown:
        mwaa.invoke_rest_api(Name=ENVIRONMENT, Path="/dags/no_such_dag",
                             Method="GET")
    assert unknown.value.response["RestApiStatusCode"] == 404


def _airflow_cli(status: dict, command: str, token: dict | None = None) -> tuple[int, str, str]:
    """MWAA's documented flow (`aws mwaa create-cli-token`, curl POST to /aws_mwaa/cli)
    against the stack, verified against the CA `status` names."""
    token = token or create_cli_token(status["endpoints"]["mwaa_api"], ENVIRONMENT)
    assert f"https://{token['WebServerHostname']}" == status["web_url"]
    return airflow_cli(status["endpoints"]["mwaa_api"], status["web_ca_file"], ENVIRONMENT,
                       command, token)


def test_the_airflow_cli_endpoint_runs_what_mwaa_runs_in_the_stack(stack):
    status = _status(stack)
    deadline = time.monotonic() + 240
    while "cli_probe" not in (listed := _airflow_cli(status, "dags list -o plain"))[1]:
        assert listed[0] == 200 and time.monotonic() < deadline, listed
        time.sleep(5)
    assert _airflow_cli(status, "dags unpause cli_probe")[0] == 200
    run_id = f"cli-{int(time.time())}"
    code, stdout, stderr = _airflow_cli(status, f"dags trigger cli_probe -r {run_id}")
    assert code == 200 and run_id in stdout, stderr
    run = poll_rest(_mwaa(status), ENVIRONMENT, f"/dags/cli_probe/dagRuns/{run_id}", finished,
                    600)
    assert run["state"] == "success", run
    code, stdout, stderr = _airflow_cli(status, "db reset -y")
    assert (code, stdout) == (500, "") and "not a supported Airflow CLI command" in stderr
    token = _mwaa(status).create_cli_token(Name=ENVIRONMENT)
    requests.post(f"{status['endpoints']['mwaa_api']}{ADMIN_PATH}/advance-token-clock",
                  json={"seconds": 61}, timeout=30).raise_for_status()
    code, _, message = _airflow_cli(status, "version", token)
    assert code == 403 and "expired" in message


def test_a_web_login_token_opens_the_stack_s_ui_logged_in_in_a_browser(stack):
    """MWAA's web-login URL, opened in Debian's headless Chromium, lands on the stack's UI
    logged in over HTTPS; the UI's API refuses a caller without the login's cookie."""
    status = _status(stack)
    token = _mwaa(status).create_web_login_token(Name=ENVIRONMENT)
    assert f"https://{token['WebServerHostname']}" == status["web_url"]
    host, port = token["WebServerHostname"].rsplit(":", 1)
    browser = chromium(ssl.get_server_certificate((host, int(port))).encode())
    try:
        landed = log_in_with_web_token(browser, token, "cli_probe")
    finally:
        browser.quit()
    assert landed.startswith(status["web_url"]) and "login" not in landed
    api = "/api/v2/dags" if status["airflow_version"].startswith("3") else "/api/v1/dags"
    anonymous = requests.get(status["web_url"] + api, verify=status["web_ca_file"], timeout=120)
    assert anonymous.status_code in (401, 403)


def test_a_dag_triggers_and_waits_for_another_through_the_provider_s_operators(stack):
    """The example's mwaa_api_trigger, unchanged: the Amazon provider's operator and sensor,
    in tasks on the Celery workers, reach the stack's MWAA API (http://mwaa:8000), which
    runs mwaa_api_child in the same Airflow; they succeed when its runs do."""
    run = _cli("dags", "trigger", "mwaa_api_trigger", "--wait", "--timeout", "600",
               "--format", "json", project=stack, check=False)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    tasks = {task["task_id"]: task["state"] for task in json.loads(run.stdout)["tasks"]}
    assert tasks == dict.fromkeys(("trigger_and_wait", "trigger", "wait_for_run"), "success")
    mwaa = _mwaa(_status(stack))
    assert child_runs(mwaa, ENVIRONMENT, "success") == ["success", "success"]

    final, states = run_the_trigger_with_a_failing_child(mwaa, ENVIRONMENT)
    assert final == "failed"
    assert states == {"trigger_and_wait": "failed", "trigger": "success",
                      "wait_for_run": "failed"}
    assert child_runs(mwaa, ENVIRONMENT, "fail") == ["failed", "failed"]


def test_promote_to_the_stack_syncs_a_changed_dag_then_plans_nothing(stack):
    dag = stack / "dags" / "slow_extract.py"
    dag.write_text(dag.read_text() + "\n# promoted\n")
    first = _promote(stack)
    assert first["status"] == "SYNCED", first
    assert [change["name"] for change in first["plan"]["changes"]] == ["dags/slow_extract.py"]
    assert _promote(stack)["status"] == "NOTHING_TO_DO"


def _promote(project) -> dict:
    result = _cli("promote", "--target", "local", "--skip-validate", "--format", "json",
                  "--poll-interval", "1", project=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return json.loads(result.stdout)


def test_a_killed_worker_s_task_is_retried_on_the_other_and_completes(stack):
    stub = f"https://127.0.0.1:{_state(stack)['ports']['salesforce']}"
    ca = _stub_ca(stack)
    # Slow pages keep the task running for minutes: a poll through `compose exec` takes
    # seconds on a loaded machine, and must still find the task running.
    requests.post(f"{stub}/__admin/faults", verify=ca, timeout=10, json=[
        {"kind": "latency", "path": "/query/", "times": 1000, "seconds": 8}]).raise_for_status()
    trigger = subprocess.Popen(
        [_python(), "-m", "mwaa_kit", "dags", "trigger", "slow_extract", "--wait", "--format",
         "json", "--timeout", "900"], cwd=stack, stdout=subprocess.PIPE, text=True,
        env={**os.environ, **LOCAL_BASES})
    victim = _wait_for_running_task_host(stack)
    containers = subprocess.run(["podman", "ps", "--format", "{{.ID}} {{.Names}}"],
                                capture_output=True, text=True, check=True).stdout.split("\n")
    name = next(line.split()[1] for line in containers if line and victim.startswith(
        line.split()[0][:12]))
    assert "worker" in name
    subprocess.run(["podman", "kill", name], check=True, capture_output=True)
    requests.post(f"{stub}/__admin/faults", verify=ca, timeout=10, json=[]).raise_for_status()
    output, _ = trigger.communicate(timeout=900)
    run = json.loads(output)
    assert run["state"] == "success", run
    task = run["tasks"][0]
    assert task["try_number"] >= 2 and task["hostname"] != victim
    body = _s3(stack).get_object(Bucket="salesforceingestion-data",
                                 Key="test/slow_extract.json")["Body"].read().decode()
    ids = [json.loads(line)["id"] for line in body.splitlines()]
    assert len(ids) == len(set(ids)) == _opportunity_count(stack)


def test_tasks_run_as_a_user_who_may_write_only_where_mwaa_allows(stack):
    result = _cli("dags", "trigger", "mwaa_paths", "--wait", "--timeout", "600", "--format",
                  "json", project=stack, check=False)
    run = json.loads(result.stdout)
    states = {task["task_id"]: task["state"] for task in run["tasks"]}
    logs = {task["task_id"]: task_log(run, task) for task in run["tasks"]}
    assert states == {"whoami": "success", "write_tmp": "success",
                      "write_airflow_home": "success", "write_usr_lib": "failed"}, logs
    assert result.returncode != 0  # the run failed, as it would on MWAA
    uid = re.search(r"mwaa-paths: uid=(\d+)", logs["whoami"])
    assert uid and int(uid.group(1)) != 0, logs["whoami"]
    assert "mwaa-paths: wrote /tmp/mwaa-paths-probe" in logs["write_tmp"]
    assert "mwaa-paths: wrote /usr/local/airflow/mwaa-paths-probe" in logs["write_airflow_home"]
    assert "Permission denied" in logs["write_usr_lib"], logs["write_usr_lib"]
    assert "mwaa-paths: wrote" not in logs["write_usr_lib"]


def test_no_airflow_container_runs_a_process_as_root(stack):
    containers = [c for c in _containers(stack) if c["service"] in ("scheduler", "webserver",
                                                                     "worker")]
    assert {c["service"] for c in containers} == {"scheduler", "webserver", "worker"}
    for container in containers:
        owners = subprocess.run(
            ["podman", "exec", container["name"], "sh", "-c", "stat -c %u /proc/[0-9]*"],
            capture_output=True, text=True).stdout.split()  # (a process may end meanwhile)
        assert owners and "0" not in owners, (container["name"], owners)
    # The init job wrote the stack's shared state as the same user.
    owner = subprocess.run(["podman", "exec", containers[0]["name"], "stat", "-c", "%u",
                            "/mwaa/state/admin-password.json"], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert owner not in ("", "0")


def _containers(project) -> list[dict]:
    name = "mwaa-kit-salesforceingestion"
    output = subprocess.run(["podman", "ps", "--format", "json", "--filter",
                             f"label=com.docker.compose.project={name}"],
                            capture_output=True, text=True, check=True).stdout
    return [{"name": c["Names"][0], "service": c["Labels"]["com.docker.compose.service"]}
            for c in json.loads(output or "[]")]


def _python():
    return sys.executable


def _stub_ca(project) -> str:
    path = project / ".mwaa-kit/compose/stub-ca.pem"
    name = subprocess.run(["podman", "ps", "--filter", "label=com.docker.compose.service="
                           "salesforce", "--format", "{{.Names}}"], capture_output=True,
                          text=True, check=True).stdout.split()[0]
    subprocess.run(["podman", "cp", f"{name}:/data/ca.pem", str(path)], check=True)
    return str(path)


def _wait_for_running_task_host(project, timeout=300) -> str:
    deadline = time.monotonic() + timeout
    seen = "nothing"
    while time.monotonic() < deadline:
        states = subprocess.run(
            [_python(), "-c", "from mwaa_kit.project import load_project;"
             "from mwaa_kit.runtime.select import running_environment as r;import json;"
             "print(json.dumps(r(load_project('.')).run_states('slow_extract')))"],
            cwd=project, capture_output=True, text=True)
        if states.returncode == 0:
            run = json.loads(states.stdout.strip().splitlines()[-1])
            task = run["tasks"][0] if run["tasks"] else {}
            if task.get("state") == "running" and task.get("hostname"):
                return task["hostname"]
            seen = json.dumps(run)
        else:
            seen = states.stderr[-2000:]
        time.sleep(3)
    raise AssertionError(f"slow_extract never started running; last seen: {seen}")


def _opportunity_count(project) -> int:
    session = requests.Session()
    session.trust_env = False
    session.verify = _stub_ca(project)
    sf = Salesforce(username=auth.USERNAME, password=auth.PASSWORD,
                    security_token=auth.SECURITY_TOKEN, session=session,
                    domain=f"127.0.0.1:{_state(project)['ports']['salesforce']}/#")
    return sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
