"""`mwaa-kit init`: scaffold a new project."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from mwaa_kit.cli.ci import ci_kind, dag_option, write_and_report
from mwaa_kit.cli.output import friendly_errors, stdout
from mwaa_kit.errors import KitError
from mwaa_kit.project import load_project
from mwaa_kit.release.ci_recipes import recipe_path

SCAFFOLD = Path(__file__).resolve().parent.parent / "scaffold"
# Files whose name in the package differs from their name in a project.
_RENAMED = {"gitignore": ".gitignore"}


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--ci", "ci_kind_name", type=ci_kind,
              help="Also write a CI recipe: GitHub Actions or GitLab CI (see `mwaa-kit ci init`).")
@dag_option
@friendly_errors
def init(directory, ci_kind_name, dag_id):
    """Scaffold a project in DIRECTORY: dags/, plugins/, requirements/, tests/,
    mwaa-kit.toml, seed.toml and .gitignore (and with --ci, its CI file). Existing files are
    never overwritten."""
    if dag_id and not ci_kind_name:
        raise click.UsageError("--dag chooses the DAG of the CI recipe: add --ci github|gitlab.")
    target = Path(directory)
    planned = {
        source: target / _RENAMED.get(source.name, source.name)
        if source.parent == SCAFFOLD else target / source.relative_to(SCAFFOLD)
        for source in sorted(SCAFFOLD.rglob("*")) if source.is_file()
    }
    ci_file = [recipe_path(target, ci_kind_name)] if ci_kind_name else []
    existing = [str(path) for path in [*planned.values(), *ci_file] if path.exists()]
    if existing:
        raise KitError(
            "refusing to overwrite: " + ", ".join(existing)
            + ". Remove these files or choose another folder."
        )
    for source, destination in planned.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    stdout.print(f"[green]✓[/] Project scaffolded in {target.resolve()}")
    if ci_kind_name:
        write_and_report(ci_kind_name, load_project(target), dag_id)
    stdout.print(f"  next: cd {directory} && mwaa-kit up && mwaa-kit dags test hello_mwaa")
