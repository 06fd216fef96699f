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

from mwaa_kit.errors import KitError

console = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


project_option = click.option(
    "--project", "-p", "project_dir", default=".", show_default=True,
    type=click.Path(file_okay=False, exists=True), help="The project folder.",
)


def friendly_errors(command: Callable) -> Callable:
    """Turn the kit's expected failures (`KitError`) into `error: ...` / `hint: ...` and
    exit status 1, without a traceback; under `--format json`, into
    `{"error": {"type", "message", "hint"}}` on stdout, for CI to read."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KitError as error:
            if kwargs.get("output_format") == "json":
                print_json({"error": error.to_json()})
            else:
                print_error(error)
            sys.exit(1)

    return wrapper


def print_error(error: KitError) -> None:
    # escape: messages name TOML tables ([airflow_config], [targets.prod]) that rich would
    # otherwise take for markup and swallow.
    console.print(f"[bold red]error:[/] {escape(error.message)}", soft_wrap=True)
    if error.hint:
        console.print(f"[bold]hint:[/] {escape(error.hint)}", soft_wrap=True)


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
