"""The native runtime runs Airflow as whoever runs `up`; MWAA never runs it as root.
When the environment runs as root, `up` and `status` (table and JSON) say so."""

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mwaa_kit.cli import environment as cli
from mwaa_kit.project import Project
from mwaa_kit.runtime import processes, select
from mwaa_kit.runtime.native import environment as native
from mwaa_kit.runtime.native.environment import NativeEnvironment


def _running_project(root: Path, runs_as_root: bool) -> None:
    """A project whose state says its scheduler runs (this very process stands for it)."""
    pid = os.getpid()
    NativeEnvironment(Project(root=root))._save_state({
        "airflow_version": "3.3.1", "ui_url": "http://127.0.0.1:8080", "runs_as_root":
        runs_as_root, "processes": [processes.ProcessRecord(
            "scheduler", pid, processes._start_time(pid), "scheduler.log").to_dict()],
    })


@pytest.mark.parametrize("runs_as_root", [True, False])
def test_status_json_says_whether_tasks_run_as_root(tmp_path, runs_as_root):
    _running_project(tmp_path, runs_as_root)
    result = CliRunner().invoke(cli.status, ["-p", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    assert status["running"] is True
    assert status["runs_as_root"] is runs_as_root
    assert ("runs_as_root_note" in status) is runs_as_root
    if runs_as_root:
        assert "unlike MWAA" in status["runs_as_root_note"]


@pytest.mark.parametrize("runs_as_root", [True, False])
def test_status_table_says_so_only_when_tasks_run_as_root(tmp_path, runs_as_root):
    _running_project(tmp_path, runs_as_root)
    result = CliRunner().invoke(cli.status, ["-p", str(tmp_path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "scheduler" in result.output
    assert ("Runs as root: Airflow and its tasks run as root here, unlike MWAA"
            in result.output) is runs_as_root


def test_status_before_any_up_says_how_the_next_up_would_run(tmp_path, monkeypatch):
    monkeypatch.setattr(native.os, "geteuid", lambda: 0)
    assert NativeEnvironment(Project(root=tmp_path)).status().details["runs_as_root"] is True
    monkeypatch.setattr(native.os, "geteuid", lambda: 1000)
    assert NativeEnvironment(Project(root=tmp_path)).status().details["runs_as_root"] is False


@pytest.mark.parametrize("uid", [0, 1000])
def test_up_records_and_says_whether_it_started_airflow_as_root(tmp_path, monkeypatch, uid):
    monkeypatch.setattr(native.os, "geteuid", lambda: uid)

    class Started(NativeEnvironment):
        def up(self, options):  # records what the real `up` records
            self._save_state({"airflow_version": "3.3.1", "ui_url": "http://127.0.0.1:8080",
                              "mwaa_url": "http://127.0.0.1:9000", "processes": [],
                              "runs_as_root": native.started_as_root()})
            return self.status()

    monkeypatch.setattr(select, "environment", lambda project, runtime, report: Started(
        project, report))
    result = CliRunner().invoke(cli.up, ["-p", str(tmp_path), "--runtime", "native", "-q"],
                                env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "Airflow 3.3.1 is up" in result.output
    assert ("runs as root: Airflow and its tasks run as root here, unlike MWAA"
            in result.output) is (uid == 0)
