"""A throwaway AIRFLOW_HOME prepared by the contract, for checks that need Airflow.

`validate` applies the MWAA contract exactly as `up` does (contract.bundle.prepare:
startup.sh, requirements into the same cached virtualenv, plugins.zip extracted, forced
and default configuration), only into a scratch folder with a SQLite file standing in
for PostgreSQL (parsing never touches the metadata database). Parts another check already
found broken are left out so the remaining checks can still run and report.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from mwaa_kit.contract import configuration
from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment, bundle_from_project, prepare
from mwaa_kit.contract.plugins import PluginsError
from mwaa_kit.project import Project, cache_dir

IN_AIRFLOW = Path(__file__).resolve().parent / "in_airflow"
MARKER = "MWAA_KIT_JSON:"


class InAirflowError(RuntimeError):
    """A script run in the environment's Python failed before it could report."""


@dataclass
class Scratch:
    """A prepared scratch environment; `close()` removes it."""

    project: Project
    root: Path
    prepared: PreparedEnvironment
    left_out: list[str]

    def env(self) -> dict[str, str]:
        """What MWAA's DAG processor runs with (the scheduler container)."""
        return self.prepared.env("scheduler")

    def run_script(self, name: str, *arguments: str, timeout: float = 900) -> dict:
        """Run in_airflow/NAME with the environment's Python; return its JSON report."""
        command = [str(self.prepared.virtualenv.python), str(IN_AIRFLOW / name), *arguments]
        # The DAG files are the project's own: a check leaves no __pycache__ beside them.
        env = {**self.env(), "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            result = subprocess.run(command, env=env, cwd=self.root, capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise InAirflowError(f"{name} did not finish in {timeout:.0f} s") from None
        for line in reversed(result.stdout.splitlines()):
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise InAirflowError(f"{name} failed (exit status {result.returncode}):\n{tail}")

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def prepare_scratch(
    project: Project,
    report: Callable[[str], None] = lambda message: None,
    skip_startup: bool = False,
    skip_plugins: bool = False,
    runtime_env: dict[str, str] | None = None,
) -> Scratch:
    """Apply the contract to `project` in a new scratch AIRFLOW_HOME."""
    root = Path(tempfile.mkdtemp(prefix="mwaa-kit-validate-"))
    left_out = []
    try:
        try:
            bundle = bundle_from_project(project, root / "build")
        except PluginsError:
            bundle = Bundle(
                dags_dir=project.dags_dir, plugins_zip=None,
                requirements_text=_read(project.requirements_file),
                startup_script=_existing(project.startup_script),
                airflow_config=dict(project.airflow_config),
            )
            left_out.append("plugins.zip (it cannot be built)")
        if skip_plugins and bundle.plugins_zip:
            bundle = replace(bundle, plugins_zip=None)
            left_out.append("plugins.zip")
        if skip_startup and bundle.startup_script:
            bundle = replace(bundle, startup_script=None)
            left_out.append("startup.sh")
        refused = configuration.refused_options(project.version)
        allowed = {k: v for k, v in bundle.airflow_config.items() if k not in refused}
        if allowed != bundle.airflow_config:
            left_out.append("options MWAA refuses")
        bundle = replace(bundle, airflow_config=allowed)
        home = root / "airflow-home"
        prepared = prepare(
            bundle, project.version, project.environment_name, project.region, home,
            cache_dir(), _runtime_options(project, home), runtime_env or {}, report,
        )
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Scratch(project, root, prepared, left_out)


def _runtime_options(project: Project, home: Path) -> dict[str, str]:
    return {
        "database.sql_alchemy_conn": f"sqlite:///{home / 'airflow.db'}",
        "core.dags_folder": str(project.dags_dir),
        "logging.base_log_folder": str(home / "logs"),
    }


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def _existing(path: Path) -> Path | None:
    return path if path.exists() else None


def processes() -> int:
    """Parser processes: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
