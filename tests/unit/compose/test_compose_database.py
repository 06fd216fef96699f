"""The compose stack's metadata database: one per Airflow version in the postgres volume,
so switching `airflow_version` never hands one version's schema to another."""

import re
from pathlib import Path

import yaml

from mwaa_kit.project import Project
from mwaa_kit.runtime.compose.stack import COMPOSE_FILE, ComposeEnvironment

ROOT = Path(__file__).resolve().parents[3]


def _env_file(tmp_path: Path, version: str) -> dict[str, str]:
    stack = ComposeEnvironment(Project(root=tmp_path, airflow_version=version))
    stack.compose_dir.mkdir(parents=True, exist_ok=True)
    stack._write_env_file({"ui": 8080, "aws": 4566, "salesforce": 8443, "mwaa": 8000,
                           "web": 8444}, workers=1)
    return dict(line.split("=", 1) for line in stack.env_file.read_text().splitlines())


def _database_url(variables: dict[str, str]) -> str:
    """The compose file's database URL with ${NAME:-default} substituted as compose does."""
    template = yaml.safe_load(COMPOSE_FILE.read_text())["x-airflow"]["environment"][
        "MWAA_KIT_DATABASE_URL"]
    return re.sub(r"\$\{(\w+):-([^}]*)\}",
                  lambda m: variables.get(m[1], "").strip("'") or m[2], template)


def test_each_version_s_stack_uses_its_own_database(tmp_path):
    newer = _database_url(_env_file(tmp_path / "a", "3.3.1"))
    older = _database_url(_env_file(tmp_path / "b", "2.11.0"))
    assert newer == "postgresql+psycopg2://airflow@postgres:5432/airflow_3_3_1"
    assert older == "postgresql+psycopg2://airflow@postgres:5432/airflow_2_11_0"


def test_a_hand_run_without_the_kit_s_variables_uses_the_image_s_own_database():
    assert _database_url({}).endswith("/airflow")
    assert "CREATE DATABASE airflow;" in (ROOT / "docker/postgres/Dockerfile").read_text()
