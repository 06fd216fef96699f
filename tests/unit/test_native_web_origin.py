"""The native environment's web server origin as the runtime records it: status (JSON and
table) names the origin and the kit's CA for curl --cacert / REQUESTS_CA_BUNDLE, and a
control plane restarted from a state recorded before the origin existed gets a port."""

import json
import os

from click.testing import CliRunner

from mwaa_kit.cli import environment as cli
from mwaa_kit.project import Project
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.native import control_plane
from mwaa_kit.runtime.native.environment import NativeEnvironment


def _running(root, **state) -> NativeEnvironment:
    """A project whose state says its scheduler runs (this very process stands for it)."""
    local = NativeEnvironment(Project(root=root))
    pid = os.getpid()
    local._save_state({
        "airflow_version": "3.3.1", "ui_url": "http://127.0.0.1:8080", **state,
        "processes": [processes.ProcessRecord(
            "scheduler", pid, processes._start_time(pid), "scheduler.log").to_dict()]})
    return local


def test_status_names_the_origin_and_its_ca(tmp_path):
    local = _running(tmp_path, web_url="https://127.0.0.1:8443")
    as_json = json.loads(CliRunner().invoke(
        cli.status, ["-p", str(tmp_path), "--format", "json"]).output)
    assert as_json["endpoints"]["web"] == "https://127.0.0.1:8443"
    assert as_json["web_ca_file"] == str(tmp_path / ".mwaa-kit/mwaa/tls/ca.pem")
    assert as_json["ca_bundle"] == str(local.ca_bundle)
    table = CliRunner(env={"COLUMNS": "300"}).invoke(cli.status, ["-p", str(tmp_path)]).output
    assert "https://127.0.0.1:8443" in table and "--cacert" in table


def test_a_state_without_a_web_port_gets_one_when_the_control_plane_restarts(
        tmp_path, monkeypatch):
    local = _running(tmp_path)
    started = {}

    def start(project, aws_endpoint, port, web_port, *rest):
        started["web_port"] = web_port
        return []

    monkeypatch.setattr(control_plane, "start", start)
    ports, state = {"aws": 1, "mwaa": 2}, {"ui_url": "http://127.0.0.1:8080",
                                           "dags_from": "project"}
    assert local._control_plane_records(ports, state) == []
    assert started["web_port"] == ports["web"]
    assert state["web_url"] == f"https://127.0.0.1:{ports['web']}"
