"""The native runtime: the MWAA contract run as host processes.

This is the embedded default wherever no container engine answers. It starts the AWS
emulator, PostgreSQL (MWAA's metadata database), the Salesforce stub when the seed file
asks for it, and Airflow's components as MWAA runs them: scheduler, DAG processor,
triggerer, and the API server (3.x) or webserver (2.x). Tasks run on Airflow's
LocalExecutor in place of Celery on SQS; `status` says so.

The class is the runtime's state (state.json, the processes recorded) and life cycle (up,
status, down, logs); what it tells its processes (settings.py), how it starts them
(launch.py), how it applies an update (updates.py) and its one-off commands (commands.py)
are its bases, one concern each.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mwaa_kit.contract.bundle import bundle_from_project
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.aws import seed as aws_seed
from mwaa_kit.project import Project
from mwaa_kit.runtime import port_reservations, processes
from mwaa_kit.runtime.interface import (
    DEFAULT_OPTIONS,
    Component,
    EnvironmentStatus,
    UpOptions,
)
from mwaa_kit.runtime.native import control_plane, postgres
from mwaa_kit.runtime.native.commands import OneOffCommands
from mwaa_kit.runtime.native.settings import EXECUTOR, mwaa_api_url
from mwaa_kit.runtime.native.updates import BundleUpdates

ROOT_NOTE = ("Airflow and its tasks run as root here, unlike MWAA, whose image runs them as "
             "the user `airflow`: a task that writes outside /usr/local/airflow and /tmp "
             "(or pip-installs at run time) works here and fails on MWAA. The compose runtime "
             "runs them as MWAA does.")


def started_as_root() -> bool:
    """Whether `up` starts Airflow as root (native processes run as whoever runs `up`)."""
    return os.geteuid() == 0


class NativeEnvironment(BundleUpdates, OneOffCommands):
    """One project's local environment, its state kept in `<project>/.mwaa-kit/` (the
    native implementation of `mwaa_kit.runtime.interface.Runtime`)."""

    name = "native"

    def __init__(self, project: Project, report: Callable[[str], None] = lambda m: None):
        self.project = project
        self.report = report
        self.version = project.version
        self.state_dir = project.state_dir
        self.native_dir = self.state_dir / "native"
        self.logs_dir = self.native_dir / "logs"
        # One AIRFLOW_HOME and one database per Airflow version: switching `airflow_version`
        # never runs one version on another's airflow.cfg or schema; emulated AWS, the
        # Salesforce stub's data and the admin password are shared by every version.
        self.home = self.state_dir / "airflow-home" / self.version.airflow_version
        self.database = postgres.database_name(self.version.airflow_version)
        self.state_file = self.native_dir / "state.json"
        self.postgres_dir = postgres.cluster_dir(self.native_dir)
        self.aws_state_file = self.state_dir / "aws" / "moto-state.pickle"
        self.ca_bundle = self.native_dir / "ca-bundle.pem"

    # ----------------------------------------------------------------- state
    def _load_state(self) -> dict:
        if not self.state_file.exists():
            return {}
        return json.loads(self.state_file.read_text())

    def _save_state(self, state: dict) -> None:
        self.native_dir.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self.state_file)

    def _records(self, state: dict) -> list[processes.ProcessRecord]:
        return [processes.ProcessRecord(**entry) for entry in state.get("processes", [])]

    def status(self) -> EnvironmentStatus:
        """What runs now, from state.json and the recorded processes; `running` only when every
        recorded process is alive."""
        state = self._load_state()
        components = tuple(
            Component(record.name, processes.is_alive(record), record.pid, record.port,
                      record.log)
            for record in self._records(state))
        # As `up` recorded it; before any `up`, as the next one would run.
        runs_as_root = state.get("runs_as_root", started_as_root())
        endpoints = {role: state[key] for role, key in
                     (("ui", "ui_url"), ("mwaa_api", "mwaa_url"), ("web", "web_url"))
                     if state.get(key)}
        aws = next((c for c in components if c.name == "aws" and c.port), None)
        if aws:
            endpoints["aws"] = f"http://127.0.0.1:{aws.port}"
        notes = [f"login: admin, password in {self.password_file()}",
                 "tasks run on the LocalExecutor natively (MWAA: Celery on SQS)"]
        if state.get("mwaa_url"):
            notes.append(f"MWAA API: {state['mwaa_url']} (environment "
                         f"{self.project.environment_name}, DAGs from the "
                         f"{state.get('dags_from')}; `mwaa-kit promote --target local`)")
        if state.get("web_url"):
            notes.append(f"web server (MWAA's WebserverUrl, web login): {state['web_url']}; "
                         f"trust its CA {self.web_ca_file()} with `curl --cacert`, or "
                         f"REQUESTS_CA_BUNDLE / AWS_CA_BUNDLE={self.ca_bundle} (system CAs "
                         "included)")
        if runs_as_root:
            notes.append(f"runs as root: {ROOT_NOTE}")
        return EnvironmentStatus(
            runtime=self.name,
            running=bool(components) and all(c.running for c in components),
            airflow_version=state.get("airflow_version"),
            components=components,
            endpoints=endpoints,
            notes=tuple(notes),
            options=UpOptions(dags_from=state.get("dags_from") or "project"),
            details={
                "executor": EXECUTOR,
                "executor_note": "natively tasks run on the LocalExecutor; MWAA runs them "
                                 "on Celery workers fed by SQS (use the compose runtime "
                                 "for that)",
                "database": state.get("database"),
                "ui_url": state.get("ui_url"),
                "mwaa_api_url": state.get("mwaa_url"),
                "web_url": state.get("web_url"),
                "web_ca_file": str(self.web_ca_file()),
                "ca_bundle": str(self.ca_bundle),
                "dags_from": state.get("dags_from"),
                "processes": {c.name: {"pid": c.pid, "alive": c.running, "port": c.port,
                                       "log": c.where} for c in components},
                "runs_as_root": runs_as_root,
                **({"runs_as_root_note": ROOT_NOTE} if runs_as_root else {}),
            },
        )

    def web_ca_file(self) -> Path:
        """The kit's CA that signs the web server origin's certificate."""
        return control_plane.tls_dir(self.project) / tls.CA_FILE

    # ------------------------------------------------------------------- up
    def up(self, options: UpOptions = DEFAULT_OPTIONS) -> EnvironmentStatus:
        """Bring the environment up; a second call while it runs changes nothing.
        `options.dags_from`: "project" links the project's dags/ live; "bucket" mirrors the
        environment bucket's dags/, so only promoted DAGs run, as on MWAA."""
        current = self.status()
        alive = [c for c in current.components if c.running]
        if current.running and current.airflow_version == self.version.airflow_version:
            self.report("The local environment is already up")
            return current
        if current.running:  # mwaa-kit.toml now asks for another version
            self.report(f"Stopping Airflow {current.airflow_version} to switch to "
                        f"{self.version.airflow_version}")
            self.down()
        elif alive and current.airflow_version == self.version.airflow_version:
            self._restart_stopped()  # a crash of some: the rest keep their data
            return self.status()
        elif current.started:  # a half-finished start, or another version: clear it
            self.report("Stopping what is left of the previous run")
            self.down()

        if self._has_postgres():
            postgres.check_reachable(self.postgres_dir)
            if self._database_elsewhere():
                self.report(f"The metadata database lives in {self.postgres_dir}: the "
                            "`postgres` user cannot enter the project's folder")
        ports = self._choose_ports(options.ui_port)
        _, values = self._runtime_environment(ports)
        seed = aws_seed.load_seed(self.project.seed_file, values)
        bundle = bundle_from_project(self.project, self.state_dir / "build")
        if options.dags_from == "bucket":
            bundle = replace(bundle, dags_dir=control_plane.synced_dags_dir(self.project))
        prepared = self._prepare(bundle, ports)
        state = {
            "airflow_version": self.version.airflow_version,
            "airflow_home": str(self.home),
            "virtualenv": str(prepared.virtualenv.path),
            "ui_url": f"http://127.0.0.1:{ports['ui']}",
            "mwaa_url": mwaa_api_url(ports),
            "web_url": f"https://127.0.0.1:{ports['web']}",
            "ports": ports,
            "dags_from": options.dags_from,
            "runs_as_root": started_as_root(),
            "processes": [],
        }
        try:
            self._start_in_order(prepared, ports, seed, state)
        except BaseException:
            self._save_state(state)
            self.down()
            raise
        self._save_state(state)
        # Its ports stay reserved while the environment lives (held by its first service,
        # PostgreSQL), so a component restarted after a crash finds its port still free.
        port_reservations.hand_over(ports.values(), state["processes"][0]["pid"])
        return self.status()

    # ---------------------------------------------------------- down, logs
    def down(self, purge: bool = False) -> list[str]:
        """Stop every process, Airflow's first and the database last; `purge` then deletes
        the project's whole state folder (databases, emulated AWS, the stub's org, logs),
        and the database's folder when it lives elsewhere (postgres.cluster_dir)."""
        state = self._load_state()
        stopped = []
        for record in reversed(self._records(state)):
            if processes.stop(record):  # a crashed leader's orphans are stopped too
                stopped.append(record.name)
        if state:
            state["processes"] = []
            self._save_state(state)
        if purge:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            if self._database_elsewhere():
                shutil.rmtree(self.postgres_dir.parent, ignore_errors=True)
        return stopped

    def _database_elsewhere(self) -> bool:
        """Whether the cluster lives outside the project (postgres.cluster_dir)."""
        return not self.postgres_dir.is_relative_to(self.state_dir)

    def _log(self, name: str) -> Path:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        return self.logs_dir / f"{name}.log"

    def log_sources(self) -> dict[str, str]:
        """Each process's log file by its name (scheduler, aws, mwaa...)."""
        return {path.stem: str(path) for path in sorted(self.logs_dir.glob("*.log"))}

    def logs(self, component: str, follow: bool, lines: int,
             on_line: Callable[[str], None]) -> None:
        """The last `lines` lines of the component's log file, then new ones while `follow`."""
        path = self.log_sources()[component]
        processes.run(["tail", "-n", str(lines), *(["-F"] if follow else []), path],
                      on_line=on_line)

