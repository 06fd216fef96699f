"""One run of a DAG with `airflow dags test`, in a running environment of either runtime.

`mwaa-kit dags test` and upgrade-check's `--run` (in a trial environment of the target
version) run a DAG the same way: the DAG paused in the environment while the test runs,
Airflow's output kept in a log with the project's secrets masked, the run's state read
back from the metadata database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mwaa_kit.project import Project
from mwaa_kit.runtime.redaction import Redactor, project_secrets

_NOT_FAILED = {"success", "skipped", None}


@dataclass(frozen=True)
class DagTest:
    """What one `airflow dags test` left.

    :param run: the run and its tasks as `Runtime.run_states` reads them; its state is
        None when `dags test` made no run (an unknown DAG id, a DAG that does not import).
    :param returncode: the exit status of `airflow dags test`.
    :param log: Airflow's output, secrets masked.
    """

    run: dict
    returncode: int
    log: Path

    @property
    def failed_task(self) -> dict | None:
        """The first task (in start order) that failed, else the first that did not
        succeed (upstream_failed, still running...), None when none."""
        tasks = [task for task in self.run["tasks"] if task["state"] not in _NOT_FAILED]
        return next((task for task in tasks if task["state"] == "failed"),
                    tasks[0] if tasks else None)


def log_path(project: Project, dag_id: str) -> Path:
    """Where a test of `dag_id` keeps Airflow's output.

    :param project: the project whose state folder holds the log.
    :param dag_id: the DAG tested.
    """
    return project.state_dir / "logs" / f"dags-test-{dag_id}.log"


def dags_test(environment, dag_id: str, logical_date: str | None = None,
              on_line: Callable[[str], None] | None = None) -> DagTest:
    """Run `dag_id` once in `environment` (a running `Runtime`) with `airflow dags test`.

    :param environment: the running environment (its `project` names the log's folder).
    :param dag_id: the DAG to run.
    :param logical_date: the run's logical date; None lets Airflow choose (now).
    :param on_line: also hears each line of Airflow's output, secrets masked.
    """
    redact = Redactor(project_secrets(environment.project))
    path = log_path(environment.project, dag_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    path.chmod(0o600)
    with path.open("w") as log, _scheduler_kept_off(environment, dag_id):
        def write(line: str) -> None:
            line = redact(line)
            log.write(line)
            if on_line:
                on_line(line)

        result = environment.airflow("dags", "test", dag_id, *filter(None, [logical_date]),
                                     on_line=write)
    return DagTest(environment.run_states(dag_id), result.returncode, path)


@contextmanager
def _scheduler_kept_off(environment, dag_id: str) -> Iterator[None]:
    """Pause an unpaused DAG for the length of a test: the running scheduler queues the
    tasks of an unpaused DAG's runs, the test's own included, and both then try to run
    the same task instance (Airflow answers 409 'TI was not in a state ...')."""
    unpaused = environment.run_states(dag_id).get("paused") is False
    if unpaused:
        environment.airflow("dags", "pause", dag_id)
    try:
        yield
    finally:
        if unpaused:
            environment.airflow("dags", "unpause", dag_id)
