"""An UpdateEnvironment rolled out to the compose stack's running Airflow containers.

MWAA applies an update by replacing its containers with ones running the new bundle,
and keeps the previous ones when that fails. The stack's MWAA API cannot reach the
container engine, so the two sides meet in the stack's shared state volume, in a folder
of the current `up` (its MWAA_KIT_RUN_ID):

- the MWAA API (`StackRollout`, the `then` of `--apply compose`, after the contract
  prepared the bundle) copies the new bundle to `bundles/<id>/`, points `current.json`
  at it, and waits until every live Airflow container runs it; a container that cannot
  start on it fails the update, and the pointer goes back to the previous bundle;
- each Airflow container (`supervise`) runs its processes on the bundle `current.json`
  names (the image's /mwaa/bundle before any update), restarts them on a new one, and
  reports which bundle it runs in `containers/<hostname>.json`, with a heartbeat so that
  a killed container is not waited for.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from mwaa_kit.runtime import processes
from mwaa_kit.runtime.compose.volumes import STATE

ROOT = STATE / "rollout"
CONFIG_FILE = "airflow-config.json"  # the update's AirflowConfigurationOptions
BEAT_SECONDS = 2.0
STALE_SECONDS = 15.0  # a container silent this long is gone (killed, or the stack is down)
GRACE_SECONDS = 10.0  # processes that live this long after a restart started fine
ROLLOUT_TIMEOUT = 900.0


class RolloutError(RuntimeError):
    """The stack's containers did not all start on the new bundle (the update's failure)."""


def run_dir(root: Path = ROOT) -> Path:
    """The current `up`'s rollout folder: containers of another `up` never share it."""
    return root / os.environ.get("MWAA_KIT_RUN_ID", "manual")


def prune_other_runs(root: Path = ROOT) -> None:
    """Forget the bundles of earlier `up`s (the init job's, before any container starts)."""
    if root.is_dir():
        for folder in root.iterdir():
            if folder != run_dir(root):
                shutil.rmtree(folder, ignore_errors=True)


def current_bundle(root: Path = ROOT) -> Path | None:
    """The folder of the bundle the last update rolled out; None before any."""
    pointer = run_dir(root) / "current.json"
    if not pointer.exists():
        return None
    return run_dir(root) / "bundles" / json.loads(pointer.read_text())["id"]


def _write_json(path: Path, value: dict) -> None:
    """Replace `path` whole: readers in other containers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{socket.gethostname()}-{os.getpid()}")
    partial.write_text(json.dumps(value))
    partial.replace(path)


class StackRollout:
    """The MWAA API's side: the `then` of ContractApplier under `--apply compose`.

    :param environment_name: the stack's environment; others have no containers to update.
    :param airflow_version: the version the stack's image runs (an update cannot change it).
    :param health_url: the webserver's health URL, which must answer before AVAILABLE.
    """

    def __init__(self, environment_name: str, airflow_version: str,
                 health_url: str | None = None, root: Path = ROOT,
                 timeout: float = ROLLOUT_TIMEOUT):
        self.environment_name = environment_name
        self.airflow_version = airflow_version
        self.health_url = health_url
        self.root = root
        self.timeout = timeout

    def __call__(self, prepared, bundle, environment: dict) -> None:
        if environment["Name"] != self.environment_name or environment["Status"] == "CREATING":
            return  # `up` started the containers on the bundle it creates the environment with
        if environment["AirflowVersion"] != self.airflow_version:
            raise RolloutError(
                f"the stack runs Airflow {self.airflow_version}; to try "
                f"{environment['AirflowVersion']}, set it in mwaa-kit.toml and run `mwaa-kit up`.")
        current = current_bundle(self.root)
        previous = current.name if current else None
        new = self._publish(bundle)
        self._point_at(new)
        try:
            self._wait_for(new)
        except RolloutError:
            self._point_at(previous)  # MWAA too keeps running the previous versions
            try:
                self._wait_for(previous)
            except RolloutError as error:
                print(f"mwaa-kit: putting the previous bundle back: {error}", flush=True)
            raise
        if self.health_url:  # AVAILABLE once the UI and REST API answer again
            processes.wait_for_http(self.health_url, self.timeout)

    def _publish(self, bundle) -> str:
        """Copy the prepared bundle where every container reads it, in /mwaa/bundle's layout."""
        bundle_id = uuid.uuid4().hex[:12]
        folder = run_dir(self.root) / "bundles" / bundle_id
        (folder / "requirements").mkdir(parents=True)
        if bundle.plugins_zip:
            shutil.copyfile(bundle.plugins_zip, folder / "plugins.zip")
        (folder / "requirements" / "requirements.txt").write_text(bundle.requirements_text)
        if bundle.startup_script:
            shutil.copyfile(bundle.startup_script, folder / "requirements" / "startup.sh")
        (folder / CONFIG_FILE).write_text(json.dumps(bundle.airflow_config))
        return bundle_id

    def _point_at(self, bundle_id: str | None) -> None:
        pointer = run_dir(self.root) / "current.json"
        if bundle_id is None:
            pointer.unlink(missing_ok=True)
        else:
            _write_json(pointer, {"id": bundle_id})

    def _wait_for(self, bundle_id: str | None) -> None:
        """Until every live container runs `bundle_id`; RolloutError when one cannot."""
        deadline = time.monotonic() + self.timeout
        while True:
            containers = live_containers(self.root)
            for container in containers:
                if container["bundle"] == bundle_id and container["state"] == "failed":
                    raise RolloutError(f"the {container['service']} container could not start "
                                       f"on the new bundle: {container['error']}")
            waiting = sorted(c["service"] for c in containers
                             if (c["bundle"], c["state"]) != (bundle_id, "running"))
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise RolloutError(f"the {', '.join(waiting)} container(s) did not restart on "
                                   f"the new bundle in {self.timeout:.0f} s")
            time.sleep(1)


def live_containers(root: Path = ROOT) -> list[dict]:
    """The reports of the containers whose heartbeat is fresh."""
    now = time.time()
    reports = []
    for path in (run_dir(root) / "containers").glob("*.json"):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError):  # removed or replaced meanwhile
            continue
        if now - report["beat"] < STALE_SECONDS:
            reports.append(report)
    return reports


class _Reporter:
    """A container's report (which bundle it runs, in which state), rewritten by a
    heartbeat thread that preparing a bundle never holds up."""

    def __init__(self, service: str, root: Path):
        self.path = run_dir(root) / "containers" / f"{socket.gethostname()}.json"
        self.report = {"service": service, "bundle": None, "state": "starting", "error": None}
        self._lock = threading.Lock()
        threading.Thread(target=self._beat, daemon=True).start()

    def set(self, bundle_id: str | None, state: str, error: str | None = None) -> None:
        with self._lock:
            self.report.update(bundle=bundle_id, state=state, error=error)
            _write_json(self.path, {**self.report, "beat": time.time()})

    def _beat(self) -> None:
        while True:
            with self._lock:
                _write_json(self.path, {**self.report, "beat": time.time()})
            time.sleep(BEAT_SECONDS)


# A container's commands and their environment, prepared on a bundle.
Launched = tuple[list[list[str]], dict[str, str]]


def supervise(service: str, first: Launched, launch: Callable[[], Launched], cwd: Path,
              root: Path = ROOT) -> int:
    """Run `first`'s commands together; on each new bundle, restart them on what `launch`
    prepares. When one exits, stop the others and return its status, but when it exits
    right after an update's restart: report the failure, and wait for the bundle to change
    again (the MWAA API puts the previous one back)."""
    reporter = _Reporter(service, root)
    running = current_bundle(root)
    children = _start(first, cwd)
    reporter.set(running and running.name, "running")
    restarted_at = None

    def forward(signum, frame):
        for child in children:
            child.send_signal(signum)
        raise SystemExit(0)  # the engine stops the container: so do its processes

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        while True:
            time.sleep(1)
            wanted = current_bundle(root)
            bundle_id = wanted and wanted.name
            exited = next((child for child in children if child.poll() is not None), None)
            if exited is not None and restarted_at is None:
                return exited.returncode
            if exited is not None:
                _stop(children)
                children, restarted_at = [], None
                reporter.set(bundle_id, "failed", f"`{' '.join(exited.args[-2:])}` exited "
                                                  f"with status {exited.returncode}")
            elif restarted_at and time.monotonic() - restarted_at > GRACE_SECONDS:
                restarted_at = None
                reporter.set(bundle_id, "running")
            if wanted != running:
                running = wanted
                reporter.set(bundle_id, "starting")
                try:
                    prepared = launch()
                except (Exception, SystemExit) as error:  # noqa: BLE001 - the update's failure
                    reporter.set(bundle_id, "failed", str(error)[-1000:])
                    continue
                _stop(children)
                children, restarted_at = _start(prepared, cwd), time.monotonic()
    finally:
        _stop(children)


def _start(launched: Launched, cwd: Path) -> list:
    commands, env = launched
    return [subprocess.Popen(command, env=env, cwd=cwd) for command in commands]


def _stop(children: list, timeout: float = 60) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
