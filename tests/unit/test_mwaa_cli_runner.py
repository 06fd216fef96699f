"""The native runner of /aws_mwaa/cli: the command goes to NativeEnvironment.airflow (as
`mwaa-kit airflow` runs it) with the endpoint's time limit, and what goes wrong becomes the
errors the endpoint turns into its answers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mwaa_kit.emulators.mwaa.cli_endpoint import CliOutput
from mwaa_kit.runtime import mwaa_cli, processes
from mwaa_kit.runtime.native.commands import EnvironmentNotRunningError


class FakeEnvironment:
    """Stands for NativeEnvironment: records `airflow` calls, answers with `outcome`."""

    calls: list = []
    outcome: object = None

    def __init__(self, project):
        self.project = project

    def airflow(self, *arguments, timeout=None):
        FakeEnvironment.calls.append((arguments, timeout))
        if isinstance(FakeEnvironment.outcome, BaseException):
            raise FakeEnvironment.outcome
        return FakeEnvironment.outcome


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.setattr(mwaa_cli, "load_project", lambda path: path)
    monkeypatch.setattr(mwaa_cli, "NativeEnvironment", FakeEnvironment)
    FakeEnvironment.calls = []
    return mwaa_cli.NativeCliRunner(tmp_path)


def test_the_command_runs_as_mwaa_kit_airflow_with_the_time_limit(runner):
    FakeEnvironment.outcome = subprocess.CompletedProcess([], 1, "dag_id\n", "é warning\n")
    output = runner({"Name": "Env1"}, ["dags", "list"], 60.0)
    assert output == CliOutput(b"dag_id\n", "é warning\n".encode())
    assert FakeEnvironment.calls == [(("dags", "list"), 60.0)]


@pytest.mark.parametrize(("raised", "expected"), [
    (EnvironmentNotRunningError("The local environment is not running.\nlog tail"),
     ConnectionError),
    (subprocess.TimeoutExpired(["airflow"], 60), TimeoutError)])
def test_a_down_environment_or_a_slow_command_is_the_endpoints_error(runner, raised, expected):
    FakeEnvironment.outcome = raised
    with pytest.raises(expected) as error:
        runner({"Name": "Env1"}, ["version"], 60.0)
    assert "log tail" not in str(error.value)


def test_a_captured_run_is_killed_at_its_timeout():
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_a_captured_run_keeps_output_that_is_not_utf8():
    result = processes.run([sys.executable, "-c",
                            "import sys; sys.stdout.buffer.write(b'ok \\xff')"])
    assert result.stdout == "ok \ufffd"

