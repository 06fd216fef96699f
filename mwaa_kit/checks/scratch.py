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


@dataclass(frozen=True)
class Step:
    """A script of in_airflow/ to run in the environment's Python.

    :param script: its file name in in_airflow/ (a path: another script, in tests).
    :param arguments: its command-line arguments.
    :param timeout: seconds it may take before it is killed.
    """

    script: str
    arguments: tuple[str, ...] = ()
    timeout: float = 900


@dataclass(frozen=True)
class StepOutcome:
    """What a step reported (its JSON), or why it did not; and its seconds, with its share
    of the Airflow import the steps run together shared."""

    report: dict | None
    error: InAirflowError | None
    seconds: float


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

    def run_steps(self, steps: dict[str, Step]) -> dict[str, StepOutcome]:
        """Run the steps in one Python that imports Airflow once (in_airflow/run_steps.py),
        each in a child of its own; their outcomes by name, in the same order."""
        folder = Path(tempfile.mkdtemp(prefix="steps-", dir=self.root))
        request = folder / "request.json"
        request.write_text(json.dumps({"steps": [
            {"name": name, "script": str(IN_AIRFLOW / step.script),
             "arguments": list(step.arguments),
             "timeout": step.timeout, "stdout": str(folder / f"{name}.out"),
             "stderr": str(folder / f"{name}.err")} for name, step in steps.items()]}))
        try:
            ran = self._run("run_steps.py", str(request),
                            timeout=sum(step.timeout for step in steps.values()) + 300)
        except InAirflowError as error:
            return {name: StepOutcome(None, error, 0.0) for name in steps}
        share = ran["import_seconds"] / len(steps)
        outcomes = {}
        for name, step in steps.items():
            seconds, status = ran["steps"][name]["seconds"], ran["steps"][name]["exit_status"]
            try:
                report = _report(step.script, status, _read(folder / f"{name}.out"),
                                 _read(folder / f"{name}.err"), step.timeout)
            except InAirflowError as error:
                outcomes[name] = StepOutcome(None, error, seconds + share)
            else:
                outcomes[name] = StepOutcome(report, None, seconds + share)
        return outcomes

    def run_script(self, step: Step) -> dict:
        """Run one step; return its JSON report or raise InAirflowError."""
        outcome = self.run_steps({"step": step})["step"]
        if outcome.error:
            raise outcome.error
        return outcome.report

    def _run(self, name: str, *arguments: str, timeout: float) -> dict:
        command = [str(self.prepared.virtualenv.python), str(IN_AIRFLOW / name), *arguments]
        # The DAG files are the project's own: a check leaves no __pycache__ beside them.
        env = {**self.env(), "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            result = subprocess.run(command, env=env, cwd=self.root, capture_output=True,
                                    text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return _report(name, None, "", "", timeout)
        return _report(name, result.returncode, result.stdout, result.stderr, timeout)

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


def _report(name: str, status: int | None, stdout: str, stderr: str, timeout: float) -> dict:
    """A script's JSON report: its last MARKER line (Airflow may log around it). `status`
    None: it ran out of `timeout` and was killed."""
    if status is None:
        raise InAirflowError(f"{name} did not finish in {timeout:.0f} s")
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
    raise InAirflowError(f"{name} failed (exit status {status}):\n{tail}")


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
