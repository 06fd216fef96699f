"""Finding the Python interpreter MWAA uses for an Airflow version."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from uv import find_uv_bin

from mwaa_kit.errors import KitError


class PythonNotFoundError(KitError, RuntimeError):
    """MWAA's Python for this Airflow version is not installed on this machine."""


def find_python(version: str) -> Path:
    """Locate a `python<version>` interpreter: uv's discovery first, then pyenv's tree."""
    uv = find_uv_bin()
    if uv:
        found = subprocess.run(
            [uv, "python", "find", "--system", "--no-python-downloads", version],
            capture_output=True, text=True,
        )
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip())
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted((pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"))
    if candidates:
        return candidates[-1]
    raise PythonNotFoundError(
        f"Python {version} is needed (MWAA runs this Airflow version on it) but none was "
        f"found. Install it with `uv python install {version}` or `pyenv install {version}`."
    )
