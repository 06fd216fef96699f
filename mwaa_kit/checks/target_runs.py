"""upgrade-check's `--run DAG_ID` and `--pytest`: the project really run on the target.

The static checks say what the target's Airflow refuses to import or parse; a DAG whose
tasks fail only when they run (a template reading a context key the target removed, an
operator whose behaviour changed) shows only in a run. Each DAG named is run once with
`airflow dags test` in a trial environment of the target version against the emulators,
and the project's tests run against the target (project_tests). Each run is a check result
of its own ("run DAG_ID"): its state, and on failure the failing task and the end of its
log.

The trial environment is the runtime's (mwaa_kit.runtime.trial); the caller hands its
factory in, since checks do not import the runtimes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from mwaa_kit.checks import project_tests
from mwaa_kit.checks.findings import CheckResult, Finding, relative
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project

OpenTrial = Callable[[Project, str, Callable[[str], None]], AbstractContextManager]


def run(project: Project, to: str, dag_ids: Iterable[str], with_pytest: bool,
        open_trial: OpenTrial, report: Callable[[str], None] = lambda message: None
        ) -> list[CheckResult]:
    """The results of running `dag_ids` and (with `with_pytest`) the project's tests on
    Airflow `to`, in one trial environment.

    :param project: the project (unchanged: the trial works on a copy).
    :param to: the target Airflow version.
    :param dag_ids: the DAGs to run once each, in this order (repeats run once).
    :param with_pytest: also run the project's tests/ against the target.
    :param open_trial: `mwaa_kit.runtime.trial.trial_environment` (or a stand-in): a
        context manager of an object with `project` (the copy) and `dags_test(dag_id)`.
    :param report: hears each slow step.
    """
    results = []
    with open_trial(project, to, report) as trial:
        for dag_id in dict.fromkeys(dag_ids):
            results.append(dag_run(trial, dag_id))
        if with_pytest:
            begin = time.monotonic()
            results.append(project_tests.run(trial.project, report))
            results[-1].seconds = time.monotonic() - begin
    return results


def dag_run(trial, dag_id: str) -> CheckResult:
    """Run `dag_id` once in `trial`: a check result named "run DAG_ID".

    :param trial: a trial environment (`project`, `dags_test(dag_id)`).
    :param dag_id: the DAG to run.
    """
    result = CheckResult(f"run {dag_id}")
    version = trial.project.airflow_version
    begin = time.monotonic()
    try:
        outcome = trial.dags_test(dag_id)
    except KitError as error:
        result.findings.append(Finding(
            "run", "error", f"{dag_id} did not run: the trial environment of Airflow "
                            f"{version} did not start: {error.message}",
            hint=error.hint, code="run.environment"))
        return result
    finally:
        result.seconds = time.monotonic() - begin
    run, failed, tail = outcome["run"], outcome["failed_task"], outcome["log_tail"]
    result.details = {"dag_id": dag_id, "run_id": run.get("run_id"), "state": run["state"],
                      "tasks": run["tasks"], "failed_task": failed,
                      "exit_status": outcome["returncode"],
                      "summary": f"{run['state'] or 'no run'}, {len(run['tasks'])} task(s)"
                                 + (f", {failed} failed" if failed else "")}
    where = relative(trial.project.root, run.get("fileloc"))
    if run["state"] == "success":
        result.findings.append(Finding(
            "run", "info", f"{dag_id} succeeded on Airflow {version} "
                           f"({len(run['tasks'])} task(s))", file=where, code="run.success"))
        return result
    result.details["log_tail"] = tail
    if run["state"] is None:
        message = (f"`airflow dags test {dag_id}` made no run on Airflow {version} (exit "
                   f"status {outcome['returncode']}); its output ends:\n{tail}")
        hint = (f"Check that {dag_id} is a DAG id of the project: the dags findings say "
                f"whether its file imports on Airflow {version}.")
        code = "run.no_run"
    else:
        task = f"task {failed}" if failed else "no task"
        message = (f"{dag_id} {run['state']} on Airflow {version}: {task} failed; "
                   f"its log ends:\n{tail}")
        hint = f"Make {failed or dag_id} work on Airflow {version} (findings above may name why)."
        code = "run.failed"
    result.findings.append(Finding("run", "error", message, file=where, hint=hint, code=code))
    return result
