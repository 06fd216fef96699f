"""How the CLI talks: errors that say what to do, progress for slow steps, JSON for CI."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


project_option = click.option(
    "--project", "-p", "project_dir", default=".", show_default=True,
    type=click.Path(file_okay=False, exists=True), help="The project folder.",
)


class UserFacingError(Exception):
    """Marker base: errors whose message is meant for the user as it is."""


def _user_facing_types() -> tuple[type[BaseException], ...]:
    """Every error the kit raises on purpose, with a message written for its user."""
    from mwaa_kit import catalog
    from mwaa_kit.contract.configuration import ForcedConfigError
    from mwaa_kit.contract.plugins import PluginsError
    from mwaa_kit.contract.python import PythonNotFoundError
    from mwaa_kit.contract.requirements import RequirementsError
    from mwaa_kit.contract.startup import StartupScriptError
    from mwaa_kit.emulators.aws.seed import SeedFileError
    from mwaa_kit.project import ProjectConfigError
    from mwaa_kit.runtime.compose.stack import ComposeError, ContainerEngineUnavailableError
    from mwaa_kit.runtime.lifecycle_lock import ProjectBusyError
    from mwaa_kit.runtime.native.environment import EnvironmentNotRunningError
    from mwaa_kit.runtime.native.postgres import DataDirUnreachableError, PostgresUnavailableError
    from mwaa_kit.runtime.processes import PortInUseError

    return (UserFacingError, catalog.UnknownVersionError, ForcedConfigError, PluginsError,
            PythonNotFoundError, RequirementsError, StartupScriptError, SeedFileError,
            ProjectConfigError, EnvironmentNotRunningError, PostgresUnavailableError,
            PortInUseError, ComposeError, ContainerEngineUnavailableError,
            DataDirUnreachableError, ProjectBusyError)


def friendly_errors(command: Callable) -> Callable:
    """Turn the kit's own errors into `error: ...` and exit status 1, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except _user_facing_types() as error:
            # escape: messages name TOML tables ([airflow_config], [targets.prod]) that
            # rich would otherwise take for markup and swallow.
            console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
            sys.exit(1)

    return wrapper


@contextmanager
def progress(first: str, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A spinner whose message each step updates; finished steps stay printed."""
    if quiet:
        yield lambda message: None
        return
    with console.status(first) as status:
        def report(message: str) -> None:
            console.print(f"[dim]•[/] {message}")
            status.update(message)

        yield report


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))
