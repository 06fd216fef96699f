"""End-to-end fixtures: real projects on disk, driven through the real CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from mwaa_kit import catalog
from tests.e2e.promote_emulators import aws, emulators  # noqa: F401 - the promotion tests' fixtures

# PostgreSQL runs as the `postgres` user when the tests run as root, so projects live
# under a folder every user can traverse (pytest's own tmp folders are owner-only).
E2E_ROOT = Path(os.environ.get("MWAA_KIT_E2E_ROOT", "/tmp/mwaa-kit-e2e"))
AIRFLOW_VERSION = os.environ.get("MWAA_KIT_AIRFLOW_VERSION", catalog.DEFAULT_VERSION)


def run_cli(*arguments: str, project: Path, check: bool = False, timeout: float = 1500):
    """Run `mwaa-kit ARGUMENTS` in `project`, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "mwaa_kit", *arguments], cwd=project, capture_output=True,
        text=True, timeout=timeout,
        env={"MWAA_KIT_RUNTIME": "native", **os.environ, "COLUMNS": "200"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"mwaa-kit {' '.join(arguments)} failed:\n{result.stdout}\n"
                             f"{result.stderr}")
    return result


def write_project(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def new_folder(name: str) -> Path:
    """A fresh folder `name-<random>` under E2E_ROOT, which every user may enter."""
    E2E_ROOT.mkdir(parents=True, exist_ok=True)
    E2E_ROOT.chmod(0o755)
    return E2E_ROOT / f"{name}-{uuid.uuid4().hex[:8]}"


def remove_project(project: Path) -> None:
    """Bring `project` down for good (its data purged) and delete its folder, so that e2e
    runs leave nothing behind under E2E_ROOT."""
    run_cli("down", "--purge", "--yes", project=project)
    shutil.rmtree(project, ignore_errors=True)


def copy_example(name: str, airflow_config: dict[str, str] | None = None,
                 airflow_version: str | None = AIRFLOW_VERSION) -> Path:
    """A copy of the repository's example project under E2E_ROOT, on the Airflow version
    under test (tox sets it per environment; None keeps the example's own); `airflow_config`
    options are added to its [airflow_config]."""
    source = Path(__file__).resolve().parents[2]
    project = new_folder(name)
    for folder in ("dags", "plugins", "requirements"):
        shutil.copytree(source / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(source / "seed.toml", project / "seed.toml")
    config = (source / "mwaa-kit.toml").read_text()
    if airflow_version:
        config, replaced = re.subn(r'(?m)^airflow_version = ".*"$',
                                   f'airflow_version = "{airflow_version}"', config)
        assert replaced == 1, "mwaa-kit.toml should name its airflow_version once"
    for option, value in (airflow_config or {}).items():
        line = f'"{option}" = "{value}"'
        config, found = re.subn(rf'(?m)^"{re.escape(option)}" = .*$', line, config)
        if not found:
            config = config.replace("[airflow_config]\n", f"[airflow_config]\n{line}\n", 1)
    (project / "mwaa-kit.toml").write_text(config)
    return project


@pytest.fixture
def project_dir():
    """A fresh, world-traversable project folder, brought down and removed afterwards."""
    path = new_folder("project")
    path.mkdir()
    yield path
    run_cli("down", project=path)
    shutil.rmtree(path, ignore_errors=True)
