"""Starting the native environment's processes: in order on `up`, and only what stopped
after a crash.

A part of `NativeEnvironment` (environment.py), kept apart as one concern; it reads the
paths `NativeEnvironment.__init__` sets and the settings of settings.py.
"""

from __future__ import annotations

import subprocess
import sys

import boto3

from mwaa_kit.contract.bundle import PreparedEnvironment, prepare
from mwaa_kit.emulators.aws import seed as aws_seed
from mwaa_kit.emulators.salesforce import org as sf_org
from mwaa_kit.errors import KitError
from mwaa_kit.project import cache_dir
from mwaa_kit.runtime import port_reservations, processes, services
from mwaa_kit.runtime.native import control_plane, postgres
from mwaa_kit.runtime.native.settings import EnvironmentSettings

_CONTROL_PLANE = {"mwaa", "dags-sync"}
_NO_LOG_SERVER = {"scheduler": ("--skip-serve-logs",), "triggerer": ("--skip-serve-logs",)}


class AirflowCommandError(KitError, RuntimeError):
    """An Airflow CLI command the environment runs for itself (migration, the admin user)
    failed."""


class Launcher(EnvironmentSettings):
    """The services, the control plane and Airflow's components, started and restarted."""

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
        if "web" not in ports:  # recorded by a kit that served no web origin yet
            ports["web"] = port_reservations.reserve()
            state["web_url"] = f"https://127.0.0.1:{ports['web']}"
        records = control_plane.start(
            self.project, f"http://127.0.0.1:{ports['aws']}", ports["mwaa"], ports["web"],
            state["ui_url"], state["dags_from"], self.logs_dir, self.report,
        )
        return [record.to_dict() for record in records]

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
        # The ports' reservations died with the first service when it stopped: hold them
        # again while the components restart on them, then hand them to the new one.
        port_reservations.reclaim(state["ports"].values())
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
        port_reservations.hand_over(state["ports"].values(), state["processes"][0]["pid"])
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
