"""End-to-end fixtures: real projects on disk, driven through the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from mwaa_kit import catalog

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


@pytest.fixture
def project_dir():
    """A fresh, world-traversable project folder, brought down and removed afterwards."""
    E2E_ROOT.mkdir(parents=True, exist_ok=True)
    E2E_ROOT.chmod(0o755)
    path = E2E_ROOT / f"project-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    yield path
    run_cli("down", project=path)
    shutil.rmtree(path, ignore_errors=True)
