"""The one interface both runtimes implement, so that the CLI never asks which one runs.

`native` (host processes) and `compose` (containers) differ in how they start MWAA's
components, not in what a user asks of them: bring the environment up with some options,
stop it, say what runs and where, show a component's log, run an Airflow CLI command in it,
read a DAG run's state. The CLI holds an object of this protocol (from `select`) and
renders what it returns; whatever is particular to one runtime travels as data (notes,
details), never as a branch in `mwaa_kit/cli/`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# Where the DAG folder comes from: the project's dags/, live, or the environment's bucket.
DAGS_FROM = ("project", "bucket")


@dataclass(frozen=True)
class UpOptions:
    """How to bring an environment up.

    :param ui_port: the UI's port; None picks 8080, or a free one when 8080 is taken.
    :param workers: Celery workers (compose; natively the LocalExecutor runs tasks).
    :param dags_from: "project" runs dags/ live; "bucket" runs only what was promoted to
        the environment's bucket, synced as on MWAA.
    """

    ui_port: int | None = None
    workers: int = 1
    dags_from: str = "project"


DEFAULT_OPTIONS = UpOptions()


@dataclass(frozen=True)
class Component:
    """One process or container of the environment.

    :param name: scheduler, api-server, aws, postgres...
    :param running: whether it runs now.
    :param pid: its process id (native).
    :param port: the host port it listens on, if any.
    :param where: its log file (native) or container name (compose).
    """

    name: str
    running: bool
    pid: int | None = None
    port: int | None = None
    where: str | None = None


@dataclass(frozen=True)
class EnvironmentStatus:
    """What runs, where to reach it, and what a user should know about it.

    :param runtime: "native" or "compose".
    :param running: True only when every long-running component runs.
    :param airflow_version: the version that runs (or ran last), None before any `up`.
    :param components: each process or container.
    :param endpoints: URLs by role: "ui", "mwaa_api", "aws".
    :param notes: lines for the user (how to log in, where the runtime differs from MWAA).
    :param options: the options `up` used, for `restart` to use again.
    :param details: the runtime's own keys of `status --format json`.
    """

    runtime: str
    running: bool
    airflow_version: str | None
    components: tuple[Component, ...] = ()
    endpoints: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    options: UpOptions = DEFAULT_OPTIONS
    details: dict = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether anything of it was started (and not stopped by `down`)."""
        return bool(self.components)

    def to_dict(self) -> dict:
        """The JSON of `mwaa-kit status --format json`."""
        return {
            "running": self.running,
            "runtime": self.runtime,
            "airflow_version": self.airflow_version,
            "endpoints": self.endpoints,
            "components": [vars(component) for component in self.components],
            "notes": list(self.notes),
            **self.details,
        }


class Runtime(Protocol):
    """A local MWAA environment of one project, whichever way it runs."""

    name: str

    def up(self, options: UpOptions = DEFAULT_OPTIONS) -> EnvironmentStatus:
        """Bring the environment up (a second call while it runs changes nothing)."""

    def down(self, purge: bool = False) -> list[str]:
        """Stop everything; `purge` also deletes the runtime's data. Returns what stopped."""

    def status(self) -> EnvironmentStatus:
        """What runs now."""

    def log_sources(self) -> dict[str, str]:
        """Each component whose log `logs` can show, with where that log lives."""

    def logs(self, component: str, follow: bool, lines: int,
             on_line: Callable[[str], None]) -> None:
        """Hand the last `lines` lines of one component's log to `on_line` (and the new
        ones while `follow`)."""

    def airflow(self, *arguments: str, on_line: Callable[[str], None] | None = None
                ) -> subprocess.CompletedProcess:
        """Run an Airflow CLI command in the environment, as a worker would."""

    def run_states(self, dag_id: str, run_id: str | None = None) -> dict:
        """The state of a DAG run and of its tasks (the latest run when `run_id` is None)."""

    def aws_endpoint(self) -> str:
        """The running AWS emulator's URL on the host."""

    def mwaa_endpoint(self) -> str:
        """The running MWAA API's URL on the host."""
