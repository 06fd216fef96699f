"""MWAA's CLI endpoint (POST /aws_mwaa/cli) with a fake runner: CreateCliToken's token (as
botocore's `mwaa` model shapes it) opens it for a minute, the command is split as a shell
would and checked against MWAA's list for the environment's Airflow major, and the answer is
{"stdout", "stderr"} in base64."""

from __future__ import annotations

import base64
import json
import threading

import botocore.session
import pytest
import requests

from mwaa_kit.emulators import tls
from mwaa_kit.emulators.mwaa import cli_endpoint
from mwaa_kit.emulators.mwaa.cli_endpoint import CliOutput, handle
from mwaa_kit.emulators.mwaa.webserver import WebServer
from mwaa_kit.runtime.processes import free_port
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, admin, settled

RAN = CliOutput(b"ran\n", b"a warning\n")


class FakeRunner:
    """Records the commands it is given and answers with `output` (or raises `error`)."""

    def __init__(self, output=RAN, error=None):
        self.output, self.error, self.calls = output, error, []

    def __call__(self, environment, arguments, timeout):
        self.calls.append((environment["Name"], arguments, timeout))
        if self.error:
            raise self.error
        return self.output


def _environment(mwaa, bucket, name="Env1", version="3.3.1"):
    mwaa.create_environment(Name=name, ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::"
                            f"{bucket}", DagS3Path="dags", NetworkConfiguration=NETWORK,
                            AirflowVersion=version)
    settled(mwaa, name)


def _token(mwaa, name="Env1") -> str:
    return mwaa.create_cli_token(Name=name)["CliToken"]


def _post(backend, token, command: str, runner):
    status, headers, body = handle(backend, "POST", {"Authorization": f"Bearer {token}"},
                                   command.encode(), runner)
    return status, headers, json.loads(body)


def _decoded(answer: dict) -> tuple[str, str]:
    return (base64.b64decode(answer["stdout"]).decode(),
            base64.b64decode(answer["stderr"]).decode())


def test_create_cli_token_answers_botocores_output_shape(mwaa, bucket):
    _environment(mwaa, bucket)
    answer = mwaa.create_cli_token(Name="Env1")
    answer.pop("ResponseMetadata")
    output = (botocore.session.get_session().get_service_model("mwaa")
              .operation_model("CreateCliToken").output_shape)
    assert set(answer) == set(output.members)
    assert all(isinstance(value, str) and value for value in answer.values())
    with pytest.raises(mwaa.exceptions.ResourceNotFoundException):
        mwaa.create_cli_token(Name="Nope")


def test_a_supported_command_runs_split_as_a_shell_would(mwaa, bucket, backend):
    _environment(mwaa, bucket)
    runner = FakeRunner()
    status, headers, answer = _post(backend, _token(mwaa),
                                    "dags trigger my_dag -c '{\"key\": \"value\"}'", runner)
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert _decoded(answer) == ("ran\n", "a warning\n")
    assert runner.calls == [("Env1", ["dags", "trigger", "my_dag", "-c", '{"key": "value"}'],
                             cli_endpoint.TIMEOUT_SECONDS)]


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer forged", "Basic x"])
def test_no_token_or_a_bad_one_is_refused_before_anything_runs(mwaa, bucket, backend,
                                                               authorization):
    _environment(mwaa, bucket)
    _token(mwaa)
    runner = FakeRunner()
    headers = {} if authorization is None else {"Authorization": authorization}
    status, _, body = handle(backend, "POST", headers, b"version", runner)
    assert status == 403 and "CreateCliToken" in json.loads(body)["message"]
    assert runner.calls == []


def test_a_token_is_good_for_a_minute_on_its_own_kind(mwaa, bucket, backend, endpoint):
    _environment(mwaa, bucket)
    token, runner = _token(mwaa), FakeRunner()
    web = mwaa.create_web_login_token(Name="Env1")["WebToken"]
    assert _post(backend, web, "version", runner)[0] == 403
    assert _post(backend, token, "version", runner)[0] == 200
    admin(endpoint, "advance-token-clock", {"seconds": 61})
    assert _post(backend, token, "version", runner)[0] == 403
    assert len(runner.calls) == 1


@pytest.mark.parametrize("command", ["db reset -y", "users list", "pools import p.json",
                                     "dags show d --save d.png", "airflow version"])
def test_a_command_mwaa_does_not_list_is_refused_and_not_run(mwaa, bucket, backend, command):
    _environment(mwaa, bucket)
    runner = FakeRunner()
    status, _, answer = _post(backend, _token(mwaa), command, runner)
    stdout, stderr = _decoded(answer)
    assert (status, stdout) == (500, "")
    assert "not" in stderr and "Amazon MWAA" in stderr and "Apache Airflow v3" in stderr
    assert runner.calls == []


def test_the_environments_airflow_major_picks_the_list(mwaa, bucket, backend):
    _environment(mwaa, bucket, "Two", "2.11.0")
    _environment(mwaa, bucket, "Three", "3.3.1")
    runner = FakeRunner()
    assert _post(backend, _token(mwaa, "Two"), "dags backfill d -s 2024-01-01", runner)[0] == 200
    assert _post(backend, _token(mwaa, "Three"), "dags backfill d", runner)[0] == 500
    assert _post(backend, _token(mwaa, "Three"), "backfill create --dag-id d",
                 runner)[0] == 200


@pytest.mark.parametrize(("error", "status"), [(TimeoutError("slow"), 504),
                                               (ConnectionError("not up"), 503)])
def test_a_runner_that_cannot_answer_is_a_server_error(mwaa, bucket, backend, error, status):
    _environment(mwaa, bucket)
    answered, _, answer = _post(backend, _token(mwaa), "dags list", FakeRunner(error=error))
    assert answered == status and _decoded(answer)[1]


def test_what_is_not_one_post_of_one_command_line(mwaa, bucket, backend):
    _environment(mwaa, bucket)
    token = _token(mwaa)
    status, headers, _ = handle(backend, "GET", {}, b"", FakeRunner())
    assert (status, headers["Allow"]) == (405, "POST")
    status, _, answer = _post(backend, token, "variables set x 'unclosed", FakeRunner())
    assert status == 400 and "one command line" in _decoded(answer)[1]
    assert _post(backend, token, "version", None)[0] == 501


def test_the_web_origin_serves_it_over_https_at_the_tokens_hostname(mwaa, bucket, backend,
                                                                    tmp_path):
    certificate, key = tls.ensure_certificates(tmp_path / "tls")
    runner = FakeRunner(CliOutput("é\n".encode(), b""))
    origin = WebServer(free_port(), backend, "http://127.0.0.1:9", lambda environment: {},
                       certificate, key, cli_runner=runner)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    backend.webserver_hostname = f"127.0.0.1:{origin.server_address[1]}"
    _environment(mwaa, bucket)
    try:
        for path in ("/aws_mwaa/cli", "/aws_mwaa/cli/"):
            token = mwaa.create_cli_token(Name="Env1")
            answer = requests.post(
                f"https://{token['WebServerHostname']}{path}", data="version",
                headers={"Authorization": f"Bearer {token['CliToken']}",
                         "Content-Type": "text/plain"},
                verify=tmp_path / "tls" / tls.CA_FILE, timeout=30)
            assert answer.status_code == 200
            assert _decoded(answer.json()) == ("é\n", "")
        refused = requests.post(f"https://{backend.webserver_hostname}/aws_mwaa/cli",
                                data="version", verify=tmp_path / "tls" / tls.CA_FILE,
                                timeout=30)
        assert refused.status_code == 403 and "CreateCliToken" in refused.json()["message"]
        assert [arguments for _, arguments, _ in runner.calls] == [["version"], ["version"]]
    finally:
        origin.shutdown()
        origin.server_close()
