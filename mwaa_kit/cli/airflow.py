"""`mwaa-kit airflow ARGS...`: any Airflow CLI command in the running local environment,
whichever runtime runs it (what users of containers do with `docker exec ... airflow`)."""

from __future__ import annotations

import sys

import click

from mwaa_kit.cli.output import friendly_errors, project_option
from mwaa_kit.project import load_project
from mwaa_kit.runtime.redaction import Redactor, project_secrets
from mwaa_kit.runtime.select import running_environment


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False})
@project_option
@click.argument("arguments", nargs=-1, required=True, type=click.UNPROCESSED)
@friendly_errors
def airflow(project_dir, arguments):
    """Run `airflow ARGUMENTS...` in the local environment, with the configuration,
    connections and secrets backend its tasks see; exits with Airflow's exit status.

    \b
    Examples:
      mwaa-kit airflow dags list
      mwaa-kit airflow variables get my_variable
      mwaa-kit airflow -- tasks --help     (`--` before Airflow's own options)

    The project's secrets are masked in the output.
    """
    project = load_project(project_dir)
    redact = Redactor(project_secrets(project))
    result = running_environment(project).airflow(
        *arguments, on_line=lambda line: click.echo(redact(line), nl=False))
    sys.exit(result.returncode)
