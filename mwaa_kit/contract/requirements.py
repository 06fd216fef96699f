"""requirements.txt as MWAA installs it, into the environment's own virtualenv.

MWAA runs `pip install -r requirements.txt` on top of its image, adding the Airflow
constraints file unless the file already has its own `-c`/`--constraint` line, and always
keeping its essential packages at their pins. Here the image is a virtualenv built with
uv from MWAA's Python; each distinct (version, requirements, constraints) gets its own
virtualenv, keyed by their hash, so an unchanged bundle installs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

from mwaa_kit import catalog
from mwaa_kit.contract.python import find_python
from mwaa_kit.errors import KitError
from mwaa_kit.uv_settings import uv_environment

_COMPLETE_MARKER = ".mwaa-kit-complete"


class RequirementsError(KitError, RuntimeError):
    """The requirements could not be installed; the message carries the installer's words."""


def has_own_constraints(requirements_text: str) -> bool:
    """True when a line already names a constraints file, as MWAA checks it."""
    return any(
        line.strip().startswith(("-c ", "--constraint ", "--constraint="))
        for line in requirements_text.splitlines()
    )


def without_official_constraints(requirements_text: str, official_url: str) -> str:
    """Drop a constraints line naming the version's official file: it asks for exactly what
    the contract adds when no constraints are named, and the contract then uses its own copy
    (the cached download, or the catalog's lock where GitHub cannot be reached). A packaged
    requirements.txt carries that line for MWAA."""
    def names_official(line: str) -> bool:
        stripped = line.strip()
        return has_own_constraints(stripped) and stripped.replace("=", " ").split()[-1] == \
            official_url
    return "".join(line for line in requirements_text.splitlines(keepends=True)
                   if not names_official(line))


def effective_requirements(requirements_text: str, constraints_path: Path) -> str:
    """The requirements file MWAA really installs: the user's, plus constraints if absent."""
    text = requirements_text.rstrip("\n")
    if has_own_constraints(text):
        return text + "\n"
    return f"{text}\n-c {constraints_path}\n".lstrip("\n")


def environment_key(
    version: catalog.AirflowVersion, requirements_text: str, constraints_text: str
) -> str:
    """The cache key of a virtualenv: what MWAA would install, nothing else."""
    digest = hashlib.sha256()
    for part in (
        version.airflow_version,
        version.python_version,
        "\n".join(version.essential_pins),
        "\n".join(version.base_requirements),
        constraints_text,
        requirements_text,
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Virtualenv:
    """The Airflow virtualenv of one bundle."""

    path: Path
    installed_now: bool

    @property
    def bin_dir(self) -> Path:
        return self.path / "venv" / "bin"

    @property
    def python(self) -> Path:
        return self.bin_dir / "python"


def ensure_virtualenv(
    version: catalog.AirflowVersion,
    requirements_text: str,
    constraints_text: str,
    envs_dir: Path,
    environ: dict[str, str],
    log_path: Path,
    report: Callable[[str], None] = lambda message: None,
    timeout: float | None = None,
) -> Virtualenv:
    """Return the virtualenv for this bundle, installing it first if it does not exist.

    `environ` is the environment the startup script left: MWAA installs requirements
    after sourcing it, so its exports (an index URL, say) apply to the install.
    """
    requirements_text = without_official_constraints(requirements_text, version.constraints_url)
    key = environment_key(version, requirements_text, constraints_text)
    path = envs_dir / f"airflow-{version.airflow_version}-{key}"
    if (path / _COMPLETE_MARKER).exists():
        return Virtualenv(path, installed_now=False)
    envs_dir.mkdir(parents=True, exist_ok=True)
    with (envs_dir / f"{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another project may be building the same one
        if (path / _COMPLETE_MARKER).exists():
            return Virtualenv(path, installed_now=False)
        try:
            _install(version, requirements_text, constraints_text, path, environ, log_path,
                     report, timeout)
        except BaseException:
            # A failed install is never reused (no marker): keeping its few hundred MB
            # in the cache would only fill the disk, one per failed attempt.
            shutil.rmtree(path, ignore_errors=True)
            raise
    return Virtualenv(path, installed_now=True)


def _install(version, requirements_text, constraints_text, path, environ, log_path, report,
             timeout) -> None:
    """Build the virtualenv at `path`: MWAA's image first, then the user's requirements."""
    shutil.rmtree(path, ignore_errors=True)  # an install that was interrupted
    path.mkdir(parents=True)
    constraints_path = path / "constraints.txt"
    constraints_path.write_text(constraints_text)
    essential_path = path / "essential-pins.txt"
    essential_path.write_text("\n".join(version.essential_pins) + "\n")
    user_requirements = path / "requirements.txt"
    user_requirements.write_text(effective_requirements(requirements_text, constraints_path))

    python = find_python(version.python_version)
    env = uv_environment(environ)
    timeout = timeout or catalog.mwaa().requirements_timeout_seconds
    with log_path.open("a") as log:
        report(f"Creating a Python {version.python_version} virtualenv for Airflow "
               f"{version.airflow_version}")
        venv = [find_uv_bin(), "venv", "--quiet", "--python", str(python), str(path / "venv")]
        _run(venv, env, log)
        report(f"Installing Airflow {version.airflow_version} and MWAA's providers")
        base = list(version.base_requirements)
        _run(_uv_install(path, ["-c", str(constraints_path), "-c", str(essential_path), *base]),
             env, log)
        if _has_requirements(requirements_text):
            report("Installing requirements.txt as MWAA does (constraints, essential pins)")
            _run(_uv_install(path, ["-r", str(user_requirements), "-c", str(essential_path)]),
                 env, log, timeout=timeout)
    (path / _COMPLETE_MARKER).write_text(path.name + "\n")


def _has_requirements(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("#") for line in text.splitlines())


def _uv_install(path: Path, arguments: list[str]) -> list[str]:
    python = path / "venv" / "bin" / "python"
    return [find_uv_bin(), "pip", "install", "--python", str(python), *arguments]


def _run(command: list[str], env: dict[str, str], log, timeout: float | None = None) -> None:
    log.write(f"$ {' '.join(command)}\n")
    log.flush()
    try:
        result = subprocess.run(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise RequirementsError(
            f"The requirements install took longer than MWAA's {int(timeout // 60)}-minute "
            "limit. Trim requirements.txt or ship wheels with `mwaa-kit package --wheels`."
        ) from None
    log.write(result.stdout)
    if result.returncode != 0:
        raise RequirementsError(
            "The requirements could not be installed as MWAA would install them:\n"
            + _tail(result.stdout)
        )


def _tail(output: str, lines: int = 25) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])
