"""The runners of MWAA's CLI endpoint (/aws_mwaa/cli): each runs a command as `mwaa-kit
airflow` runs it, with the environment's own `airflow` (its venv, AIRFLOW_HOME,
configuration and secrets backend), within the endpoint's time limit. They differ only in
where that prepared environment comes from: `NativeCliRunner` reads the project's running
native environment at each call; `PreparedCliRunner` is given the one its process runs
beside (the compose stack's mwaa container prepares the same bundle as the others).

The command and its output go back to the caller only; nothing of either is logged, since
either may hold a variable's or a connection's secret.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from mwaa_kit.contract.bundle import PreparedEnvironment
from mwaa_kit.emulators.mwaa.cli_endpoint import CliOutput
from mwaa_kit.project import load_project
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.native.commands import EnvironmentNotRunningError
from mwaa_kit.runtime.native.environment import NativeEnvironment


def run_airflow(prepared: PreparedEnvironment, arguments: list[str],
                timeout: float) -> CliOutput:
    """`airflow ARGUMENTS` in `prepared` with a worker's environment, as the endpoint's
    `CliRunner` answers: TimeoutError after `timeout` seconds, ConnectionError when the
    environment has no Airflow to run."""
    try:
        result = processes.run(prepared.airflow(*arguments), env=prepared.env("worker"),
                               cwd=prepared.home, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"the command ran over {timeout:g} seconds") from None
    except FileNotFoundError:
        raise ConnectionError("the environment's Apache Airflow is not installed") from None
    return CliOutput(result.stdout.encode(), result.stderr.encode())


class NativeCliRunner:
    """Runs /aws_mwaa/cli's commands in the Airflow the project's native environment runs now
    (re-read on each call, so a restart or a version switch is followed).

    :param project_dir: the project whose native environment runs.
    """

    def __init__(self, project_dir: Path):
        self.project_dir = Path(project_dir)

    def __call__(self, environment: dict, arguments: list[str], timeout: float) -> CliOutput:
        """Run `airflow ARGUMENTS` for `environment` (this project's; MWAA's own checks are
        the endpoint's); ConnectionError when the environment is down."""
        try:
            prepared = NativeEnvironment(load_project(self.project_dir)).prepared()
        except EnvironmentNotRunningError as error:
            raise ConnectionError(error.message.splitlines()[0]) from None
        return run_airflow(prepared, arguments, timeout)


class PreparedCliRunner:
    """Runs /aws_mwaa/cli's commands in the environment `prepared` returns at each call (the
    compose stack's mwaa container: the environment of the bundle rolled out last, since an
    update restarts Airflow inside the containers rather than replacing them).

    :param prepared: returns the environment the contract prepared for the current bundle.
    """

    def __init__(self, prepared: Callable[[], PreparedEnvironment]):
        self.prepared = prepared

    def __call__(self, environment: dict, arguments: list[str], timeout: float) -> CliOutput:
        """Run `airflow ARGUMENTS` for `environment` (the stack's one)."""
        return run_airflow(self.prepared(), arguments, timeout)
