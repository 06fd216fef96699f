"""`up` and one-off commands after mwaa-kit.toml switched `airflow_version` while the
environment still runs the previous version (the e2e test covers the switch with `down`)."""

import pytest

from mwaa_kit.project import Project
from mwaa_kit.runtime.interface import Component, EnvironmentStatus
from mwaa_kit.runtime.native.environment import NativeEnvironment


class StopHere(Exception):
    """Raised where `up` would start building the new environment."""


def _running(version: str) -> EnvironmentStatus:
    return EnvironmentStatus(runtime="native", running=True, airflow_version=version,
                             components=(Component("scheduler", running=True),))


@pytest.fixture
def switched(tmp_path, monkeypatch):
    """The project now asks for 2.11.0; 3.3.1 still runs, as state.json records it."""
    running = NativeEnvironment(Project(root=tmp_path, airflow_version="3.3.1"))
    running._save_state({"airflow_version": "3.3.1", "airflow_home": str(running.home),
                         "virtualenv": "/venvs/airflow-3.3.1", "processes": []})
    running._save_airflow_env({})
    native = NativeEnvironment(Project(root=tmp_path, airflow_version="2.11.0"),
                               report=(messages := []).append)
    native.messages = messages
    native.calls = []
    monkeypatch.setattr(native, "status", lambda: _running("3.3.1"))
    monkeypatch.setattr(native, "down", lambda purge=False: native.calls.append("down") or [])
    # No server here: pytest's folders are owner-only, which `up` refuses under root.
    monkeypatch.setattr(native, "_has_postgres", lambda: False)

    def choose_ports(ui_port):
        native.calls.append("start")
        raise StopHere

    monkeypatch.setattr(native, "_choose_ports", choose_ports)
    return native


def test_up_stops_the_running_version_before_starting_the_one_the_toml_asks_for(switched):
    with pytest.raises(StopHere):
        switched.up()
    assert switched.calls == ["down", "start"]
    assert any("Stopping Airflow 3.3.1 to switch to 2.11.0" in m for m in switched.messages)


def test_up_on_the_running_version_changes_nothing(switched, monkeypatch):
    monkeypatch.setattr(switched, "status", lambda: _running("2.11.0"))
    switched.up()
    assert switched.calls == []
    assert "The local environment is already up" in switched.messages


def test_one_off_commands_use_the_running_version_s_home_not_the_toml_s(switched):
    running_home = switched.state_dir / "airflow-home" / "3.3.1"
    assert switched.home != running_home
    prepared = switched.prepared()
    assert prepared.home == running_home
    assert str(prepared.virtualenv.path) == "/venvs/airflow-3.3.1"
