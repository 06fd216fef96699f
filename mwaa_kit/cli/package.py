"""`mwaa-kit package`: build plugins.zip, requirements.txt and startup.sh for MWAA."""

from __future__ import annotations

from pathlib import Path

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
from mwaa_kit.release.package import PackageError
from mwaa_kit.release.package import package as build


@click.command()
@project_option
@click.option("--dist", "dist_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: <project>/dist).")
@click.option("--wheels", is_flag=True,
              help="Ship wheels for MWAA's platform in plugins.zip's wheels/ and install "
                   "them with --no-index (environments without internet access).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@friendly_errors
def package(project_dir, dist_dir, wheels, output_format, quiet):
    """Build the artifacts MWAA consumes into dist/: a deterministic plugins.zip (same
    inputs, same bytes), requirements.txt with its constraints line, and startup.sh."""
    project = load_project(project_dir)
    dist = (dist_dir or project.root / "dist").resolve()
    with progress("Packaging for MWAA", quiet or output_format == "json") as report:
        try:
            result = build(project, dist, wheels=wheels, report=report)
        except PackageError as error:
            raise KitError(str(error)) from None
    if output_format == "json":
        print_json(result.to_dict())
        return
    table = Table(title=f"{dist}")
    table.add_column("file")
    table.add_column("bytes", justify="right")
    table.add_column("sha256")
    for name, digest in result.files.items():
        table.add_row(name, str((dist / name).stat().st_size), digest[:16])
    stdout.print(table)
    if result.constraints_line:
        stdout.print(f"requirements.txt: {result.constraints_line}", soft_wrap=True)
    if wheels:
        stdout.print(f"{len(result.wheels)} wheel(s) in plugins.zip/wheels/, installed "
                     "with --no-index")
