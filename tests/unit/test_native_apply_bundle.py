"""`NativeEnvironment.apply_bundle`'s way back when an update fails after the components
were stopped (the e2e tests cover a failure of the contract itself, over real Airflow)."""

from pathlib import Path

import pytest

from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment
from mwaa_kit.contract.requirements import Virtualenv
from mwaa_kit.project import Project
from mwaa_kit.runtime.native.environment import NativeEnvironment


def _prepared(home: Path, venv: str) -> PreparedEnvironment:
    return PreparedEnvironment(home=home, virtualenv=Virtualenv(Path(venv), False),
                               constraints_source="", startup_exports={}, plugins=[],
                               base_env={"VENV": venv})


@pytest.fixture
def native(tmp_path, monkeypatch):
    environment = NativeEnvironment(Project(root=tmp_path))
    (environment.home / "plugins").mkdir(parents=True)
    (environment.home / "plugins" / "old.py").write_text("OLD = 1\n")
    (environment.home / "dags").mkdir()
    environment._save_state({"ports": {"ui": 1}, "virtualenv": "/venvs/old", "processes": []})
    environment._save_airflow_env({"VENV": "/venvs/old"})
    monkeypatch.setattr(environment, "prepared",
                        lambda: _prepared(environment.home, "/venvs/old"))
    monkeypatch.setattr(environment, "_stop_components", lambda state: None)
    return environment


def test_components_that_do_not_start_on_the_new_bundle_are_restarted_on_the_old(
        native, monkeypatch):
    def prepare_new(bundle, ports):  # the contract succeeds and rewrites plugins/
        (native.home / "plugins" / "old.py").unlink()
        (native.home / "plugins" / "new.py").write_text("NEW = 1\n")
        native._save_airflow_env({"VENV": "/venvs/new"})
        return _prepared(native.home, "/venvs/new")

    started = []

    def start(prepared, ports, state):
        started.append(str(prepared.virtualenv.path))
        if prepared.virtualenv.path == Path("/venvs/new"):
            raise RuntimeError("the api-server exited while starting")

    monkeypatch.setattr(native, "_prepare", prepare_new)
    monkeypatch.setattr(native, "_start_components", start)
    bundle = Bundle(dags_dir=native.home / "dags", plugins_zip=None, requirements_text="",
                    startup_script=None)
    with pytest.raises(RuntimeError, match="api-server exited"):
        native.apply_bundle(bundle, native.version.airflow_version)

    assert started == ["/venvs/new", "/venvs/old"]
    assert sorted(p.name for p in (native.home / "plugins").iterdir()) == ["old.py"]
    assert native._load_state()["virtualenv"] == "/venvs/old"
    assert '"/venvs/old"' in (native.native_dir / "airflow-env.json").read_text()


def test_another_airflow_version_is_refused_before_anything_changes(native, monkeypatch):
    monkeypatch.setattr(native, "_prepare", lambda *a: pytest.fail("nothing may be prepared"))
    bundle = Bundle(dags_dir=native.home / "dags", plugins_zip=None, requirements_text="",
                    startup_script=None)
    with pytest.raises(RuntimeError, match="set it in mwaa-kit.toml"):
        native.apply_bundle(bundle, "2.10.3")
