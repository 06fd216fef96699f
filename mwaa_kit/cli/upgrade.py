"""`upgrade-check`: what breaks if the project moves to a newer MWAA version, found
locally before an environment update does."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mwaa_kit import catalog
from mwaa_kit.checks import target_runs
from mwaa_kit.checks.upgrade import upgrade_check as run_upgrade_check
from mwaa_kit.checks.upgrade_fix import FixOutcome
from mwaa_kit.checks.upgrade_fix import fix as fix_project
from mwaa_kit.cli.output import friendly_errors, progress, project_option, stdout
from mwaa_kit.cli.validate import emit
from mwaa_kit.project import load_project
from mwaa_kit.runtime.trial import trial_environment

_STATUS = {"unchanged": "dim", "moves": "yellow", "no longer resolves": "red",
           "not resolved (another line fails)": "dim"}
_DIFF_STYLES = {"+": "green", "-": "red", "@": "cyan"}


def _fix_options(command):
    """--fix and --write: ruff's safe fixes for the target, shown, then written."""
    command = click.option(
        "--write", is_flag=True,
        help="With --fix: apply the fixes to the project's files (each replaced "
             "atomically) before the checks run.")(command)
    return click.option(
        "--fix", "fix", is_flag=True,
        help="Apply ruff's safe fixes for the target's Airflow rules to a copy of dags/ "
             "and plugins/ and show the diff; the project changes only with --write.")(command)


@click.command("upgrade-check")
@project_option
@click.option("--to", "to", required=True, metavar="VERSION",
              help="The MWAA Airflow version to move to, newer than the project's: one of "
                   f"{', '.join(catalog.supported_versions())}.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@click.option("--junit-xml", "junit_xml", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JUnit XML (one test case per check).")
@click.option("--run", "dag_ids", multiple=True, metavar="DAG_ID",
              help="Also run DAG_ID once (`dags test`) on the target version, against the "
                   "emulators (repeatable).")
@click.option("--pytest", "with_pytest", is_flag=True,
              help="Also run the project's tests/ (with the kit's pytest fixtures) against "
                   "the target version.")
@click.option("--info", "show_info", is_flag=True, help="Also list informational findings.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@_fix_options
@friendly_errors
def upgrade_check(project_dir, to, output_format, junit_xml, dag_ids, with_pytest, show_info,
                  quiet, fix, write):
    """Check what breaks if the project moves to MWAA's Airflow VERSION. Exits 1 when
    anything would.

    \b
    The same checks as `validate`, against the target version:
      requirements  resolved with the target's constraints: each package's version now
                    and after, and the pin that decides when a line no longer resolves
      code          ruff's Airflow rules (AIR3xx) for the target; DAGs and plugins
                    imported in the target's own virtualenv
      templates     operator templates reading context keys the target removed
      config        [airflow_config] options the target manages, renames or removed
    Then, in a trial environment of the target (a copy of the project with its own state
    and ports, up natively against the emulators, removed at the end):
      run DAG_ID    --run: the DAG run once as `dags test` does; on failure, the task
                    that failed and the end of its log
      pytest        --pytest: the project's tests/ with the kit's fixtures (mwaa_dagbag
                    parsed by the target's Airflow)
    Nothing of the project or of its running environment changes, unless --fix --write
    asks: then the checks see the fixed files, and the exit status is theirs.
    """
    if write and not fix:
        raise click.UsageError("--write writes what --fix shows: add --fix")
    project = load_project(project_dir)
    with progress(f"Checking the move from Airflow {project.airflow_version} to {to}",
                  quiet or output_format == "json") as report:
        fixed = _fix(project, to, fix, write, report)
        outcome = run_upgrade_check(project, to, report)
        if dag_ids or with_pytest:
            outcome.results += target_runs.run(project, to, dag_ids, with_pytest,
                                               trial_environment, report)
    if fixed:
        outcome.extra["fix"] = fixed.to_dict()
    if output_format == "table":
        _print_dependencies(outcome)
        if fixed:
            _print_fix(fixed)
    emit(outcome, output_format, junit_xml, show_info)


def _fix(project, to, fix, write, report) -> FixOutcome | None:
    if not fix:
        return None
    report(f"Applying ruff's safe fixes for Airflow {to} to "
           f"{'the project' if write else 'a copy of dags/ and plugins/'}")
    return fix_project(project, to, write)


def _print_fix(fixed: FixOutcome) -> None:
    for changed in fixed.files:
        for line in changed.diff.splitlines():
            style = "bold" if line.startswith(("---", "+++")) else _DIFF_STYLES.get(line[:1])
            stdout.print(Text(line, style=style or ""), soft_wrap=True)
    names = escape(", ".join(changed.file for changed in fixed.files))
    if fixed.written:
        stdout.print(f"[green]✓[/] fixed {len(fixed.files)} file(s): {names}", soft_wrap=True)
    elif fixed.files:
        stdout.print(f"{len(fixed.files)} file(s) would change: {names}. Nothing was "
                     "written: add --write to apply these fixes.", soft_wrap=True)
    else:
        stdout.print(f"ruff has no safe fix for the rules of Airflow {fixed.target} here.")
    if fixed.unfixed:
        stdout.print(f"[yellow]ruff could not fix {len(fixed.unfixed)} finding(s)[/] (they "
                     "stay findings; lines as after the fix):")
        for left in fixed.unfixed:
            stdout.print(Text(f"  {left.file}:{left.line} {left.code} {left.message}"),
                         soft_wrap=True)


def _print_dependencies(outcome) -> None:
    rows = next((result.details.get("dependencies") for result in outcome.results
                 if result.name == "requirements"), None)
    if not rows:
        return
    table = Table(title=f"requirements.txt: Airflow {outcome.from_version} -> "
                        f"{outcome.airflow_version}")
    for column in ("package", "line", "now", "after", "status", "the pin that decides"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["package"], str(row["line"]), row["current"] or "-",
                      row["target"] or "-", f"[{_STATUS[row['status']]}]{row['status']}[/]",
                      row["decides"] or "")
    stdout.print(table)
