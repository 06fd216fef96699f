"""`validate`, `test-requirements`, `test-startup-script`: catch locally what MWAA would
refuse or fail on, before a 20-minute environment update."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from mwaa_kit.checks.findings import SEVERITIES, Report
from mwaa_kit.checks.install import install_requirements
from mwaa_kit.checks.runner import validate as run_checks
from mwaa_kit.checks.startup import run_script
from mwaa_kit.cli.output import (
    console,
    friendly_errors,
    print_json,
    progress,
    project_option,
    stdout,
)
from mwaa_kit.contract.startup import StartupScriptError
from mwaa_kit.project import load_project

_COLOURS = {"error": "red", "warning": "yellow", "info": "dim"}
_STATUS = {"passed": "green", "passed with warnings": "yellow", "failed": "red",
           "skipped": "dim"}
CHECK_NAMES = ("dags", "plugins", "requirements", "startup", "config")
# The same option as mwaa_kit.cli.environment's, without importing the runtimes (validate
# should start fast).


@click.command()
@project_option
@click.option("--only", "only", multiple=True, type=click.Choice(CHECK_NAMES),
              help="Run only this check (repeatable). Default: all.")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@click.option("--junit-xml", "junit_xml", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JUnit XML (one test case per check).")
@click.option("--parse-budget", default=5.0, show_default=True, type=float,
              help="Seconds a DAG file may take to parse before a warning.")
@click.option("--info", "show_info", is_flag=True, help="Also list informational findings.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@friendly_errors
def validate(project_dir, only, output_format, junit_xml, parse_budget, show_info, quiet):
    """Check the project as MWAA would: DAG parsing, plugins.zip, requirements.txt,
    startup.sh and configuration options. Exits 1 on any error.

    DAGs are parsed in the environment's own virtualenv (the one `up` uses), in
    parallel across cores; requirements are resolved as a dry run (nothing installed).
    """
    project = load_project(project_dir)
    with progress(f"Validating against MWAA's Airflow {project.airflow_version}",
                  quiet or output_format == "json") as report:
        outcome = run_checks(project, only or CHECK_NAMES, report, parse_budget=parse_budget)
    emit(outcome, output_format, junit_xml, show_info)


def emit(outcome: Report, output_format: str, junit_xml: Path | None,
         show_info: bool) -> None:
    """Write a report of validate or upgrade-check: JUnit XML if asked, JSON or tables
    on stdout; exit 1 when it has errors."""
    if junit_xml:
        outcome.write_junit(junit_xml)
    if output_format == "json":
        print_json(outcome.to_dict())
    else:
        _print_report(outcome, show_info)
    if not outcome.ok:
        sys.exit(1)


def _print_report(outcome: Report, show_info: bool) -> None:
    findings = sorted((f for f in outcome.findings if show_info or f.severity != "info"),
                      key=lambda finding: SEVERITIES.index(finding.severity))
    if findings:
        since = f" from {outcome.from_version}" if outcome.from_version else ""
        table = Table(title=f"mwaa-kit {outcome.command} · Airflow "
                            f"{outcome.airflow_version}{since}",
                      show_lines=False, expand=False)
        table.add_column("check")
        table.add_column("severity")
        table.add_column("where", overflow="fold")
        table.add_column("what", overflow="fold")
        table.add_column("what to do", overflow="fold")
        for finding in findings:
            colour = _COLOURS[finding.severity]
            # escape: messages name TOML tables and sections ([airflow_config], [core])
            table.add_row(finding.check, f"[{colour}]{finding.severity}[/]",
                          escape(finding.location), escape(finding.message),
                          escape(finding.hint or ""))
        stdout.print(table)
    summary = Table(show_header=True, title="summary")
    summary.add_column("check")
    summary.add_column("status")
    summary.add_column("errors", justify="right")
    summary.add_column("warnings", justify="right")
    summary.add_column("seconds", justify="right")
    summary.add_column("note", overflow="fold")
    for result in outcome.results:
        note = result.skipped or _note(result)
        summary.add_row(result.name, f"[{_STATUS[result.status]}]{result.status}[/]",
                        str(len(result.errors)), str(len(result.warnings)),
                        f"{result.seconds:.1f}", escape(note))
    stdout.print(summary)
    mwaa = f"MWAA's Airflow {outcome.airflow_version}" if outcome.from_version else "MWAA"
    if outcome.ok:
        stdout.print(f"[green]✓[/] {mwaa} would accept this project")
    else:
        errors = sum(len(result.errors) for result in outcome.results)
        stdout.print(f"[red]✗[/] {errors} error(s): {mwaa} would fail on this project")


def _note(result) -> str:
    details = result.details
    if result.name == "dags" and "files" in details:
        return (f"{details['files']} file(s), {details['dags']} DAG(s) parsed in "
                f"{details['parse_seconds']:.1f} s on {details['processes']} process(es)")
    if result.name == "requirements" and "resolved_packages" in details:
        return f"resolves: {details['resolved_packages']} packages in the environment"
    if result.name == "startup" and "exports" in details:
        return f"exports {', '.join(sorted(details['exports'])) or 'nothing'}"
    if result.name == "plugins" and "modules" in details:
        return f"{details['modules']} module(s) import"
    # upgrade-check's runs and tests say it themselves; a check with no input says why
    return details.get("summary") or details.get("nothing_to_check", "")


@click.command("test-requirements")
@project_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@friendly_errors
def test_requirements(project_dir, output_format, quiet):
    """Really install requirements.txt as MWAA would (Python, constraints, essential pins,
    the startup script's environment, the 9-minute limit) into a throwaway virtualenv."""
    project = load_project(project_dir)
    with progress("Installing requirements.txt into a scratch virtualenv",
                  quiet or output_format == "json") as report:
        outcome = install_requirements(project, report)
    if output_format == "json":
        print_json(outcome)
    else:
        colour = "green" if outcome["ok"] else "red"
        stdout.print(f"[{colour}]{'✓' if outcome['ok'] else '✗'}[/] requirements.txt "
                     f"{'installed' if outcome['ok'] else 'failed to install'} in "
                     f"{outcome['seconds']:.1f} s ({outcome['constraints']})", soft_wrap=True)
        if outcome["ok"]:
            table = Table(title="your requirements, as installed")
            table.add_column("package")
            table.add_column("version")
            for name, installed in sorted(outcome["requirements"].items()):
                table.add_row(name, installed or "[red]missing[/]")
            stdout.print(table)
            stdout.print(f"{outcome['installed_packages']} packages in the environment")
            if outcome["check"]:
                stdout.print(f"[yellow]uv pip check:[/] {outcome['check']}", soft_wrap=True)
        else:
            console.print(f"[bold red]error:[/] {outcome['error']}", soft_wrap=True)
    if not outcome["ok"]:
        sys.exit(1)


@click.command("test-startup-script")
@project_option
@click.option("--component", type=click.Choice(["scheduler", "worker", "webserver"]),
              default="scheduler", show_default=True,
              help="MWAA_AIRFLOW_COMPONENT the script sees (MWAA runs it in each).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@friendly_errors
def test_startup_script(project_dir, component, output_format):
    """Source requirements/startup.sh as MWAA does, in a scratch environment with MWAA's
    variables and 5-minute limit; show its exit status, output and exports."""
    project = load_project(project_dir)
    if not project.startup_script.exists():
        stdout.print(f"No startup script ({project.startup_script} does not exist)")
        return
    try:
        outcome, seconds = run_script(project, component)
    except StartupScriptError as error:
        if output_format == "json":
            print_json({"ok": False, "error": str(error)})
        else:
            console.print(f"[bold red]error:[/] {error}", soft_wrap=True)
        sys.exit(1)
    if output_format == "json":
        print_json({"ok": True, "seconds": round(seconds, 3), "exit_status": 0,
                    "component": component, "exports": outcome.exported,
                    "output": outcome.output})
        return
    stdout.print(f"[green]✓[/] startup.sh exited 0 in {seconds:.1f} s "
                 f"(MWAA_AIRFLOW_COMPONENT={component})")
    if outcome.output.strip():
        stdout.print("[dim]output:[/]")
        stdout.print(outcome.output.rstrip(), markup=False, highlight=False)
    table = Table(title="exported to every Airflow process")
    table.add_column("variable")
    table.add_column("value", overflow="fold")
    for name, value in sorted(outcome.exported.items()):
        table.add_row(name, value)
    stdout.print(table if outcome.exported else "It exports nothing.")
