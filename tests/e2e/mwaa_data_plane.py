"""MWAA's data-plane flows as a user's script drives them, shared by the native
(test_local_mwaa) and the compose (test_compose_stack, test_compose_bucket) tests, so both
runtimes are held to the same calls: the AWS CLI and curl of MWAA's documented
/aws_mwaa/cli flow, InvokeRestApi polled as any poller would, and the example's
mwaa_api_trigger made to fail through its child."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from mwaa_kit.emulators.mwaa.server import client_environment

AWS_CLI = str(Path(sys.executable).with_name("aws"))


def create_cli_token(mwaa_url: str, environment: str) -> dict:
    """`aws mwaa create-cli-token --name ENVIRONMENT`, the AWS CLI pointed at the local
    MWAA API the way any script would be (endpoint and host-prefix settings)."""
    return json.loads(subprocess.run(
        [AWS_CLI, "mwaa", "create-cli-token", "--name", environment], capture_output=True,
        text=True, env={**os.environ, **client_environment(mwaa_url)}, timeout=60,
        check=True).stdout)


def airflow_cli(mwaa_url: str, ca_file: str | Path, environment: str, command: str,
                token: dict | None = None) -> tuple[int, str, str]:
    """MWAA's documented flow, verbatim but for curl's `--cacert`: a CLI token (unless given
    one), then curl POST of `command` to https://$WEB_SERVER_HOSTNAME/aws_mwaa/cli.

    :return: (HTTP status, the command's stdout, its stderr or the refusal's message).
    """
    token = token or create_cli_token(mwaa_url, environment)
    result = subprocess.run(
        ["curl", "-sS", "--cacert", str(ca_file), "-X", "POST",
         f"https://{token['WebServerHostname']}/aws_mwaa/cli", "-H", "Content-Type: text/plain",
         "-H", f"Authorization: Bearer {token['CliToken']}", "--data-raw", command,
         "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=300, check=True)
    body, status = result.stdout.rsplit("\n", 1)
    answer = json.loads(body)
    if "stdout" not in answer:  # refused before any command ran
        return int(status), "", answer["message"]
    return int(status), *(base64.b64decode(answer[name]).decode() for name in ("stdout", "stderr"))


def poll_rest(mwaa, environment: str, path: str, done, timeout: float) -> dict:
    """InvokeRestApi GET `path` until done(its RestApiResponse), for at most `timeout`
    seconds. An answer later than MWAA's 10 s (504) is asked again, as any poller would: a
    busy laptop can keep Airflow's one API worker that long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = mwaa.invoke_rest_api(Name=environment, Path=path,
                                          Method="GET")["RestApiResponse"]
        except mwaa.exceptions.RestApiServerException as error:
            if error.response["RestApiStatusCode"] != 504:
                raise
            answer = None
        if answer is not None and done(answer):
            return answer
        assert time.monotonic() < deadline, f"GET {path}: still {answer}"
        time.sleep(2)


def finished(run: dict) -> bool:
    return run["state"] in ("success", "failed")


def child_runs(mwaa, environment: str, outcome: str) -> list[str]:
    """The states of mwaa_api_child's runs whose conf asked for `outcome`."""
    runs = poll_rest(mwaa, environment, "/dags/mwaa_api_child/dagRuns", bool, 120)["dag_runs"]
    return [run["state"] for run in runs if run["conf"].get("outcome") == outcome]


def run_the_trigger_with_a_failing_child(mwaa, environment: str) -> tuple[str, dict]:
    """Starts mwaa_api_trigger through InvokeRestApi with conf outcome=fail (its child runs
    fail), and waits for it.

    :return: the run's final state, and its task instances' states by task id.
    """
    # Its Path must stay within MWAA's 64 characters with /taskInstances appended.
    run_id = f"fail-{uuid.uuid4().hex[:8]}"
    mwaa.invoke_rest_api(Name=environment, Path="/dags/mwaa_api_trigger/dagRuns",
                         Method="POST",
                         Body={"dag_run_id": run_id, "logical_date": datetime.now(UTC).isoformat(),
                               "conf": {"outcome": "fail"}})
    path = f"/dags/mwaa_api_trigger/dagRuns/{run_id}"
    final = poll_rest(mwaa, environment, path, finished, 600)
    instances = poll_rest(mwaa, environment, f"{path}/taskInstances", bool, 120)
    return final["state"], {instance["task_id"]: instance["state"]
                            for instance in instances["task_instances"]}
