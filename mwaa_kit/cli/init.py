"""`mwaa-kit init`: scaffold a new project."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from mwaa_kit.cli.output import friendly_errors, stdout
from mwaa_kit.errors import KitError

SCAFFOLD = Path(__file__).resolve().parent.parent / "scaffold"
# Files whose name in the package differs from their name in a project.
_RENAMED = {"gitignore": ".gitignore"}


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@friendly_errors
def init(directory):
    """Scaffold a project in DIRECTORY: dags/, plugins/, requirements/, mwaa-kit.toml,
    seed.toml and .gitignore. Existing files are never overwritten."""
    target = Path(directory)
    planned = {
        source: target / _RENAMED.get(source.name, source.name)
        if source.parent == SCAFFOLD else target / source.relative_to(SCAFFOLD)
        for source in sorted(SCAFFOLD.rglob("*")) if source.is_file()
    }
    existing = [str(path) for path in planned.values() if path.exists()]
    if existing:
        raise KitError(
            "refusing to overwrite: " + ", ".join(existing)
            + ". Remove these files or choose another folder."
        )
    for source, destination in planned.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    stdout.print(f"[green]✓[/] Project scaffolded in {target.resolve()}")
    stdout.print(f"  next: cd {directory} && mwaa-kit up && mwaa-kit dags test hello_mwaa")
