"""A trial environment: the project as it would run on another Airflow version, brought
up beside (never instead of) the project's own environment.

upgrade-check's `--run` and `--pytest` need the target version for real: its virtualenv,
a metadata database it migrated, the emulators. The trial is a copy of the project in a
temporary folder whose mwaa-kit.toml names the target version, so it has a state folder
of its own (PostgreSQL cluster, emulated account, the stub's org, AIRFLOW_HOME) and picks
its own free ports: the project's files, and its environment if one runs on the current
version, stay as they are. The native runtime's own launcher brings it up when a DAG is
first run; on exit it is stopped and deleted, leaving no process behind.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mwaa_kit.errors import KitError
from mwaa_kit.project import (
    CONFIG_FILE,
    STATE_DIR,
    Project,
    ProjectConfigError,
    load_project,
)
from mwaa_kit.runtime.dag_test import dags_test
from mwaa_kit.runtime.native.environment import NativeEnvironment

# Left out of the copy: the kit's state (the trial makes its own), and what no DAG, plugin
# or test reads but may weigh gigabytes.
_NOT_COPIED = shutil.ignore_patterns(STATE_DIR, ".git", ".venv", ".tox", "node_modules",
                                     "__pycache__", ".pytest_cache", ".ruff_cache", "cdk.out")
_VERSION_LINE = re.compile(r"(?m)^[ \t]*airflow_version[ \t]*=.*$")
_ENVIRONMENT_TABLE = re.compile(r"(?m)^[ \t]*\[environment\][ \t]*$")
LOG_LINES = 20


class TrialProjectError(KitError, RuntimeError):
    """The copy of the project could not be set to the target version."""


class Trial:
    """The project's copy on the target version, and its environment once a DAG ran.

    :param project: the copy, its mwaa-kit.toml naming the target version.
    :param report: hears each slow step.
    """

    def __init__(self, project: Project, report: Callable[[str], None] = lambda m: None):
        self.project = project
        self.report = report
        self._environment: NativeEnvironment | None = None
        self._failure: KitError | None = None

    def dags_test(self, dag_id: str) -> dict:
        """Run `dag_id` once with `airflow dags test` in the trial environment (brought up
        first if need be): the run (`Runtime.run_states`), `returncode`, `failed_task`
        (None when none failed) and `log_tail`, the end of the failed task's part of
        Airflow's output, or of the whole output when no task failed. A KitError when the
        environment cannot start (raised again for each DAG: one failed start is enough)."""
        environment = self._up()
        self.report(f"Running {dag_id} once with `airflow dags test` on Airflow "
                    f"{self.project.airflow_version}")
        outcome = dags_test(environment, dag_id)
        failed = outcome.failed_task
        output = outcome.log.read_text(errors="replace")
        return {"run": outcome.run, "returncode": outcome.returncode,
                "failed_task": failed and failed["task_id"],
                "log_tail": task_tail(output, failed and failed["task_id"])}

    def _up(self) -> NativeEnvironment:
        if self._failure:
            raise self._failure
        if self._environment is None:
            self.report(f"Bringing up a trial environment of Airflow "
                        f"{self.project.airflow_version} (its own state and ports)")
            self._environment = NativeEnvironment(self.project, self.report)
            try:
                self._environment.up()
            except KitError as error:
                self._failure = error
                raise
        return self._environment

    def close(self) -> None:
        """Stop whatever of the trial environment started."""
        if self._environment is not None:
            self.report("Stopping the trial environment")
            self._environment.down()


@contextmanager
def trial_environment(project: Project, version: str,
                      report: Callable[[str], None] = lambda message: None
                      ) -> Iterator[Trial]:
    """A `Trial` of `project` on Airflow `version`, stopped and deleted on exit.

    :param project: the project to copy (left unchanged).
    :param version: the Airflow version the copy names.
    :param report: hears each slow step.
    """
    report(f"Copying the project for a trial on Airflow {version}")
    folder = Path(tempfile.mkdtemp(prefix="mwaa-kit-trial-"))
    trial = None
    try:
        trial = Trial(copy_project(project, folder / "project", version), report)
        yield trial
    finally:
        if trial is not None:
            trial.close()
        shutil.rmtree(folder, ignore_errors=True)


def copy_project(project: Project, destination: Path, version: str) -> Project:
    """Copy `project` to `destination` (without its state), its mwaa-kit.toml naming
    Airflow `version`: the copy, loaded.

    :param project: the project to copy.
    :param destination: the copy's folder (made here).
    :param version: the Airflow version the copy names.
    """
    shutil.copytree(project.root, destination, symlinks=True, ignore=_NOT_COPIED)
    # Under root, PostgreSQL runs as `postgres`, which must reach its cluster in the copy
    # (mkdtemp makes owner-only folders; so may the project's own).
    for folder in (destination.parent, destination):
        folder.chmod(0o755)
    config = destination / CONFIG_FILE
    text = config.read_text() if config.exists() else ""
    config.write_text(with_version(text, version))
    try:
        copy = load_project(destination)
    except ProjectConfigError:  # a form of the file the line edit does not know
        copy = None
    if copy is None or copy.airflow_version != version:
        raise TrialProjectError(
            f"{project.config_file} could not be set to Airflow {version} in a copy",
            hint='Write the version as `airflow_version = "X.Y.Z"` under [environment].')
    return copy


def with_version(text: str, version: str) -> str:
    """mwaa-kit.toml's `text` with [environment]'s airflow_version set to `version`.

    :param text: the file's text (empty when there is none).
    :param version: the Airflow version to name.
    """
    line = f'airflow_version = "{version}"'
    text, found = _VERSION_LINE.subn(line, text, count=1)
    if not found:
        text, found = _ENVIRONMENT_TABLE.subn(f"[environment]\n{line}", text, count=1)
    return text if found else f"[environment]\n{line}\n\n{text}"


def task_tail(output: str, task_id: str | None, lines: int = LOG_LINES) -> str:
    """The end of `task_id`'s part of `airflow dags test`'s `output`: the `lines` lines up
    to the last that names the task (2.x: "Marking task as FAILED. ..., task_id=T, ...";
    3.x: "[DAG TEST] end task task_id=T ..."), where its error is; the output's last lines
    when `task_id` is None or no line names it.

    :param output: what `airflow dags test` printed.
    :param task_id: the task that failed, or None.
    :param lines: how many lines to keep.
    """
    text = output.rstrip().splitlines()
    end = len(text)
    if task_id:
        names = re.compile(rf"task_id={re.escape(task_id)}(?![\w.-])")
        end = next((index + 1 for index in reversed(range(len(text)))
                    if names.search(text[index])), end)
    return "\n".join(text[max(0, end - lines):end])
