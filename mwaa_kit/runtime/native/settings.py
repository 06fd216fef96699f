"""What the native environment's processes are told: their ports, the variables and the
Airflow options that point them at the emulators, the local MWAA API and the metadata
database, the CA bundle their HTTPS clients trust, and the UI's admin password.

A part of `NativeEnvironment` (environment.py), kept apart as one concern; it reads the
paths `NativeEnvironment.__init__` sets.
"""

from __future__ import annotations

import json
import secrets
import ssl
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.aws.endpoint import client_environment
from mwaa_kit.emulators.mwaa import server as mwaa_server
from mwaa_kit.runtime import port_reservations, processes
from mwaa_kit.runtime.native import control_plane, postgres

EXECUTOR = "LocalExecutor"
DEFAULT_UI_PORT = 8080


def mwaa_api_url(ports: dict[str, int]) -> str:
    """The local MWAA API's URL: its port is reserved with the others before anything
    starts, so Airflow's processes know it even though the API starts after them."""
    return f"http://127.0.0.1:{ports['mwaa']}"


class EnvironmentSettings:
    """Ports, variables, Airflow options, the database URL, the CA bundle, the password."""

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
                             for name in ("aws", "postgres", "salesforce", "mwaa", "web")}}

    def _runtime_environment(self, ports: dict[str, int]) -> tuple[dict, dict]:
        """Variables pointing Airflow's AWS and Salesforce clients at the emulators, and its
        `mwaa` clients at the local MWAA API: a task that drives an MWAA environment (the
        Amazon provider's MwaaHook, its operators and sensors) reaches this one, as on MWAA."""
        endpoint = f"http://127.0.0.1:{ports['aws']}"
        env = {
            **client_environment(endpoint, self.project.region),
            **mwaa_server.client_environment(mwaa_api_url(ports), self.project.region),
            **mwaa_server.airflow_connection_environment(self.project.version),
            **postgres.client_env(self.postgres_dir),
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            "AWS_CA_BUNDLE": str(self.ca_bundle),
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

    def _write_ca_bundle(self) -> None:
        """The system's CAs plus the kit's (the web server origin's, made now if need be,
        and the Salesforce stub's once it has one), for Airflow's HTTPS clients: requests
        (REQUESTS_CA_BUNDLE) and botocore (AWS_CA_BUNDLE)."""
        system = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")
        parts = [system.read_text()] if system.exists() else []
        parts.append(tls.ensure_ca(control_plane.tls_dir(self.project)).read_text())
        stub_ca = self.state_dir / "salesforce" / "ca.pem"
        if stub_ca.exists():
            parts.append(stub_ca.read_text())
        self.ca_bundle.parent.mkdir(parents=True, exist_ok=True)
        self.ca_bundle.write_text("\n".join(parts))

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
