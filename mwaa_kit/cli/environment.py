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
from mwaa_kit.runtime import lifecycle_lock, processes, select
from mwaa_kit.runtime.native import control_plane
from mwaa_kit.runtime.native.environment import ROOT_NOTE, NativeEnvironment, remove_state
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
@click.option("--dags-from", type=click.Choice(control_plane.DAGS_FROM), default="project",
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
    if runtime == "compose" and dags_from != "project":
        raise click.UsageError("--dags-from bucket needs the native runtime (--runtime native);"
                               " the compose stack mounts dags/ live.")
    with lifecycle_lock.exclusive(project.state_dir, "up"), \
            progress(f"Preparing Airflow {project.airflow_version} ({runtime})", quiet) as report:
        environment = select.environment(project, runtime, report)
        select.remember(project, runtime)
        if runtime == "compose":
            state = environment.up(workers=workers, ui_port=port)
        else:
            state = environment.up(ui_port=port, dags_from=dags_from)
    stdout.print(f"[green]✓[/] Airflow {state['airflow_version']} is up: {state['ui_url']}")
    if runtime == "native":
        stdout.print(f"  login: admin, password in {environment.password_file()}",
                     soft_wrap=True)
        stdout.print("  tasks run on the LocalExecutor natively (MWAA: Celery on SQS)")
        stdout.print(f"  MWAA API: {state['mwaa_url']} (environment {project.environment_name}"
                     f"; `mwaa-kit promote --target local`)", soft_wrap=True)
        if state.get("runs_as_root"):
            stdout.print(f"  [yellow]runs as root:[/] {ROOT_NOTE}", soft_wrap=True)
    else:
        stdout.print(f"  {workers} Celery worker(s) fed by SQS on LocalStack")


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
        if select.last_runtime(project) == "compose":
            select.environment(project, "compose").down(purge=purge)
            stdout.print("Stopped the compose stack")
        else:
            stopped = NativeEnvironment(project).down()
            stdout.print(f"Stopped {', '.join(stopped)}" if stopped else "Nothing was running")
    if purge:
        remove_state(project)
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
    """Show which processes run, their ports, and the UI address."""
    project = load_project(project_dir)
    if select.last_runtime(project) == "compose":
        stack = select.environment(project, "compose")
        containers = stack.containers()
        running = stack.all_running(containers)
        if output_format == "json":
            print_json({"runtime": "compose", "containers": containers, "running": running})
        else:
            for container in containers:
                stdout.print(f"{container['service'] or '':<12} {container['name']:<40} "
                             f"{container['state']}")
        if containers and not running:
            raise SystemExit(1)
        return
    current = NativeEnvironment(project).status()
    if output_format == "json":
        print_json(current.to_dict())
        if current.processes and not current.running:
            raise SystemExit(1)  # as the table: a dead component fails the command
        return
    if not current.processes:
        stdout.print("The local environment is not running. Start it with `mwaa-kit up`.")
        return
    table = Table(title=f"Airflow {current.airflow_version} (native, {current.executor})")
    for column in ("process", "pid", "port", "state"):
        table.add_column(column)
    for name, info in current.processes.items():
        state = "[green]running[/]" if info["alive"] else "[red]stopped[/]"
        table.add_row(name, str(info["pid"]), str(info["port"] or ""), state)
    stdout.print(table)
    if current.ui_url:
        stdout.print(f"UI: {current.ui_url}")
    if current.mwaa_url:
        stdout.print(f"MWAA API: {current.mwaa_url} (DAGs from the {current.dags_from})")
    if current.runs_as_root:
        stdout.print(f"[yellow]Runs as root:[/] {ROOT_NOTE}", soft_wrap=True)
    if not current.running:
        raise SystemExit(1)


@click.command()
@project_option
@click.argument("component", required=False)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines.")
@click.option("--lines", "-n", default=100, show_default=True)
@friendly_errors
def logs(project_dir, component, follow, lines):
    """Print the logs of one COMPONENT (scheduler, api-server, aws, ...), or list them."""
    project = load_project(project_dir)
    redact = Redactor(project_secrets(project))

    def show(line: str) -> None:
        click.echo(redact(line), nl=False)

    if select.last_runtime(project) == "compose" and component:
        select.environment(project, "compose").logs(component, follow, on_line=show)
        return
    files = NativeEnvironment(project).log_files()
    if component is None:
        for name, path in files.items():
            stdout.print(f"{name:<16} {path}")
        return
    if component not in files:
        raise click.BadParameter(
            f"no log for {component!r}; known: {', '.join(files) or 'none yet'}",
            param_hint="COMPONENT",
        )
    command = ["tail", "-n", str(lines), *(["-F"] if follow else []), str(files[component])]
    processes.run(command, on_line=show)


@click.command()
@project_option
@click.option("--quiet", "-q", is_flag=True)
@friendly_errors
def restart(project_dir, quiet):
    """Stop and start again, re-applying the bundle (requirements, plugins, startup)."""
    project = load_project(project_dir)
    with lifecycle_lock.exclusive(project.state_dir, "restart"), \
            progress("Restarting", quiet) as report:
        environment = NativeEnvironment(project, report)
        dags_from = environment.status().dags_from or "project"
        environment.down()
        state = environment.up(dags_from=dags_from)
    stdout.print(f"[green]✓[/] Airflow {state['airflow_version']} is up: {state['ui_url']}")
