"""The compose runtime, host side: run docker-compose.yml with Docker Compose v2 or
podman-compose, for the project in the current folder.

The containers apply the contract themselves (see entrypoint.py); this side only
prepares the bundle they mount (plugins.zip built like `package` builds it, the
requirements folder, seed.toml), writes the variables the compose file reads, and runs
the engine.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from mwaa_kit.contract.configuration import refuse_forced_overrides
from mwaa_kit.contract.plugins import build_plugins_zip
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.aws.seed import check_seed_file
from mwaa_kit.emulators.mwaa.server import HEALTH_PATH
from mwaa_kit.emulators.salesforce import org as sf_org
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project
from mwaa_kit.runtime import port_reservations, processes
from mwaa_kit.runtime.compose import control_plane, images
from mwaa_kit.runtime.compose.engine import (
    ContainerEngineUnavailableError,
    compose_command,
    is_podman_compose,
)
from mwaa_kit.runtime.compose.images import COMPOSE_FILE
from mwaa_kit.runtime.compose.volumes import TLS_DIR
from mwaa_kit.runtime.interface import (
    DEFAULT_OPTIONS,
    Component,
    EnvironmentStatus,
    UpOptions,
)
from mwaa_kit.runtime.mwaa_updates import create_request, source_bucket_name
from mwaa_kit.runtime.native.postgres import database_name
from mwaa_kit.runtime.run_states import parse_run_states

KIT_SOURCE = Path(__file__).resolve().parents[3]
WEB_CA = f"{TLS_DIR}/{tls.CA_FILE}"  # in the stack's state volume
_LONG_RUNNING = {"scheduler", "webserver", "worker", "mwaa", "dags-sync"}


class ComposeError(KitError, RuntimeError):
    """A compose command failed; the message carries its output and what to try."""


def _hint(output: str) -> str:
    if "moby/buildkit" in output:
        return ("\nCompose v2 builds with BuildKit, which this engine (podman's Docker API?) "
                "does not run: set DOCKER_BUILDKIT=0 to build the classic way.")
    if "container registry" in output or "pull access denied" in output:
        return ("\nThe base images cannot be pulled from a registry. Point the builds at "
                f"images you have ({', '.join(images.BASE_IMAGE_VARIABLES)}; "
                "scripts/setup-containers makes local ones), or run natively with "
                "`--runtime native`.")
    return ""


class ComposeEnvironment:
    """One project's stack, named after its environment (the compose implementation of
    `mwaa_kit.runtime.interface.Runtime`)."""

    name = "compose"

    def __init__(self, project: Project, report: Callable[[str], None] = lambda m: None):
        self.project = project
        self.report = report
        self.version = project.version
        self.compose_dir = project.state_dir / "compose"
        self.bundle_dir = self.compose_dir / "bundle"
        self.env_file = self.compose_dir / "compose.env"
        self.compose_project = "mwaa-kit-" + project.environment_name.lower()

    @cached_property
    def command(self) -> list[str] | None:
        """compose_command(), asked once: it starts the engines' probes (`docker info`...)
        and `up` polls containers() until the webserver serves."""
        return compose_command()

    def _compose(self, *arguments: str, check: bool = True,
                 on_line: Callable[[str], None] | None = None):
        """Run compose on the stack, its output captured or handed to `on_line` by line."""
        command = self.command
        if command is None:
            raise ContainerEngineUnavailableError(
                "No container engine answers: install Docker (with Compose v2) or podman and "
                "podman-compose (or Compose v2 with DOCKER_HOST at `podman system service`'s "
                "socket), or use the native runtime (`--runtime native`)."
            )
        argv = [*command, "-f", str(COMPOSE_FILE), "-p", self.compose_project, "--env-file",
                str(self.env_file), *arguments]
        result = processes.run(argv, cwd=self.project.root, on_line=on_line)
        if check and result.returncode != 0:
            output = (result.stdout or "") + (result.stderr or "")
            raise ComposeError(f"`compose {' '.join(arguments)}` failed:\n{output[-3000:]}"
                               + _hint(output))
        return result

    # ------------------------------------------------------------------ up
    def up(self, options: UpOptions = DEFAULT_OPTIONS) -> EnvironmentStatus:
        """Build the images and start the stack with `options.workers` Celery workers,
        waiting (up to 15 minutes: requirements install first) until the webserver serves."""
        refuse_forced_overrides(self.version, self.project.airflow_config)
        self._write_bundle()
        ports = {"ui": port_reservations.reserve(options.ui_port or 8080),
                 "aws": port_reservations.reserve(), "salesforce": port_reservations.reserve(),
                 "mwaa": port_reservations.reserve(), "web": port_reservations.reserve()}
        self._write_env_file(ports, options.workers, options.dags_from)
        self.report("Building the images (reused when nothing changed)")
        self._compose("build")
        self.report(f"Starting the stack with {options.workers} Celery worker(s)")
        self._compose("up", "-d", "--scale", f"worker={options.workers}")
        url = f"http://127.0.0.1:{ports['ui']}"
        self.report("Waiting for the webserver (the containers install requirements first)")
        self._wait_until_serving(url + self.version.health_path, timeout=900)
        self.report("Publishing the project as an MWAA environment (source bucket, MWAA API)")
        mwaa_url = _host_url(ports["mwaa"])
        self._wait_until_serving(mwaa_url + HEALTH_PATH, timeout=120)
        self._copy_web_ca()
        control_plane.publish(self.project, _host_url(ports["aws"]), mwaa_url)
        state = {"runtime": "compose", "airflow_version": self.version.airflow_version,
                 "ui_url": url, "mwaa_url": mwaa_url,
                 "web_url": f"https://127.0.0.1:{ports['web']}", "ports": ports,
                 "workers": options.workers, "dags_from": options.dags_from}
        self._state_file.write_text(json.dumps(state, indent=2))
        return self.status()

    @property
    def _state_file(self) -> Path:
        return self.compose_dir / "state.json"

    def _state(self) -> dict:
        return json.loads(self._state_file.read_text()) if self._state_file.exists() else {}

    @property
    def web_ca_file(self) -> Path:
        """The host's copy of the kit's CA that signs the web server origin's certificate."""
        return self.compose_dir / "web-ca.pem"

    def _copy_web_ca(self) -> None:
        """Copy the CA out of the stack's state volume (where the containers made it, and
        trust it), so host clients can trust the origin: `curl --cacert`, requests."""
        pem = self._compose("exec", "-T", "mwaa", "cat", WEB_CA).stdout
        if "BEGIN CERTIFICATE" not in pem:
            raise ComposeError(f"the mwaa container has no CA at {WEB_CA}.",
                               hint="`mwaa-kit logs mwaa` shows why.")
        self.web_ca_file.write_text(pem)

    def _wait_until_serving(self, url: str, timeout: float) -> None:
        """Wait for the webserver, failing as soon as a long-running container exits
        (a failed install or startup script stops them all)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                processes.wait_for_http(url, 10)
                return
            except TimeoutError:
                exited = sorted({c["service"] for c in self.containers()
                                 if c["state"] == "exited" and c["service"] in _LONG_RUNNING})
                if exited:
                    raise ComposeError(
                        f"the {', '.join(exited)} container(s) exited while starting.",
                        hint="`mwaa-kit logs init` and `mwaa-kit logs scheduler` show why.",
                    ) from None
                if time.monotonic() > deadline:
                    raise

    def _write_bundle(self) -> None:
        """What the containers mount at /mwaa/bundle: MWAA's bundle plus seed.toml."""
        shutil.rmtree(self.bundle_dir, ignore_errors=True)
        (self.bundle_dir / "requirements").mkdir(parents=True)
        if self.project.plugins_dir.is_dir():
            build_plugins_zip(self.project.plugins_dir, self.bundle_dir / "plugins.zip")
        for source in (self.project.requirements_file, self.project.startup_script):
            if source.exists():
                shutil.copyfile(source, self.bundle_dir / "requirements" / source.name)
        if self.project.seed_file.exists():
            shutil.copyfile(self.project.seed_file, self.bundle_dir / "seed.toml")

    def _write_env_file(self, ports: dict[str, int], workers: int,
                        dags_from: str = "project") -> None:
        key_file = self.compose_dir / "fernet-key"
        if not key_file.exists():
            key_file.write_text(_fernet_key())
            key_file.chmod(0o600)
        values = {
            "AIRFLOW_VERSION": self.version.airflow_version,
            "MWAA_KIT_DATABASE": database_name(self.version.airflow_version),
            "MWAA_KIT_SOURCE": str(KIT_SOURCE),
            "MWAA_KIT_PROJECT_DIR": str(self.project.root),
            "MWAA_KIT_ENVIRONMENT_NAME": self.project.environment_name,
            "MWAA_KIT_SEED_ENVIRONMENT_NAME": self.project.environment_name.lower(),
            "MWAA_KIT_ENVIRONMENT_CLASS": self.project.environment_class,
            "MWAA_KIT_AIRFLOW_CONFIG": json.dumps(self.project.airflow_config),
            "MWAA_KIT_WORKERS": str(workers),
            "MWAA_KIT_FERNET_KEY": key_file.read_text().strip(),
            "MWAA_KIT_UI_PORT": str(ports["ui"]),
            "MWAA_KIT_AWS_PORT": str(ports["aws"]),
            "MWAA_KIT_SALESFORCE_PORT": str(ports["salesforce"]),
            "MWAA_KIT_MWAA_PORT": str(ports["mwaa"]),
            "MWAA_KIT_WEB_PORT": str(ports["web"]),
            "AWS_REGION": self.project.region,
            "MWAA_KIT_RUN_ID": secrets.token_hex(6),
        }
        wait_for = ["postgres:5432", "localstack:4566"]
        profiles = []
        if dags_from == "bucket":  # dags/ is the dags-sync service's mirror of the bucket
            profiles.append("dags-from-bucket")
            bucket = source_bucket_name(self.project)
            values.update({"MWAA_KIT_DAGS_MOUNT": "synced-dags",
                           "MWAA_KIT_SOURCE_BUCKET": bucket,
                           "MWAA_KIT_DAGS_PREFIX": create_request(self.project,
                                                                  bucket)["DagS3Path"]})
        salesforce = self._salesforce_seed()
        if salesforce:
            profiles.append("salesforce")
            values["MWAA_KIT_SALESFORCE_SEED"] = " ".join(sf_org.seed_arguments(
                salesforce.get("objects", {}), salesforce.get("seed", 42)))
            wait_for.append("salesforce:8443")
        if profiles:
            values["COMPOSE_PROFILES"] = ",".join(profiles)
        values["MWAA_KIT_WAIT_FOR"] = ",".join(wait_for)
        values.update(images.base_images())
        if os.environ.get("LOCALSTACK_AUTH_TOKEN"):
            values["LOCALSTACK_AUTH_TOKEN"] = os.environ["LOCALSTACK_AUTH_TOKEN"]
        self.env_file.touch(mode=0o600)
        self.env_file.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()))

    def _salesforce_seed(self) -> dict:
        """seed.toml's [salesforce] table (empty when the project needs no stub)."""
        return check_seed_file(self.project.seed_file).salesforce

    def aws_endpoint(self) -> str:
        """The AWS emulator's URL on the host, from the port `up` chose."""
        port = self._state().get("ports", {}).get("aws")
        if port is None:
            raise KitError("The compose stack was never brought up.",
                           hint="Start it with `mwaa-kit up`.")
        return _host_url(port)

    def mwaa_endpoint(self) -> str:
        """The stack's MWAA API (its mwaa service) on the host."""
        url = self._state().get("mwaa_url")
        if url is None:
            raise KitError("The compose stack serves no MWAA API: it was never brought up, "
                           "or by a kit that did not serve one.",
                           hint="Start it (again) with `mwaa-kit up`.")
        return url

    # ------------------------------------------------------- down, status
    def down(self, purge: bool = False) -> list[str]:
        """Stop and remove the stack; `purge` also deletes its volumes (database, virtualenvs,
        state, Salesforce data) and the project's state folder. Under podman-compose, also
        what its `down` leaves behind. Returns the services that were running."""
        running = sorted({c["service"] or c["name"] for c in self.containers()
                          if c["state"] == "running"}) if self.command else []
        if self.env_file.exists():
            # --remove-orphans: a dags-sync left by an `up --dags-from bucket` before
            self._compose("down", "--remove-orphans", *(["-v"] if purge else []),
                          check=False)
        if is_podman_compose(self.command or ["podman-compose"]):
            self._remove_podman_leftovers(purge)
        if purge:
            shutil.rmtree(self.project.state_dir, ignore_errors=True)
        return running

    def _remove_podman_leftovers(self, purge: bool) -> None:
        """podman-compose's down misses scaled replicas (and the volumes they hold) and
        leaves the network, which Compose v2 then refuses to reuse."""
        label = f"label=io.podman.compose.project={self.compose_project}"
        ids = subprocess.run(["podman", "ps", "-aq", "--filter", label],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["podman", "rm", "-f", "-t", "10", *ids], capture_output=True)
        networks = subprocess.run(["podman", "network", "ls", "-q", "--filter", label],
                                  capture_output=True, text=True).stdout.split()
        if networks:
            subprocess.run(["podman", "network", "rm", "-f", *networks], capture_output=True)
        if purge:
            volumes = subprocess.run(["podman", "volume", "ls", "-q", "--filter", label],
                                     capture_output=True, text=True).stdout.split()
            if volumes:
                subprocess.run(["podman", "volume", "rm", "-f", *volumes], capture_output=True)

    def containers(self) -> list[dict]:
        """name, service and state of each container of the stack."""
        if self.command and not is_podman_compose(self.command):
            out = self._compose("ps", "-a", "--format", "json", check=False).stdout
            return [{"name": r["Name"], "service": r["Service"], "state": r["State"]}
                    for r in _json_objects(out)]
        out = subprocess.run(
            ["podman", "ps", "-a", "--filter",
             f"label=io.podman.compose.project={self.compose_project}",
             "--format", "json"], capture_output=True, text=True).stdout
        return [{"name": r["Names"][0], "service": r["Labels"].get("com.docker.compose.service"),
                 "state": r["State"]} for r in json.loads(out or "[]")]

    @staticmethod
    def all_running(containers: list[dict]) -> bool:
        """Every container runs but the init job's, which exits once it has done its work:
        an exited scheduler is a dead one."""
        return bool(containers) and all(container["state"] == "running"
                                        for container in containers
                                        if container["service"] != "init")

    def status(self) -> EnvironmentStatus:
        """The stack's containers; `running` when every one runs but the init job's."""
        state = self._state()
        containers = self.containers() if state else []
        components = tuple(Component(c["service"] or c["name"], c["state"] == "running",
                                     where=c["name"]) for c in containers)
        workers = state.get("workers", 1)
        dags_from = state.get("dags_from", "project")
        endpoints = {"ui": state["ui_url"]} if state.get("ui_url") else {}
        if state.get("ports", {}).get("aws"):
            endpoints["aws"] = _host_url(state["ports"]["aws"])
        if state.get("mwaa_url"):
            endpoints["mwaa_api"] = state["mwaa_url"]
        notes = [f"{workers} Celery worker(s) fed by SQS on LocalStack",
                 f"DAGs from the {dags_from}" + (
                     " (the dags-sync service mirrors the environment's bucket; `mwaa-kit "
                     "promote --target local`)" if dags_from == "bucket" else "")]
        details = {"containers": containers}
        if state.get("web_url"):
            endpoints["web"] = state["web_url"]
            notes.append(f"web server (MWAA's WebserverUrl, web login, /aws_mwaa/cli): "
                         f"{state['web_url']}; trust its CA {self.web_ca_file} with "
                         "`curl --cacert`")
            details.update(web_url=state["web_url"], web_ca_file=str(self.web_ca_file))
        return EnvironmentStatus(
            runtime=self.name,
            running=self.all_running(containers),
            airflow_version=state.get("airflow_version"),
            components=components,
            endpoints=endpoints,
            notes=tuple(notes),
            options=UpOptions(workers=workers, dags_from=dags_from),
            details=details,
        )

    def log_sources(self) -> dict[str, str]:
        """Each service of the stack, with its container."""
        return {c["service"] or c["name"]: c["name"] for c in self.containers()}

    def logs(self, component: str, follow: bool, lines: int,
             on_line: Callable[[str], None]) -> None:
        """One service's last `lines` container log lines (all replicas), then new ones while
        `follow`."""
        self._compose("logs", "--tail", str(lines), *(["-f"] if follow else []), component,
                      check=False, on_line=on_line)

    def airflow(self, *arguments: str, on_line: Callable[[str], None] | None = None
                ) -> subprocess.CompletedProcess:
        """A one-off Airflow CLI command in the scheduler container, with the contract's
        environment of a worker; its output captured, or handed to `on_line` by line."""
        return self._entrypoint("airflow", *arguments, on_line=on_line)

    def run_states(self, dag_id: str, run_id: str | None = None) -> dict:
        """The state of a DAG run and its tasks (the latest run when `run_id` is None), read by
        run_states.py inside the scheduler container."""
        return parse_run_states(self._entrypoint("run-states", dag_id, *filter(None, [run_id])))

    def _entrypoint(self, *arguments: str, on_line: Callable[[str], None] | None = None):
        return self._compose("exec", "-T", "scheduler", "python3", "-m",
                             "mwaa_kit.runtime.compose.entrypoint", *arguments, check=False,
                             on_line=on_line)


def _json_objects(output: str) -> list[dict]:
    """`compose ps --format json`: a JSON array (Compose before 2.21) or one object a line."""
    if output.lstrip().startswith("["):
        return json.loads(output)
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _host_url(port: int) -> str:
    """The URL of a port the stack publishes on the host's loopback."""
    return f"http://127.0.0.1:{port}"


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
