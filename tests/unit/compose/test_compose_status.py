"""Compose status: a stack runs when every service runs, the finished init job aside; it
names the stack's HTTPS web origin and the CA `up` copied out of the stack to trust it."""

import subprocess

import pytest

from mwaa_kit.project import load_project
from mwaa_kit.runtime.compose import stack


def test_an_exited_service_is_not_running_but_the_finished_init_job_is_fine():
    running = [{"service": "init", "state": "exited", "name": "i"},
               {"service": "scheduler", "state": "running", "name": "s"}]
    assert stack.ComposeEnvironment.all_running(running)
    dead = [*running[:1], {"service": "scheduler", "state": "exited", "name": "s"}]
    assert not stack.ComposeEnvironment.all_running(dead)
    assert not stack.ComposeEnvironment.all_running([])


def test_status_reads_the_stack_s_state_once(tmp_path, monkeypatch):
    (tmp_path / "mwaa-kit.toml").write_text('[environment]\nname = "Probe"\n')
    reads = []
    state = {"ports": {"aws": 4566}, "ui_url": "http://127.0.0.1:8080", "workers": 2,
             "airflow_version": "3.3.1"}
    monkeypatch.setattr(stack.ComposeEnvironment, "_state",
                        lambda self: reads.append(1) or state)
    monkeypatch.setattr(stack.ComposeEnvironment, "containers",
                        lambda self: [{"service": "scheduler", "state": "running",
                                       "name": "s"}])
    status = stack.ComposeEnvironment(load_project(tmp_path)).status()
    assert status.endpoints == {"ui": "http://127.0.0.1:8080", "aws": "http://127.0.0.1:4566"}
    assert status.running and len(reads) == 1


def test_status_names_the_web_origin_and_the_host_s_copy_of_its_ca(tmp_path, monkeypatch):
    (tmp_path / "mwaa-kit.toml").write_text('[environment]\nname = "Probe"\n')
    state = {"ports": {"aws": 4566, "web": 8443}, "ui_url": "http://127.0.0.1:8080",
             "web_url": "https://127.0.0.1:8443", "airflow_version": "3.3.1"}
    monkeypatch.setattr(stack.ComposeEnvironment, "_state", lambda self: state)
    monkeypatch.setattr(stack.ComposeEnvironment, "containers", lambda self: [])
    environment = stack.ComposeEnvironment(load_project(tmp_path))
    status = environment.status().to_dict()
    ca_file = str(tmp_path / ".mwaa-kit" / "compose" / "web-ca.pem")
    assert status["endpoints"]["web"] == status["web_url"] == "https://127.0.0.1:8443"
    assert status["web_ca_file"] == ca_file == str(environment.web_ca_file)
    assert any(ca_file in note and "https://127.0.0.1:8443" in note
               for note in status["notes"])


def test_up_copies_the_stack_s_ca_to_the_host_or_says_where_to_look(tmp_path, monkeypatch):
    (tmp_path / "mwaa-kit.toml").write_text('[environment]\nname = "Probe"\n')
    environment = stack.ComposeEnvironment(load_project(tmp_path))
    environment.compose_dir.mkdir(parents=True)
    calls = []
    pem = "-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n"
    monkeypatch.setattr(stack.ComposeEnvironment, "_compose", lambda self, *arguments: (
        calls.append(arguments) or subprocess.CompletedProcess(arguments, 0, pem, "")))
    environment._copy_web_ca()
    assert calls == [("exec", "-T", "mwaa", "cat", "/mwaa/state/tls/ca.pem")]
    assert environment.web_ca_file.read_text() == pem
    pem = "cat: /mwaa/state/tls/ca.pem: No such file or directory\n"
    with pytest.raises(stack.ComposeError, match="no CA") as error:
        environment._copy_web_ca()
    assert "mwaa-kit logs mwaa" in error.value.hint
