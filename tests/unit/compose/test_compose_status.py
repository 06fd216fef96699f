"""Compose status: a stack runs when every service runs, the finished init job aside."""

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
