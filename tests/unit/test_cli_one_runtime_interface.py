"""The CLI drives whichever runtime the project runs on through one interface: each
command here runs against a recording runtime standing for the compose one, and the native
runtime must never be built (before the interface, `restart` started a native environment
for a project that ran on compose)."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from mwaa_kit.cli import airflow as airflow_cli
from mwaa_kit.cli import dags as dags_cli
from mwaa_kit.cli import environment as environment_cli
from mwaa_kit.project import Project
from mwaa_kit.runtime import select
from mwaa_kit.runtime.interface import Component, EnvironmentStatus, UpOptions


class RecordingRuntime:
    """A runtime that records what the CLI asks of it."""

    name = "compose"
    components = (Component("scheduler", True), Component("webserver", True))

    def __init__(self, project, report=lambda message: None):
        self.project = project
        self.calls: list = []
        self.options = UpOptions(workers=3)

    def status(self) -> EnvironmentStatus:
        self.calls.append("status")
        return EnvironmentStatus(
            runtime=self.name, running=all(c.running for c in self.components),
            airflow_version="3.3.1", components=self.components,
            endpoints={"ui": "http://127.0.0.1:8080"}, notes=("3 Celery worker(s)",),
            options=self.options)

    def up(self, options):
        self.calls.append(("up", options))
        return self.status()

    def down(self, purge=False):
        self.calls.append(("down", purge))
        return ["scheduler", "webserver"]

    def airflow(self, *arguments, on_line=None):
        self.calls.append(("airflow", arguments))
        if on_line:  # Airflow talks on stdout as it works
            on_line("[2026-12-03] INFO - Filling up the DagBag\n")
            on_line("secret-password\n")
        return subprocess.CompletedProcess(["airflow", *arguments], 3)

    def run_states(self, dag_id, run_id=None):
        return {"dag_id": dag_id, "run_id": "manual__1", "state": "success", "paused": None,
                "tasks": [{"task_id": "hello", "state": "success", "map_index": -1}]}


@pytest.fixture
def on_compose(tmp_path, monkeypatch):
    """A project last brought up on compose, its runtime a RecordingRuntime."""
    runtimes = []

    def environment(project, runtime, report=lambda message: None):
        assert runtime == "compose", f"the CLI built the {runtime} runtime"
        runtimes.append(RecordingRuntime(project, report))
        return runtimes[-1]

    monkeypatch.setattr(select, "environment", environment)
    (tmp_path / ".mwaa-kit").mkdir()
    (tmp_path / ".mwaa-kit" / "runtime").write_text("compose")
    (tmp_path / ".mwaa-kit" / "admin-password.json").write_text('{"admin": "secret-password"}')
    return tmp_path, runtimes


def test_restart_restarts_the_runtime_the_project_runs_on_with_the_same_options(on_compose):
    project, runtimes = on_compose
    result = CliRunner().invoke(environment_cli.restart, ["-p", str(project), "-q"])
    assert result.exit_code == 0, result.output
    assert runtimes[0].calls == ["status", ("down", False), ("up", UpOptions(workers=3)),
                                 "status"]
    assert "Airflow 3.3.1 is up: http://127.0.0.1:8080" in result.output


def test_dags_test_json_is_only_json_on_stdout(on_compose):
    project, _ = on_compose
    result = CliRunner().invoke(dags_cli.test, ["-p", str(project), "hello", "--format",
                                                "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["state"] == "success"
    assert "Filling up the DagBag" in (project / ".mwaa-kit/logs/dags-test-hello.log"
                                       ).read_text()


def test_status_fails_when_a_component_of_the_running_stack_exited(on_compose, monkeypatch):
    project, runtimes = on_compose
    monkeypatch.setattr(RecordingRuntime, "components", (Component("scheduler", False),
                                                         Component("webserver", True)))
    for arguments in ([], ["--format", "json"]):
        result = CliRunner().invoke(environment_cli.status, ["-p", str(project), *arguments])
        assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["running"] is False


def test_airflow_passes_every_argument_through_masks_secrets_and_keeps_the_exit_status(
        on_compose):
    project, runtimes = on_compose
    result = CliRunner().invoke(airflow_cli.airflow, ["-p", str(project), "dags", "list",
                                                      "-o", "json", "--verbose"])
    assert runtimes[0].calls == [("airflow", ("dags", "list", "-o", "json", "--verbose"))]
    assert result.exit_code == 3
    assert "Filling up the DagBag" in result.output
    assert "secret-password" not in result.output


def test_down_stops_the_runtime_the_project_runs_on(on_compose):
    project, runtimes = on_compose
    result = CliRunner().invoke(environment_cli.down, ["-p", str(project)])
    assert result.exit_code == 0, result.output
    assert runtimes[0].calls == [("down", False)]
    assert "Stopped scheduler, webserver" in result.output


@pytest.mark.parametrize("runtime", select.RUNTIMES)
def test_each_runtime_reports_itself_by_its_name_before_any_up(tmp_path, runtime):
    environment = select.environment(Project(root=tmp_path, environment_name="Stack"),
                                     runtime)
    status = environment.status()
    assert environment.name == status.runtime == runtime
    assert not status.started and not status.running
