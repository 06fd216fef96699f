"""`dags test` and `dags trigger`: run a DAG and report each task's final state."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.table import Table

from mwaa_kit.cli.output import console, friendly_errors, print_json, project_option, stdout
from mwaa_kit.project import load_project
from mwaa_kit.runtime.dag_test import dags_test
from mwaa_kit.runtime.select import running_environment

_FINISHED = {"success", "failed"}


@click.group()
def dags():
    """Run DAGs in the local environment."""


@dags.command("test")
@project_option
@click.argument("dag_id")
@click.argument("logical_date", required=False)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@click.option("--verbose", "-v", is_flag=True,
              help="Stream Airflow's own output (secrets masked) instead of keeping it in a log.")
@friendly_errors
def test(project_dir, dag_id, logical_date, output_format, verbose):
    """Run DAG_ID once, in-process like `airflow dags test`, in the environment's
    virtualenv; exit non-zero unless every task succeeded.

    Airflow's output goes to .mwaa-kit/logs/dags-test-DAG_ID.log (its last lines are shown
    when the run fails); the project's secrets are masked in it. While the test runs, the
    DAG is paused in the running environment so that its scheduler leaves the test's tasks
    alone, and unpaused again after.
    """
    environment = running_environment(load_project(project_dir))

    def echo(line: str) -> None:
        console.out(line, end="", highlight=False)

    with _running(f"Running {dag_id} with `airflow dags test`", quiet=verbose):
        outcome = dags_test(environment, dag_id, logical_date, on_line=echo if verbose else None)
    run, log_path = outcome.run, outcome.log
    if run["state"] is None:
        _show_tail(log_path)
        console.print(f"[bold red]error:[/] `airflow dags test` made no run of {dag_id} "
                      f"(exit status {outcome.returncode}); Airflow's output: {log_path}",
                      soft_wrap=True)
        sys.exit(1)
    if run["state"] != "success" and not verbose:
        _show_tail(log_path)
    console.print(f"[dim]Airflow's output: {log_path}[/]", soft_wrap=True)
    _report(run, output_format)


@contextmanager
def _running(message: str, quiet: bool) -> Iterator[None]:
    if quiet:
        yield
        return
    with console.status(message):
        yield


def _show_tail(log_path: Path, lines: int = 40) -> None:
    tail = log_path.read_text(errors="replace").splitlines()[-lines:]
    console.out("\n".join(tail), highlight=False)


@dags.command("trigger")
@project_option
@click.argument("dag_id")
@click.option("--wait", is_flag=True, help="Wait for the run to finish; exit non-zero if it fails.")
@click.option("--timeout", default=1800, show_default=True, help="Seconds to wait at most.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@friendly_errors
def trigger(project_dir, dag_id, wait, timeout, output_format):
    """Trigger a run of DAG_ID through the running scheduler (unpausing the DAG)."""
    environment = running_environment(load_project(project_dir))
    now = datetime.now(UTC)
    run_id = f"mwaa_kit__{now.strftime('%Y%m%dT%H%M%S%f')}"
    # A logical date, as MWAA's UI gives one: Airflow 3 would otherwise make a run with
    # no data interval, and templates such as {{ ds }} would not render.
    date_flag = "--logical-date" if environment.project.version.major >= 3 else "--exec-date"
    trigger = ("dags", "trigger", dag_id, "-r", run_id, date_flag, now.isoformat())
    for arguments in (("dags", "unpause", dag_id), trigger):
        result = environment.airflow(*arguments)
        if result.returncode != 0:
            console.print(f"[bold red]error:[/] `airflow {' '.join(arguments[:2])}` failed:\n"
                          + (result.stderr or result.stdout)[-2000:])
            sys.exit(1)
    if not wait:
        if output_format == "json":
            print_json({"dag_id": dag_id, "run_id": run_id, "state": "queued"})
        else:
            stdout.print(f"Triggered {dag_id}: run {run_id}")
        return
    deadline = time.monotonic() + timeout
    with console.status(f"Waiting for {dag_id} run {run_id}") as spinner:
        while True:
            run = environment.run_states(dag_id, run_id)
            done = sum(task["state"] in _FINISHED | {"skipped", "upstream_failed"}
                       for task in run["tasks"])
            spinner.update(f"{dag_id} {run['state']}: {done}/{len(run['tasks'])} tasks done")
            if run["state"] in _FINISHED or time.monotonic() > deadline:
                break
            time.sleep(2)
    _report(run, output_format)


def _report(run: dict, output_format: str) -> None:
    """Print each task's final state; exit 1 unless the run succeeded."""
    if output_format == "json":
        print_json(run)
    else:
        table = Table(title=f"{run['dag_id']} · {run['run_id']} · {run['state']}")
        table.add_column("task")
        table.add_column("state")
        for task in run["tasks"]:
            colour = "green" if task["state"] == "success" else "red"
            name = task["task_id"] + (f"[{task['map_index']}]" if task["map_index"] >= 0 else "")
            table.add_row(name, f"[{colour}]{task['state']}[/]")
        stdout.print(table)
    if run["state"] != "success":
        sys.exit(1)
