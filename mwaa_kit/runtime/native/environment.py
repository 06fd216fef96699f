"""The native runtime: the MWAA contract run as host processes.

This is the embedded default wherever no container engine answers. It starts the AWS
emulator, PostgreSQL (MWAA's metadata database), the Salesforce stub when the seed file
asks for it, and Airflow's components as MWAA runs them: scheduler, DAG processor,
triggerer, and the API server (3.x) or webserver (2.x). Tasks run on Airflow's
LocalExecutor in place of Celery on SQS; `status` says so.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import boto3

from mwaa_kit import catalog
from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment, bundle_from_project, prepare
from mwaa_kit.contract.requirements import Virtualenv
from mwaa_kit.emulators.aws import seed as aws_seed
from mwaa_kit.emulators.aws.endpoint import client_environment
from mwaa_kit.emulators.salesforce import org as sf_org
from mwaa_kit.errors import KitError, log_tail
from mwaa_kit.project import Project, cache_dir
from mwaa_kit.runtime import port_reservations, processes, services
from mwaa_kit.runtime.interface import (
    DEFAULT_OPTIONS,
    Component,
    EnvironmentStatus,
    UpOptions,
)
from mwaa_kit.runtime.native import control_plane, postgres

EXECUTOR = "LocalExecutor"
DEFAULT_UI_PORT = 8080
_IN_AIRFLOW = Path(__file__).resolve().parent.parent / "in_airflow"
_CONTROL_PLANE = {"mwaa", "dags-sync"}
_NO_LOG_SERVER = {"scheduler": ("--skip-serve-logs",), "triggerer": ("--skip-serve-logs",)}

ROOT_NOTE = ("Airflow and its tasks run as root here, unlike MWAA, whose image runs them as "
             "the user `airflow`: a task that writes outside /usr/local/airflow and /tmp "
             "(or pip-installs at run time) works here and fails on MWAA. The compose runtime "
             "runs them as MWAA does.")


def started_as_root() -> bool:
    """Whether `up` starts Airflow as root (native processes run as whoever runs `up`)."""
    return os.geteuid() == 0


class EnvironmentNotRunningError(KitError, RuntimeError):
    """A command needs the local environment, and it is not up."""


class AirflowCommandError(KitError, RuntimeError):
    """An Airflow CLI command the environment runs for itself (migration, the admin user)
    failed."""


class NativeEnvironment:
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
        self.postgres_dir = self.native_dir / "postgres"
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
                     (("ui", "ui_url"), ("mwaa_api", "mwaa_url")) if state.get(key)}
        aws = next((c for c in components if c.name == "aws" and c.port), None)
        if aws:
            endpoints["aws"] = f"http://127.0.0.1:{aws.port}"
        notes = [f"login: admin, password in {self.password_file()}",
                 "tasks run on the LocalExecutor natively (MWAA: Celery on SQS)"]
        if state.get("mwaa_url"):
            notes.append(f"MWAA API: {state['mwaa_url']} (environment "
                         f"{self.project.environment_name}, DAGs from the "
                         f"{state.get('dags_from')}; `mwaa-kit promote --target local`)")
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
                "dags_from": state.get("dags_from"),
                "processes": {c.name: {"pid": c.pid, "alive": c.running, "port": c.port,
                                       "log": c.where} for c in components},
                "runs_as_root": runs_as_root,
                **({"runs_as_root_note": ROOT_NOTE} if runs_as_root else {}),
            },
        )

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
            "mwaa_url": f"http://127.0.0.1:{ports['mwaa']}",
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

    def _prepare(self, bundle, ports: dict[str, int]) -> PreparedEnvironment:
        """Run the MWAA contract on `bundle` in this environment's AIRFLOW_HOME."""
        runtime_env, _ = self._runtime_environment(ports)
        self._write_ca_bundle()
        prepared = prepare(
            bundle, self.version, self.project.environment_name, self.project.region,
            self.home, cache_dir(), self._runtime_options(ports), runtime_env, self.report,
        )
        self._save_airflow_env(prepared.base_env)
        return prepared

    def _choose_ports(self, ui_port: int | None) -> dict[str, int]:
        if ui_port and not processes.port_is_free(ui_port):
            raise processes.PortInUseError(
                f"Port {ui_port} is in use. Pick another with --port, or omit --port to "
                "let mwaa-kit choose a free one."
            )
        ui = port_reservations.reserve(ui_port or DEFAULT_UI_PORT)
        if ui_port and ui != ui_port:  # free, but another `up` chose it first
            raise processes.PortInUseError(
                f"Port {ui_port} is being taken by another `mwaa-kit up`. Pick another with "
                "--port, or omit --port to let mwaa-kit choose a free one.")
        if not ui_port and ui != DEFAULT_UI_PORT:
            self.report(f"Port {DEFAULT_UI_PORT} is in use; the UI will listen on {ui}")
        return {"ui": ui, **{name: port_reservations.reserve()
                             for name in ("aws", "postgres", "salesforce", "mwaa")}}

    def _runtime_environment(self, ports: dict[str, int]) -> tuple[dict, dict]:
        """Variables pointing Airflow's AWS and Salesforce clients at the emulators."""
        endpoint = f"http://127.0.0.1:{ports['aws']}"
        env = {
            **client_environment(endpoint, self.project.region),
            **postgres.client_env(self.postgres_dir),
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
        }
        values = {
            "salesforce_domain": f"127.0.0.1:{ports['salesforce']}/#",
            "salesforce_port": str(ports["salesforce"]),
            "aws_endpoint_url": endpoint,
            "region": self.project.region,
            "environment_name": self.project.environment_name.lower(),
        }
        return env, values

    def _runtime_options(self, ports: dict[str, int]) -> dict[str, str]:
        """Airflow options only the native launcher knows."""
        options = {
            "core.executor": EXECUTOR,
            "database.sql_alchemy_conn": self._database_url(ports),
            "core.parallelism": str(
                catalog.mwaa().environment_classes[self.project.environment_class]
            ),
            self.version.rescan_option: "5",
            "scheduler.min_file_process_interval": "5",
        }
        if self.version.major >= 3:
            options.update({
                "api.host": "127.0.0.1",
                "api.port": str(ports["ui"]),
                "api.base_url": f"http://127.0.0.1:{ports['ui']}",
                "core.execution_api_server_url": f"http://127.0.0.1:{ports['ui']}/execution/",
                "core.simple_auth_manager_users": "admin:admin",
                "core.simple_auth_manager_passwords_file": str(self.password_file()),
                "api.workers": "1",  # one laptop user: spare the cores for the scheduler
            })
        else:
            options.update({
                "webserver.web_server_host": "127.0.0.1",
                "webserver.web_server_port": str(ports["ui"]),
                "webserver.base_url": f"http://127.0.0.1:{ports['ui']}",
                "webserver.workers": "1",
            })
        return options

    def _has_postgres(self) -> bool:
        try:
            postgres.find_bin_dir()
        except postgres.PostgresUnavailableError:
            return False
        return True

    def _database_url(self, ports: dict[str, int]) -> str:
        if self._has_postgres():
            return postgres.url(ports["postgres"], self.database)
        self.report("WARNING: no PostgreSQL server found (install it: `apt-get install "
                    "postgresql`). Falling back to SQLite, which MWAA never uses.")
        return f"sqlite:///{self.home / 'airflow.db'}"

    def _start_in_order(self, prepared: PreparedEnvironment, ports: dict,
                        seed: aws_seed.Seed, state: dict) -> None:
        """Start everything, the slowest first: the webserver (seconds of CPU building its
        app) as soon as the database answers, so it works while the AWS emulator starts and
        is seeded; the other components only then, as a DAG may read a seeded variable while
        it is parsed; what no component needs to start (the stub, the control plane) last,
        while the components start. `up` ends when the UI answers."""
        records = state["processes"]

        def started(record: dict) -> None:
            records.append(record)
            self._save_state(state)

        if self._has_postgres():
            started(self._start_postgres(ports))
            state["database"] = "postgresql"
        else:
            state["database"] = "sqlite"
        self._init_airflow(prepared, state)
        webserver = self.version.webserver_component
        started(self._start_component(prepared, webserver, ports))
        started(self._start_aws(ports, seed, state))
        for name, _, _ in self.components():
            if name != webserver:
                started(self._start_component(prepared, name, ports))
        if seed.salesforce:
            started(self._start_salesforce(ports["salesforce"], seed.salesforce))
        self._write_ca_bundle()
        self._start_control_plane(ports, state)
        self._wait_for_ui(state)

    # ------------------------------------------------------------- services

    def _start_postgres(self, ports: dict) -> dict:
        self.report("Starting PostgreSQL (the metadata database)")
        return postgres.start(self.postgres_dir, self._log("postgres"), ports["postgres"],
                              self.database).to_dict()

    def _start_aws(self, ports: dict, seed: aws_seed.Seed, state: dict) -> dict:
        """The AWS emulator, its account kept in the state folder across restarts and
        crashes, then seeded (seeding again changes nothing but the seeded values)."""
        self.report(f"Starting the AWS emulator ({self.project.aws_emulator})")
        if self.project.aws_emulator == "localstack":
            record = services.start_localstack(self.state_dir, cache_dir(), self._log("aws"),
                                               ports["aws"])
        else:
            record = services.start_moto(self._log("aws"), ports["aws"],
                                         state=self.aws_state_file)
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing",
            region_name=self.project.region,
        )
        self.report("Seeding buckets, connections and variables")
        state["seeded"] = aws_seed.apply_seed(seed, session, f"http://127.0.0.1:{ports['aws']}")
        return record.to_dict()

    def _start_salesforce(self, port: int, settings: dict) -> dict:
        self.report("Starting the Salesforce stub")
        stub_dir = self.state_dir / "salesforce"
        if not (stub_dir / "data.sqlite").exists():  # seeded once, all or nothing
            self.report("Seeding the Salesforce stub's org")
            sf_org.seed_new_org(stub_dir, settings.get("objects", {}), settings.get("seed", 42))
        return services.start_salesforce_stub(self._log("salesforce"), port,
                                              stub_dir).to_dict()

    def _start_control_plane(self, ports: dict, state: dict) -> None:
        state["processes"].extend(self._control_plane_records(ports, state))
        self._save_state(state)

    def _control_plane_records(self, ports: dict, state: dict) -> list[dict]:
        records = control_plane.start(
            self.project, f"http://127.0.0.1:{ports['aws']}", ports["mwaa"], state["ui_url"],
            state["dags_from"], self.logs_dir, self.report,
        )
        return [record.to_dict() for record in records]

    def _write_ca_bundle(self) -> None:
        """The system's CAs plus the Salesforce stub's, for Airflow's HTTPS clients."""
        system = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
        parts = [system.read_text()] if system.exists() else []
        stub_ca = self.state_dir / "salesforce" / "ca.pem"
        if stub_ca.exists():
            parts.append(stub_ca.read_text())
        self.ca_bundle.parent.mkdir(parents=True, exist_ok=True)
        self.ca_bundle.write_text("\n".join(parts))

    # -------------------------------------------------------------- airflow
    def password_file(self) -> Path:
        """The JSON file of the UI's admin password (Airflow 3's simple auth manager reads it),
        shared by every Airflow version of the project."""
        return self.state_dir / "admin-password.json"

    def admin_password(self) -> str:
        """The UI password of `admin`, generated once and kept in the state dir (0600)."""
        path = self.password_file()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"admin": secrets.token_urlsafe(12)}))
            path.chmod(0o600)
        return json.loads(path.read_text())["admin"]

    def _init_airflow(self, prepared: PreparedEnvironment, state: dict) -> None:
        """Migrate the database and create the UI user, unless this database was already
        set up by this very virtualenv (a warm `up` skips a few seconds of Airflow CLI)."""
        # Kept inside the data folder so it disappears with the data it describes.
        marker = (self.postgres_dir
                  / f"mwaa-kit-{self.database}-{prepared.virtualenv.path.name}")
        if state.get("database") == "postgresql" and marker.exists():
            return
        self.report("Migrating the metadata database")
        self._airflow(prepared, "db", "migrate")
        password = self.admin_password()
        if self.version.major == 2:
            self._airflow(prepared, "users", "create", "--role", "Admin", "--username",
                          "admin", "--password", password, "--firstname", "Local",
                          "--lastname", "Admin", "--email", "admin@localhost",
                          ok_if="already exist")
        if state.get("database") == "postgresql":
            marker.touch()

    def _airflow(self, prepared: PreparedEnvironment, *arguments: str, ok_if: str = "") -> str:
        result = subprocess.run(
            prepared.airflow(*arguments), env=prepared.env("scheduler"), cwd=self.home,
            capture_output=True, text=True,
        )
        output = result.stdout + result.stderr
        with self._log("airflow-cli").open("a") as log:
            log.write(f"$ airflow {' '.join(arguments[:2])}\n{output}\n")
        if result.returncode != 0 and not (ok_if and ok_if in output):
            raise AirflowCommandError(
                f"`airflow {' '.join(arguments[:2])}` failed:\n"
                + "\n".join(output.strip().splitlines()[-20:]),
                hint=f"Its whole output is in {self._log('airflow-cli')}.")
        return output

    def components(self) -> list[tuple[str, list[str], str]]:
        """(name, airflow arguments, MWAA container) of each process natively run: the
        catalog's scheduler and webserver containers (the LocalExecutor replaces workers).

        The scheduler and the triggerer run without their log servers: those bind every
        interface on fixed ports (8793, 8794) with no setting to change either, and on one
        host the UI reads the task logs from their files anyway."""
        return [(command[1], [*command[1:], *_NO_LOG_SERVER.get(command[1], ())], container)
                for container in ("scheduler", "webserver")
                for command in self.version.components[container]]

    def _start_components(self, prepared: PreparedEnvironment, ports: dict, state: dict):
        for name, _, _ in self.components():
            state["processes"].append(self._start_component(prepared, name, ports))
            self._save_state(state)
        self._wait_for_ui(state)

    def _start_component(self, prepared: PreparedEnvironment, name: str, ports: dict) -> dict:
        arguments, container = next((arguments, container) for component, arguments, container
                                    in self.components() if component == name)
        self.report(f"Starting the {name}")
        masked = [sys.executable, "-m", "mwaa_kit.runtime.masked_output", "--project",
                  str(self.project.root), "--", *prepared.airflow(*arguments)]
        return processes.start(
            name, masked, env=prepared.env(container), log=self._log(name), cwd=prepared.home,
            port=ports["ui"] if name == self.version.webserver_component else None,
        ).to_dict()

    def _wait_for_ui(self, state: dict) -> None:
        self.report("Waiting for the UI to answer")
        ui = next(record for record in self._records(state)
                  if record.name == self.version.webserver_component)
        processes.wait_for_http(state["ui_url"] + self.version.health_path, 240,
                                ui)

    def _restart_stopped(self) -> dict:
        """Start again only what stopped (a crash, a kill): the rest keeps running, and
        with it the data it holds. The control plane's two processes start as a pair."""
        state = self._load_state()
        records = self._records(state)
        stopped = {record.name for record in records if not processes.is_alive(record)}
        if stopped & _CONTROL_PLANE:
            stopped |= _CONTROL_PLANE & {record.name for record in records}
        if "postgres" in stopped:  # Airflow's processes die of a lost database, sooner or
            stopped |= {name for name, _, _ in self.components()}  # later: start them anew
        self.report(f"Restarting what stopped: {', '.join(sorted(stopped))}")
        for record in records:
            if record.name in stopped:
                processes.stop(record)  # a crashed leader's orphans (workers, children)
        ports = state["ports"]
        _, values = self._runtime_environment(ports)
        seed = aws_seed.load_seed(self.project.seed_file, values)
        prepared = self._prepared_from(state)
        starters = {
            "postgres": lambda: [self._start_postgres(ports)],
            "aws": lambda: [self._start_aws(ports, seed, state)],
            "salesforce": lambda: [self._start_salesforce(ports["salesforce"],
                                                          seed.salesforce)],
            "mwaa": lambda: self._control_plane_records(ports, state),
            **{name: (lambda name=name: [self._start_component(prepared, name, ports)])
               for name, _, _ in self.components()},
        }
        restarted, remaining = [], list(state["processes"])
        try:
            while remaining:
                entry = remaining[0]
                if entry["name"] not in stopped:
                    restarted.append(entry)
                elif entry["name"] in starters:  # dags-sync comes back with mwaa
                    restarted.extend(starters[entry["name"]]())
                remaining.pop(0)
        finally:  # a start that failed leaves the rest recorded, for `down` to stop
            state["processes"] = restarted + remaining
            self._save_state(state)
        if self.version.webserver_component in stopped:
            self._wait_for_ui(state)
        return state

    def _stop_components(self, state: dict) -> None:
        """Stop Airflow's processes (not the services) and forget their records."""
        names = {name for name, _, _ in self.components()}
        for record in reversed(self._records(state)):
            if record.name in names:
                processes.stop(record)
        state["processes"] = [entry for entry in state["processes"]
                              if entry["name"] not in names]
        self._save_state(state)

    # ------------------------------------------------------------- updates
    def apply_bundle(self, bundle: Bundle, airflow_version: str) -> None:
        """Re-apply an MWAA environment's bundle (an UpdateEnvironment) to the running
        environment: run the contract on it, then restart Airflow's components on the
        result. On any failure the previous plugins, requirements, startup script and
        processes are put back and the error is raised (the update is UPDATE_FAILED; MWAA
        too keeps running the previous versions)."""
        if airflow_version != self.version.airflow_version:
            raise RuntimeError(
                f"the local environment runs Airflow {self.version.airflow_version}; to "
                f"try {airflow_version}, set it in mwaa-kit.toml and run `mwaa-kit up`.")
        previous = self.prepared()
        state = self._load_state()
        ports = state["ports"]
        bundle = replace(bundle, dags_dir=self.home.joinpath("dags").resolve())
        saved = self._save_home()
        try:
            self.report("Applying the environment's new bundle with the MWAA contract")
            try:
                prepared = self._prepare(bundle, ports)
            except BaseException:  # the components still run the previous versions
                self._put_back(saved, previous)
                raise
            self.report("Restarting Airflow's components on it")
            self._stop_components(state)
            try:
                state["virtualenv"] = str(prepared.virtualenv.path)
                self._start_components(prepared, ports, state)
            except BaseException:
                self._stop_components(state)
                self._put_back(saved, previous)
                state["virtualenv"] = str(previous.virtualenv.path)
                self._start_components(previous, ports, state)
                raise
        finally:
            shutil.rmtree(saved, ignore_errors=True)
        self._save_state(state)

    def _put_back(self, saved: Path, previous: PreparedEnvironment) -> None:
        self.report("The update failed: putting the previous versions back")
        self._restore_home(saved)
        self._save_airflow_env(previous.base_env)

    # What the contract rewrites in AIRFLOW_HOME (dags/ is a link, logs/ is kept).
    _BUNDLE_FOLDERS = ("plugins", "requirements", "startup")

    def _save_home(self) -> Path:
        saved = self.native_dir / "home-before-update"
        shutil.rmtree(saved, ignore_errors=True)
        for folder in self._BUNDLE_FOLDERS:
            if (self.home / folder).is_dir():
                shutil.copytree(self.home / folder, saved / folder, symlinks=True)
        saved.mkdir(parents=True, exist_ok=True)
        return saved

    def _restore_home(self, saved: Path) -> None:
        for folder in self._BUNDLE_FOLDERS:
            shutil.rmtree(self.home / folder, ignore_errors=True)
            if (saved / folder).is_dir():
                shutil.copytree(saved / folder, self.home / folder, symlinks=True)

    # ---------------------------------------------------------- down, logs
    def down(self, purge: bool = False) -> list[str]:
        """Stop every process, Airflow's first and the database last; `purge` then deletes
        the project's whole state folder (databases, emulated AWS, the stub's org, logs)."""
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
        return stopped

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

    # ---------------------------------------------------------------- runs
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

    def airflow(self, *arguments: str, on_line: Callable[[str], None] | None = None
                ) -> subprocess.CompletedProcess:
        """A one-off Airflow CLI command with the environment of a worker; its output
        captured, or handed to `on_line` a line at a time."""
        prepared = self.prepared()
        return processes.run(prepared.airflow(*arguments), env=prepared.env("worker"),
                             cwd=prepared.home, on_line=on_line)

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


def parse_run_states(result: subprocess.CompletedProcess) -> dict:
    """The JSON line run_states.py prints, whatever else Airflow logged around it."""
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("MWAA_KIT_JSON:"):
            return json.loads(line.removeprefix("MWAA_KIT_JSON:"))
    raise RuntimeError(f"could not read the run's state:\n{result.stderr[-2000:]}")
