"""The runner of MWAA's CLI endpoint (/aws_mwaa/cli) over a project's native environment: each
command runs as `mwaa-kit airflow` runs it (NativeEnvironment.airflow: the environment's own
venv, AIRFLOW_HOME, configuration and secrets backend), within the endpoint's time limit.

The command and its output go back to the caller only; nothing of either is logged, since
either may hold a variable's or a connection's secret.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from mwaa_kit.emulators.mwaa.cli_endpoint import CliOutput
from mwaa_kit.project import load_project
from mwaa_kit.runtime.native.commands import EnvironmentNotRunningError
from mwaa_kit.runtime.native.environment import NativeEnvironment


class NativeCliRunner:
    """Runs /aws_mwaa/cli's commands in the Airflow the project's native environment runs now
    (re-read on each call, so a restart or a version switch is followed).

    :param project_dir: the project whose native environment runs.
    """

    def __init__(self, project_dir: Path):
        self.project_dir = Path(project_dir)

    def __call__(self, environment: dict, arguments: list[str], timeout: float) -> CliOutput:
        """Run `airflow ARGUMENTS` for `environment` (this project's; MWAA's own checks are
        the endpoint's); ConnectionError when the environment is down, TimeoutError after
        `timeout` seconds."""
        local = NativeEnvironment(load_project(self.project_dir))
        try:
            result = local.airflow(*arguments, timeout=timeout)
        except EnvironmentNotRunningError as error:
            raise ConnectionError(error.message.splitlines()[0]) from None
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the command ran over {timeout:g} seconds") from None
        return CliOutput(result.stdout.encode(), result.stderr.encode())
