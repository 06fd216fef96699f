"""No secret in any output or file of the kit: seeded connection passwords and sensitive
extras, sensitive variables and the UI's admin password stay in their own 0600 stores,
whatever command runs at whatever verbosity (real native environment, a task that reads
them all)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.conftest import AIRFLOW_VERSION, run_cli, write_project

pytestmark = pytest.mark.e2e

PASSWORD = "pw-e2e-5f1c9d"
API_KEY = "key-e2e-83b2a7"
TOKEN = "tok-e2e-0a4d61"

PROJECT = {
    "mwaa-kit.toml": f"""
        [environment]
        name = "SecretsProbe"
        airflow_version = "{AIRFLOW_VERSION}"
        """,
    "seed.toml": f"""
        [variables]
        service_token = "{TOKEN}"

        [connections.probe]
        conn_type = "http"
        host = "example.invalid"
        login = "probe-user"
        password = "{PASSWORD}"
        extra = {{ api_key = "{API_KEY}" }}
        """,
    "dags/secrets_probe.py": """
        from datetime import datetime
        try:
            from airflow.sdk import DAG, BaseHook, Variable, task
        except ImportError:
            from airflow import DAG
            from airflow.decorators import task
            from airflow.hooks.base import BaseHook
            from airflow.models import Variable

        with DAG("secrets_probe", schedule=None, start_date=datetime(2024, 1, 1)):
            @task
            def read_them_all():
                connection = BaseHook.get_connection("probe")
                print("password:", connection.password)
                print("extra:", connection.extra_dejson)
                print("token:", Variable.get("service_token"))
                assert connection.login == "probe-user"

            read_them_all()
        """,
}

# Where the secrets belong: their own owner-only stores.
OWN_STORES = ("admin-password.json", "native/pgpass", "aws/moto-state.pickle",
              "native/postgres/")


def _secrets(project: Path) -> list[str]:
    admin = json.loads((project / ".mwaa-kit" / "admin-password.json").read_text())
    return [PASSWORD, API_KEY, TOKEN, *admin.values()]


def test_no_command_shows_a_secret_and_no_file_keeps_one(project_dir):
    project = write_project(project_dir, PROJECT)
    outputs = [run_cli("up", project=project, check=True)]
    outputs.append(run_cli("dags", "test", "secrets_probe", "-v", project=project, check=True))
    outputs.append(run_cli("dags", "trigger", "secrets_probe", "--wait", "--timeout", "600",
                           project=project, check=True))
    outputs += [run_cli("status", project=project, check=True),
                run_cli("status", "--format", "json", project=project, check=True)]
    components = json.loads(outputs[-1].stdout)["processes"]
    outputs += [run_cli("logs", name, "-n", "100000", project=project, check=True)
                for name in components]
    secrets = _secrets(project)

    shown = [(" ".join(result.args[3:]), secret) for result in outputs for secret in secrets
             if secret in result.stdout + result.stderr]
    assert shown == []

    state = project / ".mwaa-kit"
    kept = []
    for path in state.rglob("*"):
        relative = path.relative_to(state).as_posix()
        if not path.is_file() or path.is_symlink() or relative.startswith(OWN_STORES):
            continue
        data = path.read_bytes()
        kept += [(relative, secret) for secret in secrets if secret.encode() in data]
    assert kept == []
    for store in ("admin-password.json", "native/pgpass", "aws/moto-state.pickle"):
        assert os.stat(state / store).st_mode & 0o777 == 0o600, store
