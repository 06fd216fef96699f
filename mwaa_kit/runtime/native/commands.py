"""One-off Airflow commands in the running native environment (`dags test`,
`mwaa-kit airflow`, a run's state), with the environment its processes run in, and the
running services' endpoints.

A part of `NativeEnvironment` (environment.py), kept apart as one concern.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from mwaa_kit.contract.bundle import PreparedEnvironment
from mwaa_kit.contract.requirements import Virtualenv
from mwaa_kit.errors import KitError, log_tail
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.run_states import parse_run_states

_IN_AIRFLOW = Path(__file__).resolve().parent.parent / "in_airflow"


class EnvironmentNotRunningError(KitError, RuntimeError):
    """A command needs the local environment, and it is not up."""


class OneOffCommands:
    """Airflow CLI commands and run states, with the running processes' environment."""

    def _save_airflow_env(self, env: dict[str, str]) -> None:
        """Keep the processes' environment (it may hold secrets: owner-only) for one-off
        commands such as `dags test`."""
        path = self.native_dir / "airflow-env.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(env))

    def prepared(self) -> PreparedEnvironment:
        """The environment the running processes use (for one-off Airflow commands)."""
        status = self.status()
        stopped = [c for c in status.components if not c.running]
        if not status.started:
            raise EnvironmentNotRunningError(
                "The local environment is not running. Start it with `mwaa-kit up`.")
        if stopped:
            log = stopped[0].where
            raise EnvironmentNotRunningError(
                f"The local environment is not running: "
                f"{', '.join(c.name for c in stopped)} stopped.\n" + log_tail(Path(log), 10),
                hint=f"`mwaa-kit up` restarts only what stopped; {log} says why it stopped.")
        return self._prepared_from(self._load_state())

    def _prepared_from(self, state: dict) -> PreparedEnvironment:
        env = json.loads((self.native_dir / "airflow-env.json").read_text())
        return PreparedEnvironment(  # the running version's home, whatever the toml says now
            home=Path(state.get("airflow_home", self.home)),
            virtualenv=Virtualenv(Path(state["virtualenv"]), False),
            constraints_source="", startup_exports={}, plugins=[], base_env=env,
        )

    def aws_endpoint(self) -> str:
        """The running AWS emulator's endpoint URL."""
        return self._endpoint("aws", "The AWS emulator")

    def mwaa_endpoint(self) -> str:
        """The running MWAA API emulator's endpoint URL."""
        return self._endpoint("mwaa", "The MWAA API emulator")

    def _endpoint(self, name: str, what: str) -> str:
        for record in self._records(self._load_state()):
            if record.name == name and processes.is_alive(record):
                return f"http://127.0.0.1:{record.port}"
        raise EnvironmentNotRunningError(
            f"{what} is not running. Start the environment with `mwaa-kit up`."
        )

    def airflow(self, *arguments: str, on_line: Callable[[str], None] | None = None,
                timeout: float | None = None) -> subprocess.CompletedProcess:
        """A one-off Airflow CLI command with the environment of a worker; its output
        captured (killed after `timeout` seconds: subprocess.TimeoutExpired), or handed to
        `on_line` a line at a time."""
        prepared = self.prepared()
        return processes.run(prepared.airflow(*arguments), env=prepared.env("worker"),
                             cwd=prepared.home, on_line=on_line, timeout=timeout)

    def run_states(self, dag_id: str, run_id: str | None = None) -> dict:
        """The state of a DAG run and its tasks (the latest run when `run_id` is None), read with
        the environment's own Python; EnvironmentNotRunningError when it is down."""
        prepared = self.prepared()
        command = [str(prepared.virtualenv.python), str(_IN_AIRFLOW / "run_states.py"), dag_id]
        if run_id:
            command.append(run_id)
        result = subprocess.run(command, env=prepared.env("worker"), capture_output=True,
                                text=True, cwd=prepared.home)
        return parse_run_states(result)
