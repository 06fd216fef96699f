"""`up`, `down`, `status`, `logs`, `restart`: the local environment's life cycle."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from mwaa_kit.cli.output import (
    friendly_errors,
    print_json,
    progress,
    project_option,
    stdout,
)
from mwaa_kit.errors import KitError
from mwaa_kit.project import load_project
from mwaa_kit.runtime import lifecycle_lock, select
from mwaa_kit.runtime.interface import DAGS_FROM, EnvironmentStatus, UpOptions
from mwaa_kit.runtime.redaction import Redactor, project_secrets

runtime_option = click.option(
    "--runtime", type=click.Choice(["auto", *select.RUNTIMES]), default=None,
    help="native: host processes; compose: containers with Celery on SQS, run by Docker "
         "Compose v2 or podman-compose ($MWAA_KIT_COMPOSE=docker|podman picks one). "
         "Default: $MWAA_KIT_RUNTIME, else compose when a container engine answers, else "
         "native.",
)


@click.command()
@project_option
@runtime_option
@click.option("--port", type=int, help="UI port (default 8080, or a free one if taken).")
@click.option("--workers", default=1, show_default=True, help="Celery workers (compose).")
@click.option("--dags-from", type=click.Choice(DAGS_FROM), default="project",
              show_default=True,
              help="native: project runs dags/ live; bucket runs only what was promoted to "
                   "the environment's bucket (`promote --target local`), synced as on MWAA.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@friendly_errors
def up(project_dir, runtime, port, workers, dags_from, quiet):
    """Start the local MWAA environment for the project.

    Applies the MWAA contract (startup.sh, requirements.txt with constraints,
    plugins.zip, forced configuration), starts PostgreSQL, the AWS emulator, the
    Salesforce stub when seed.toml asks for it, and Airflow's components. Natively it
    also serves the MWAA API for the environment: `promote --target local` and
    `aws mwaa ... --endpoint-url` work against it. Running it again while the
    environment is up changes nothing.
    """
    project = load_project(project_dir)
    runtime = select.choose(runtime, note=lambda reason: stdout.print(f"[dim]{reason}[/]"))
    options = UpOptions(ui_port=port, workers=workers, dags_from=dags_from)
    with lifecycle_lock.exclusive(project.state_dir, "up"), \
            progress(f"Preparing Airflow {project.airflow_version} ({runtime})", quiet) as report:
        environment = select.environment(project, runtime, report)
        select.remember(project, runtime)
        _print_up(environment.up(options))


def _print_up(status: EnvironmentStatus) -> None:
    stdout.print(f"[green]✓[/] Airflow {status.airflow_version} is up: "
                 f"{status.endpoints.get('ui')}")
    for note in status.notes:
        stdout.print(f"  {note}", soft_wrap=True)


@click.command()
@project_option
@click.option("--purge", is_flag=True,
              help="Also delete .mwaa-kit/: the metadata databases, emulated AWS (S3 objects, "
                   "secrets), the Salesforce stub's org and the logs. The Airflow virtualenvs, "
                   "shared by projects in ~/.cache/mwaa-kit, stay.")
@click.option("--yes", "-y", is_flag=True, help="Purge without asking.")
@friendly_errors
def down(project_dir, purge, yes):
    """Stop every process of the local environment."""
    project = load_project(project_dir)
    if purge and not yes:
        _confirm_purge(project)
    with lifecycle_lock.exclusive(project.state_dir, "down"):
        stopped = select.running_environment(project).down(purge=purge)
    stdout.print(f"Stopped {', '.join(stopped)}" if stopped else "Nothing was running")
    if purge:
        stdout.print(f"Removed {project.state_dir}")


def _confirm_purge(project) -> None:
    what = (f"{project.state_dir}: the metadata databases (DAG run history), emulated AWS "
            "(S3 objects, secrets), the Salesforce stub's org and the logs")
    if not sys.stdin.isatty():
        raise KitError(f"--purge deletes {what}. Add --yes to confirm.")
    click.confirm(f"Delete {what}?", abort=True, err=True)


@click.command()
@project_option
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@friendly_errors
def status(project_dir, output_format):
    """Show which processes run, their ports, and the UI address; exit 1 when any
    component of a started environment has stopped."""
    current = select.running_environment(load_project(project_dir)).status()
    if output_format == "json":
        print_json(current.to_dict())
    elif not current.started:
        stdout.print("The local environment is not running. Start it with `mwaa-kit up`.")
    else:
        _print_status(current)
    if current.started and not current.running:
        raise SystemExit(1)  # a dead component fails the command, in either format


def _print_status(current: EnvironmentStatus) -> None:
    details = current.details
    executor = f", {details['executor']}" if "executor" in details else ""
    table = Table(title=f"Airflow {current.airflow_version} ({current.runtime}{executor})")
    for column in ("process", "pid", "port", "state"):
        table.add_column(column)
    for component in current.components:
        state = "[green]running[/]" if component.running else "[red]stopped[/]"
        table.add_row(component.name, str(component.pid or component.where or ""),
                      str(component.port or ""), state)
    stdout.print(table)
    if "ui" in current.endpoints:
        stdout.print(f"UI: {current.endpoints['ui']}")
    for note in current.notes:
        stdout.print(note[0].upper() + note[1:], soft_wrap=True)


@click.command()
@project_option
@click.argument("component", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines.")
@click.option("--lines", "-n", default=100, show_default=True)
@friendly_errors
def logs(project_dir, component, follow, lines):
    """Print the logs of one COMPONENT (scheduler, api-server, aws, ...), or list them."""
    project = load_project(project_dir)
    environment = select.running_environment(project)
    redact = Redactor(project_secrets(project))
    sources = environment.log_sources()
    if component is None:
        for name, where in sources.items():  # one line each, unwrapped: scripts read it
            click.echo(f"{name:<16} {where}")
        return
    if component not in sources:
        raise click.BadParameter(
            f"no log for {component!r}; known: {', '.join(sources) or 'none yet'}",
            param_hint="COMPONENT",
        )
    environment.logs(component, follow, lines,
                     on_line=lambda line: click.echo(redact(line), nl=False))


@click.command()
@project_option
@click.option("--quiet", "-q", is_flag=True)
@friendly_errors
def restart(project_dir, quiet):
    """Stop and start again with the same options, re-applying the bundle (requirements,
    plugins, startup), in the runtime the environment runs on."""
    project = load_project(project_dir)
    with lifecycle_lock.exclusive(project.state_dir, "restart"), \
            progress("Restarting", quiet) as report:
        environment = select.running_environment(project, report)
        options = environment.status().options
        environment.down()
        _print_up(environment.up(options))
