"""Bundles MWAA would refuse are refused by `up` with a clear message, before anything
starts."""

import json
import socket

import pytest

from tests.e2e.conftest import run_cli, write_project

pytestmark = pytest.mark.e2e


def _assert_nothing_started(project):
    status = json.loads(run_cli("status", "--format", "json", project=project).stdout)
    assert not status["running"] and not status["processes"]


def _refused_up(project, files: dict[str, str]) -> str:
    """`up` on a project of `files`: refused with exit status 1, one message and no
    traceback, nothing started. Returns what it printed on stderr."""
    write_project(project, files)
    result = run_cli("up", project=project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    _assert_nothing_started(project)
    return result.stderr


def test_startup_script_overriding_airflow_home_is_refused(project_dir):
    stderr = _refused_up(project_dir, {
        "dags/.keep": "",
        "requirements/startup.sh": "export AIRFLOW_HOME=/tmp/elsewhere\n",
    })
    assert "AIRFLOW_HOME" in stderr and "reserves" in stderr


def test_forced_config_override_is_refused(project_dir):
    stderr = _refused_up(project_dir, {
        "dags/.keep": "",
        "mwaa-kit.toml": '[airflow_config]\n"core.executor" = "SequentialExecutor"\n',
    })
    assert "core.executor" in stderr and "mwaa-kit.toml" in stderr


def test_unknown_airflow_version_lists_supported_ones(project_dir):
    write_project(project_dir, {"mwaa-kit.toml": '[environment]\nairflow_version = "1.10.12"\n'})
    result = run_cli("up", project=project_dir)
    assert result.returncode == 1
    assert "1.10.12" in result.stderr and "3.0.6" in result.stderr


def test_plugins_zip_escaping_its_folder_is_refused(project_dir):
    write_project(project_dir, {"dags/.keep": "", "plugins/ok.py": ""})
    (project_dir / "plugins" / "link.py").symlink_to("/etc/hostname")
    result = run_cli("up", project=project_dir)
    assert result.returncode == 1 and "symlink" in result.stderr
    _assert_nothing_started(project_dir)


def test_init_scaffolds_a_project_and_never_overwrites(project_dir):
    target = project_dir / "new"
    result = run_cli("init", str(target), project=project_dir, check=True)
    assert "scaffolded" in result.stdout
    for path in ("dags/hello_mwaa.py", "plugins/README.md", "requirements/requirements.txt",
                 "requirements/startup.sh", "mwaa-kit.toml", "seed.toml", ".gitignore"):
        assert (target / path).is_file(), path
    again = run_cli("init", str(target), project=project_dir)
    assert again.returncode == 1 and "refusing to overwrite" in again.stderr


def test_a_busy_port_is_a_clear_error(project_dir):
    write_project(project_dir, {"dags/.keep": ""})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("up", "--port", str(port), project=project_dir)
    assert result.returncode == 1
    assert f"Port {port} is in use" in result.stderr and "--port" in result.stderr
    _assert_nothing_started(project_dir)


def test_a_bad_seed_file_is_refused_before_anything_starts(project_dir):
    stderr = _refused_up(project_dir, {
        "dags/.keep": "",
        "seed.toml": "[salesforce]\nobjects = { Opportunity = -5 }\n",
    })
    assert "Opportunity = -5; write a count of 0 or more" in stderr
    assert not (project_dir / ".mwaa-kit" / "salesforce").exists()


def test_purge_without_yes_asks_and_deletes_nothing_without_a_terminal(project_dir):
    write_project(project_dir, {"dags/.keep": "", ".mwaa-kit/admin-password.json": "{}"})
    result = run_cli("down", "--purge", project=project_dir)
    assert result.returncode == 1
    assert "Add --yes to confirm" in result.stderr and "emulated AWS" in result.stderr
    assert (project_dir / ".mwaa-kit" / "admin-password.json").exists()
    assert run_cli("down", "--purge", "--yes", project=project_dir).returncode == 0
    assert not (project_dir / ".mwaa-kit").exists()
