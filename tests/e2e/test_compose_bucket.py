"""The compose stack up with `--dags-from bucket`, for real on podman with podman-compose:
its Airflow reads the DAGs the dags-sync service mirrors from the environment's bucket
(not the project's dags/), and an UpdateEnvironment through the stack's MWAA API
(`promote --target local`) restarts the running containers on the new bundle, or fails
and leaves them on the previous one, as MWAA does; MWAA's CLI endpoint runs its commands
on the bundle rolled out.

One stack, with podman-compose only: test_compose_stack.py runs the default
(`--dags-from project`) stack under both compose tools."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config

from mwaa_kit.runtime.processes import free_port
from tests.e2e.conftest import new_folder, write_project
from tests.e2e.mwaa_data_plane import airflow_cli
from tests.e2e.test_compose_stack import REPO, _cli

pytestmark = pytest.mark.e2e

ENVIRONMENT = "BucketSync"
BUCKET = "bucketsync-mwaa-source"  # where `up` publishes the environment's bundle
DAG = """
from datetime import datetime
try:
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG
with DAG("{dag_id}", schedule=None, start_date=datetime(2024, 1, 1)):
    pass
"""
PROBE_PLUGIN = """
from airflow.plugins_manager import AirflowPlugin

class RolloutProbe(AirflowPlugin):
    name = "rollout_probe"
"""


@pytest.fixture(scope="module")
def stack():
    subprocess.run([str(REPO / "scripts/setup-containers")], check=True, capture_output=True)
    project = new_folder("compose-bucket")
    for folder in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "seed.toml", project / "seed.toml")
    write_project(project, {"mwaa-kit.toml": f"""
        [environment]
        name = "{ENVIRONMENT}"
    """})
    with pytest.MonkeyPatch.context() as environ:
        environ.setenv("MWAA_KIT_COMPOSE", "podman")
        try:
            started = _cli("up", "--runtime", "compose", "--dags-from", "bucket", "--quiet",
                           "--port", str(free_port()), project=project, check=False)
            assert started.returncode == 0, started.stdout + started.stderr[-3000:]
            yield project
        finally:
            _cli("down", "--purge", "--yes", project=project, check=False)
            shutil.rmtree(project, ignore_errors=True)


def _client(project, service: str):
    state = json.loads((project / ".mwaa-kit/compose/state.json").read_text())
    endpoint = (state["mwaa_url"] if service == "mwaa"
                else f"http://127.0.0.1:{state['ports']['aws']}")
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(inject_host_prefix=False))


def _rest(project, path: str) -> dict:
    """InvokeRestApi GET `path`, asked again while the webserver is busy or restarting."""
    mwaa = _client(project, "mwaa")
    deadline = time.monotonic() + 120
    while True:
        try:
            return mwaa.invoke_rest_api(Name=ENVIRONMENT, Path=path,
                                        Method="GET")["RestApiResponse"]
        except mwaa.exceptions.RestApiServerException:
            assert time.monotonic() < deadline, f"GET {path} kept failing"
            time.sleep(2)


def _wait_for_dags(project, done, timeout: float = 240) -> set[str]:
    """The active DAGs Airflow serves (a DAG whose file is gone is stale, and not listed)
    once done(them)."""
    deadline = time.monotonic() + timeout
    while True:
        dags = {dag["dag_id"] for dag in _rest(project, "/dags")["dags"]}
        if done(dags):
            return dags
        assert time.monotonic() < deadline, f"the DAGs are still {sorted(dags)}"
        time.sleep(3)


def test_airflow_follows_the_bucket_not_the_project_s_dags(stack):
    status = json.loads(_cli("status", "--format", "json", project=stack).stdout)
    assert status["running"] and "dags-sync" in {c["name"] for c in status["components"]}
    _wait_for_dags(stack, lambda dags: "salesforce_to_s3" in dags)  # published by `up`

    added = f"bucket_only_{uuid.uuid4().hex[:6]}"
    (stack / "dags" / "project_only.py").write_text(DAG.format(dag_id="project_only"))
    s3 = _client(stack, "s3")
    s3.put_object(Bucket=BUCKET, Key=f"dags/{added}.py", Body=DAG.format(dag_id=added).encode())
    s3.delete_object(Bucket=BUCKET, Key="dags/salesforce_to_s3.py")
    dags = _wait_for_dags(stack, lambda dags: added in dags and "salesforce_to_s3" not in dags)
    assert "project_only" not in dags
    listed = _cli("airflow", "dags", "list", "-o", "plain", project=stack).stdout
    assert added in listed


def _containers(service: str) -> list[str]:
    return subprocess.run(
        ["podman", "ps", "--format", "{{.Names}}", "--filter",
         f"label=com.docker.compose.project=mwaa-kit-{ENVIRONMENT.lower()}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True, check=True).stdout.split()


def _airflow_processes(container: str, variable: str = "", top: bool = False) -> list[str]:
    """`PID command line` of the container's Airflow processes (run by the virtualenv's
    Python; with `top`, only its entrypoint's children, not their short-lived workers) whose
    environment holds `variable` (e.g. a startup script's export)."""
    parent = '[ "$(cut -d" " -f4 "$p/stat" 2>/dev/null)" = 1 ] && ' if top else ""
    script = (f'for p in /proc/[0-9]*; do {parent}grep -qz "^{variable}" "$p/environ" '
              '2>/dev/null && echo "${p#/proc/} $(tr "\\0" " " < "$p/cmdline")"; done')
    output = subprocess.run(["podman", "exec", container, "sh", "-c", script],
                            capture_output=True, text=True).stdout
    return [line for line in output.splitlines() if "/venvs/" in line]


def _promote(project, check: int) -> dict:
    result = _cli("promote", "--target", "local", "--skip-validate", "--format", "json",
                  "--poll-interval", "1", project=project, check=False)
    assert result.returncode == check, result.stdout + result.stderr[-3000:]
    return json.loads(result.stdout)


def _variable_through_the_cli(project, name: str) -> tuple[int, str]:
    """`variables get NAME` through MWAA's documented /aws_mwaa/cli flow: (status, stdout)."""
    status = json.loads(_cli("status", "--format", "json", project=project).stdout)
    code, stdout, _ = airflow_cli(status["endpoints"]["mwaa_api"], status["web_ca_file"],
                                  ENVIRONMENT, f"variables get {name}")
    return code, stdout.strip()


def test_an_update_restarts_the_running_containers_on_the_new_bundle(stack):
    # Airflow reads AIRFLOW_VAR_* as variables: the CLI endpoint shows the startup script
    # of the bundle it runs on.
    value = uuid.uuid4().hex[:8]
    probe = f"AIRFLOW_VAR_ROLLOUT_PROBE={value}"
    assert _variable_through_the_cli(stack, "rollout_probe") != (200, value)
    startup = stack / "requirements" / "startup.sh"
    startup.write_text(startup.read_text() + f"\nexport {probe}\n")
    (stack / "plugins" / "rollout_probe.py").write_text(PROBE_PLUGIN)

    outcome = _promote(stack, check=0)
    assert outcome["status"] == "AVAILABLE" and outcome["update_called"], outcome
    environment = _client(stack, "mwaa").get_environment(Name=ENVIRONMENT)["Environment"]
    assert environment["Status"] == "AVAILABLE"
    # The webserver restarted: its API server loaded the new plugins.zip.
    plugins = _rest(stack, "/plugins")["plugins"]
    assert "rollout_probe" in {plugin["name"] for plugin in plugins}
    # The scheduler's and the worker's Airflow processes run with the new startup script.
    for service in ("scheduler", "worker"):
        for container in _containers(service):
            assert _airflow_processes(container, probe + "$"), (service, container)
    # The mwaa container is not restarted: its CLI endpoint prepares the new bundle.
    assert _variable_through_the_cli(stack, "rollout_probe") == (200, value)


def test_an_update_that_cannot_be_prepared_fails_and_the_stack_keeps_running(stack):
    startup = stack / "requirements" / "startup.sh"
    good = startup.read_text()
    before = _client(stack, "mwaa").get_environment(Name=ENVIRONMENT)["Environment"]
    scheduler = _containers("scheduler")[0]
    running = _airflow_processes(scheduler, top=True)
    assert running
    startup.write_text(good + 'echo "cannot reach the vault" >&2\nexit 3\n')
    try:
        outcome = _promote(stack, check=1)
    finally:
        startup.write_text(good)
    assert outcome["status"] == "UPDATE_FAILED", outcome
    environment = _client(stack, "mwaa").get_environment(Name=ENVIRONMENT)["Environment"]
    assert environment["Status"] == "UPDATE_FAILED"
    assert "cannot reach the vault" in environment["LastUpdate"]["Error"]["ErrorMessage"]
    assert (environment["StartupScriptS3ObjectVersion"]
            == before["StartupScriptS3ObjectVersion"])
    # Nothing restarted: the same processes run the previous bundle.
    assert _airflow_processes(scheduler, top=True) == running
    assert json.loads(_cli("status", "--format", "json", project=stack).stdout)["running"]
