"""An update rolled out to the stack's containers through the shared state folder: the MWAA
API's side (StackRollout) against reports written as containers write them, and a real
container supervisor (supervise, in its own process, as PID 1 of a container runs it)
restarting real processes on a new bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mwaa_kit.contract.bundle import Bundle
from mwaa_kit.runtime.compose import rollout

UPDATE = {"Name": "Env", "Status": "UPDATING", "AirflowVersion": "3.3.1"}


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("MWAA_KIT_RUN_ID", "run1")
    return tmp_path / "rollout"


def _bundle(tmp_path: Path) -> Bundle:
    startup = tmp_path / "startup.sh"
    startup.write_text("export FROM_UPDATE=1\n")
    plugins = tmp_path / "plugins.zip"
    plugins.write_bytes(b"zip")
    return Bundle(dags_dir=tmp_path / "dags", plugins_zip=plugins, requirements_text="boto3\n",
                  startup_script=startup, airflow_config={"core.x": "1"})


def _report(root: Path, host: str, bundle: str | None, state: str, beat: float | None = None):
    path = rollout.run_dir(root) / "containers" / f"{host}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Replaced whole, as containers write theirs: a reader must never see it half-written.
    partial = path.with_name(f"{host}.{threading.get_ident()}.tmp")
    partial.write_text(json.dumps({"service": host, "bundle": bundle, "state": state,
                                   "error": "boom" if state == "failed" else None,
                                   "beat": beat or time.time()}))
    partial.replace(path)


def _container(root: Path, host: str, outcome: str, stop: threading.Event) -> threading.Thread:
    """A container that answers each new bundle with `outcome`, and the previous with running."""
    def run():
        while not stop.is_set():
            current = rollout.current_bundle(root)
            name = current and current.name
            _report(root, host, name, outcome if name else "running")
            time.sleep(0.05)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _rolled_out(root, tmp_path, outcomes: dict[str, str], **options):
    stop = threading.Event()
    for host, outcome in outcomes.items():
        _report(root, host, None, "running")
        _container(root, host, outcome, stop)
    try:
        rollout.StackRollout("Env", "3.3.1", root=root, **options)(
            None, _bundle(tmp_path), UPDATE)
    finally:
        stop.set()


def test_the_bundle_is_published_in_the_layout_the_containers_read(root, tmp_path):
    _rolled_out(root, tmp_path, {"scheduler": "running", "worker-1": "running"})
    folder = rollout.current_bundle(root)
    assert (folder / "plugins.zip").read_bytes() == b"zip"
    assert (folder / "requirements" / "requirements.txt").read_text() == "boto3\n"
    assert (folder / "requirements" / "startup.sh").read_text() == "export FROM_UPDATE=1\n"
    assert json.loads((folder / rollout.CONFIG_FILE).read_text()) == {"core.x": "1"}


def test_a_container_that_cannot_start_fails_the_update_and_the_previous_bundle_is_back(
        root, tmp_path):
    with pytest.raises(rollout.RolloutError, match="worker-2 container could not start"):
        _rolled_out(root, tmp_path, {"scheduler": "running", "worker-2": "failed"})
    assert rollout.current_bundle(root) is None


def test_a_container_that_never_restarts_fails_the_update_after_the_timeout(root, tmp_path):
    _report(root, "webserver", None, "running")  # alive, but never follows the pointer
    keep_alive = threading.Event()

    def beat():
        while not keep_alive.is_set():
            _report(root, "webserver", None, "running")
            time.sleep(0.1)
    threading.Thread(target=beat, daemon=True).start()
    try:
        with pytest.raises(rollout.RolloutError, match="webserver container.* did not restart"):
            rollout.StackRollout("Env", "3.3.1", root=root, timeout=1)(
                None, _bundle(tmp_path), UPDATE)
    finally:
        keep_alive.set()


def test_a_killed_container_is_not_waited_for(root, tmp_path):
    _report(root, "worker-dead", None, "running", beat=time.time() - 60)
    _rolled_out(root, tmp_path, {"scheduler": "running"}, timeout=5)
    assert [c["service"] for c in rollout.live_containers(root)] == ["scheduler"]


def test_an_update_to_another_airflow_version_is_refused_before_anything_changes(
        root, tmp_path):
    with pytest.raises(rollout.RolloutError, match="set it in mwaa-kit.toml"):
        rollout.StackRollout("Env", "3.3.1", root=root)(
            None, _bundle(tmp_path), {**UPDATE, "AirflowVersion": "2.11.0"})
    assert not rollout.run_dir(root).exists()


@pytest.mark.parametrize("environment", [{**UPDATE, "Status": "CREATING"},
                                         {**UPDATE, "Name": "Other"}])
def test_a_creation_or_another_environment_restarts_nothing(root, tmp_path, environment):
    rollout.StackRollout("Env", "3.3.1", root=root, timeout=1)(None, _bundle(tmp_path),
                                                               environment)
    assert not rollout.run_dir(root).exists()  # no container was asked to restart


def test_earlier_runs_are_pruned_but_not_the_current_one(root):
    (root / "old-run").mkdir(parents=True)
    rollout.run_dir(root).mkdir()
    rollout.prune_other_runs(root)
    assert [p.name for p in root.iterdir()] == ["run1"]


# A container's PID 1: its "processes" are sleeps; `launch` prepares each bundle as the
# bundle's `command` file says (a sleep, a process that exits at once, or a failure).
SUPERVISOR = textwrap.dedent("""
    import os
    import sys
    from pathlib import Path
    from mwaa_kit.runtime.compose import rollout

    rollout.GRACE_SECONDS = 1.5
    root = Path(sys.argv[1])

    def launch():
        folder = rollout.current_bundle(root)
        first = os.environ.get("FIRST", "sleep 300")
        command = (folder / "command").read_text() if folder else first
        if command == "fail":
            raise RuntimeError("startup.sh exited with status 1")
        return [command.split()], {"PATH": "/usr/bin:/bin"}

    sys.exit(rollout.supervise("scheduler", launch(), launch, Path("."), root))
""")


@pytest.fixture
def supervisor(root, tmp_path):
    process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(root)], cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    yield process
    process.terminate()
    process.wait(timeout=90)


def _point_at(root: Path, bundle_id: str | None, command: str = "") -> None:
    pointer = rollout.run_dir(root) / "current.json"
    if bundle_id is None:
        pointer.unlink()
        return
    folder = rollout.run_dir(root) / "bundles" / bundle_id
    folder.mkdir(parents=True)
    (folder / "command").write_text(command)
    pointer.write_text(json.dumps({"id": bundle_id}))


def _wait_for_report(root: Path, bundle: str | None, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    reports = []
    while time.monotonic() < deadline:
        reports = rollout.live_containers(root)
        if reports and (reports[0]["bundle"], reports[0]["state"]) == (bundle, state):
            return reports[0]
        time.sleep(0.1)
    raise AssertionError(f"no {state} report on {bundle}: {reports}")


def _children(supervisor) -> list[str]:
    out = subprocess.run(["ps", "-o", "args=", "--ppid", str(supervisor.pid)],
                         capture_output=True, text=True).stdout
    return out.split("\n")[:-1]


def test_the_supervisor_restarts_its_processes_on_each_new_bundle(root, supervisor):
    _wait_for_report(root, None, "running")
    assert _children(supervisor) == ["sleep 300"]
    _point_at(root, "b1", "sleep 301")
    _wait_for_report(root, "b1", "running")
    assert _children(supervisor) == ["sleep 301"]


def test_a_bundle_that_cannot_be_prepared_leaves_the_processes_running(root, supervisor):
    _wait_for_report(root, None, "running")
    _point_at(root, "b1", "fail")
    report = _wait_for_report(root, "b1", "failed")
    assert "startup.sh exited" in report["error"]
    assert _children(supervisor) == ["sleep 300"]


def test_processes_that_exit_after_a_restart_fail_it_and_the_previous_bundle_comes_back(
        root, supervisor):
    _wait_for_report(root, None, "running")
    _point_at(root, "b1", "false")
    assert "status 1" in _wait_for_report(root, "b1", "failed")["error"]
    assert supervisor.poll() is None  # the container waits for the previous bundle
    _point_at(root, None)
    _wait_for_report(root, None, "running")
    assert _children(supervisor) == ["sleep 300"]


def test_a_process_that_exits_outside_an_update_ends_the_container(root, tmp_path):
    process = subprocess.run([sys.executable, "-c", SUPERVISOR, str(root)], cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(Path.cwd()),
                                  "FIRST": "python3 -c exit(3)"}, timeout=60)
    assert process.returncode == 3
