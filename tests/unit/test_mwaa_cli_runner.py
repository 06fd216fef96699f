"""The runners of /aws_mwaa/cli: the command runs with the prepared environment's own
`airflow` (a worker's environment, in its AIRFLOW_HOME) within the endpoint's time limit,
and what goes wrong becomes the errors the endpoint turns into its answers. The native
runner finds that environment in the running native one; the compose one is given it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mwaa_kit.contract.bundle import PreparedEnvironment
from mwaa_kit.contract.requirements import Virtualenv
from mwaa_kit.emulators.mwaa.cli_endpoint import CliOutput
from mwaa_kit.runtime import mwaa_cli, processes
from mwaa_kit.runtime.native.commands import EnvironmentNotRunningError

# A stand-in `airflow`: echoes its arguments, where it runs and as which component.
FAKE_AIRFLOW = """#!/bin/sh
if [ "$1" = sleep ]; then exec sleep 30; fi
echo "$@ in $(pwd) as $MWAA_AIRFLOW_COMPONENT"
printf '\\303\\251 warning\\n' >&2
exit 1
"""


def _prepared(tmp_path, installed: bool = True) -> PreparedEnvironment:
    virtualenv = Virtualenv(tmp_path / "env", False)
    if installed:
        virtualenv.bin_dir.mkdir(parents=True)
        airflow = virtualenv.bin_dir / "airflow"
        airflow.write_text(FAKE_AIRFLOW)
        airflow.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    return PreparedEnvironment(home=home, virtualenv=virtualenv, constraints_source="",
                               startup_exports={}, plugins=[],
                               base_env={"PATH": os.environ["PATH"]})


def test_the_command_runs_with_the_prepared_airflow_as_a_worker(tmp_path):
    prepared = _prepared(tmp_path)
    output = mwaa_cli.PreparedCliRunner(lambda: prepared)({"Name": "Env1"}, ["dags", "list"], 60.0)
    assert output == CliOutput(f"dags list in {prepared.home} as worker\n".encode(),
                               "é warning\n".encode())


@pytest.mark.parametrize(("installed", "arguments", "expected"), [
    (True, ["sleep"], TimeoutError), (False, ["version"], ConnectionError)])
def test_a_slow_command_or_a_missing_airflow_is_the_endpoints_error(tmp_path, installed,
                                                                     arguments, expected):
    prepared = _prepared(tmp_path, installed)
    runner = mwaa_cli.PreparedCliRunner(lambda: prepared)
    with pytest.raises(expected):
        runner({"Name": "Env1"}, arguments, 0.5)


class FakeEnvironment:
    """Stands for NativeEnvironment: its prepared environment, or the error `prepared` raises."""

    outcome: object = None

    def __init__(self, project):
        self.project = project

    def prepared(self):
        if isinstance(FakeEnvironment.outcome, BaseException):
            raise FakeEnvironment.outcome
        return FakeEnvironment.outcome


@pytest.fixture
def native(monkeypatch, tmp_path):
    monkeypatch.setattr(mwaa_cli, "load_project", lambda path: path)
    monkeypatch.setattr(mwaa_cli, "NativeEnvironment", FakeEnvironment)
    return mwaa_cli.NativeCliRunner(tmp_path)


def test_the_native_runner_runs_in_the_running_environment(native, tmp_path):
    FakeEnvironment.outcome = _prepared(tmp_path)
    assert native({"Name": "Env1"}, ["version"], 60.0).stdout.startswith(b"version in ")


def test_a_down_native_environment_is_a_connection_error_without_its_log(native):
    FakeEnvironment.outcome = EnvironmentNotRunningError(
        "The local environment is not running.\nlog tail")
    with pytest.raises(ConnectionError) as error:
        native({"Name": "Env1"}, ["version"], 60.0)
    assert "log tail" not in str(error.value)


def test_a_captured_run_is_killed_at_its_timeout():
    with pytest.raises(subprocess.TimeoutExpired):
        processes.run([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)


def test_a_captured_run_keeps_output_that_is_not_utf8():
    result = processes.run([sys.executable, "-c",
                            "import sys; sys.stdout.buffer.write(b'ok \\xff')"])
    assert result.stdout == "ok \ufffd"
