"""The compose init job's per-version database (in_airflow/create_database.py), run as the
job runs it: with an Airflow virtualenv's Python, against a real PostgreSQL server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.contract.requirements import ensure_virtualenv
from mwaa_kit.project import cache_dir
from mwaa_kit.runtime import processes
from mwaa_kit.runtime.native import postgres
from tests.e2e.conftest import AIRFLOW_VERSION, new_folder

pytestmark = pytest.mark.e2e

SCRIPT = (Path(__file__).resolve().parents[2] / "mwaa_kit" / "runtime" / "in_airflow"
          / "create_database.py")


@pytest.fixture
def server():
    """A fresh PostgreSQL cluster with only the version's database in it."""
    root = new_folder("create-database")
    root.mkdir()
    port = processes.free_port()
    record = postgres.start(root / "data", root / "postgres.log", port, "airflow_3_3_1")
    yield port, root
    processes.stop(record)
    shutil.rmtree(root, ignore_errors=True)


def _databases(port: int, root: Path) -> set[str]:
    psql = postgres.find_bin_dir() / "psql"
    out = subprocess.run([str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", postgres.ROLE,
                          "-d", "postgres", "-tAc", "SELECT datname FROM pg_database"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, **postgres.client_env(root / "data")}).stdout
    return set(out.split())


def test_the_init_job_creates_a_missing_version_database_once(server):
    port, root = server
    version = catalog.get_version(AIRFLOW_VERSION)
    constraints, _ = catalog.constraints_text(version, cache_dir() / "constraints")
    venv = ensure_virtualenv(version, "", constraints, cache_dir() / "venvs",
                             environ=dict(os.environ),
                             log_path=root / "requirements-install.log")
    url = postgres.url(port, postgres.database_name("2.11.0"))

    def create():
        return subprocess.run([str(venv.python), str(SCRIPT), url], capture_output=True,
                              text=True, check=True,
                              env={**os.environ, **postgres.client_env(root / "data")}).stdout

    assert "airflow_2_11_0" not in _databases(port, root)
    assert create().strip() == "created database airflow_2_11_0"
    assert {"airflow_3_3_1", "airflow_2_11_0"} <= _databases(port, root)
    assert create() == ""  # the next `up` on that version finds it and keeps its data
