"""The native metadata database: loopback only, a password, and under root a cluster kept
where the `postgres` user reaches it when it cannot enter the project's folder (over a real
PostgreSQL server)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from mwaa_kit.runtime import processes
from mwaa_kit.runtime.native import postgres
from tests.e2e.conftest import new_folder

pytestmark = pytest.mark.e2e


@pytest.fixture
def root():
    folder = new_folder("postgres")
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _psql(port: int, env: dict[str, str]) -> subprocess.CompletedProcess:
    psql = postgres.find_bin_dir() / "psql"
    return subprocess.run([str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", postgres.ROLE,
                           "-d", "postgres", "-w", "-tAc", "SELECT 1"],
                          capture_output=True, text=True, env=env)


def _without_passfile() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PGPASSFILE"}


def test_the_server_asks_for_the_password_kept_in_its_0600_passfile(root):
    port = processes.free_port()
    record = postgres.start(root / "data", root / "postgres.log", port, "airflow_x")
    try:
        refused = _psql(port, _without_passfile())
        assert refused.returncode != 0 and "password" in refused.stderr
        allowed = _psql(port, {**_without_passfile(), **postgres.client_env(root / "data")})
        assert allowed.stdout.strip() == "1", allowed.stderr
        assert postgres.passfile(root / "data").stat().st_mode & 0o777 == 0o600
    finally:
        processes.stop(record)


def test_a_cluster_made_with_trust_is_given_the_password_on_its_next_start(root):
    data = root / "data"
    port = processes.free_port()
    processes.stop(postgres.start(data, root / "postgres.log", port, "airflow_x"))
    hba = data / "pg_hba.conf"  # as the kit's earlier versions left it
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
    record = postgres.start(data, root / "postgres.log", port, "airflow_x")
    try:
        assert _psql(port, _without_passfile()).returncode != 0
        methods = {line.split()[-1] for line in hba.read_text().splitlines()
                   if line.strip() and not line.startswith("#")}
        assert methods == {"scram-sha-256"}
    finally:
        processes.stop(record)


@pytest.mark.skipif(os.geteuid() != 0, reason="the folder rule concerns runs as root only")
def test_as_root_a_project_in_a_private_folder_gets_its_cluster_where_postgres_reaches_it():
    private = Path(tempfile.mkdtemp(prefix="mwaa-kit-private-"))  # mode 0700, as mktemp -d
    data = postgres.cluster_dir(private / "project" / ".mwaa-kit" / "native")
    try:
        assert data.is_relative_to(postgres.SHARED_CLUSTERS)
        port = processes.free_port()
        record = postgres.start(data, private / "postgres.log", port, "airflow_x")
        try:
            assert data.stat().st_uid == pwd.getpwnam("postgres").pw_uid
            allowed = _psql(port, {**_without_passfile(), **postgres.client_env(data)})
            assert allowed.stdout.strip() == "1", allowed.stderr
        finally:
            processes.stop(record)
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(data.parent, ignore_errors=True)
