"""`mwaa-kit ci init`: add a CI recipe (GitHub Actions or GitLab CI) to a project."""

from __future__ import annotations

import click
from rich.markup import escape

from mwaa_kit.cli.output import console, friendly_errors, project_option, stdout
from mwaa_kit.project import Project, load_project
from mwaa_kit.release import ci_recipes

ci_kind = click.Choice(sorted(ci_recipes.RECIPES))


def _dag_id(ctx, param, value):
    try:
        return ci_recipes.check_dag_id(value) if value is not None else None
    except ci_recipes.CiRecipeError as error:
        raise click.BadParameter(error.message) from None


dag_option = click.option(
    "--dag", "dag_id", metavar="DAG_ID", callback=_dag_id,
    help="The DAG the CI job runs with `dags test` (default: the project's first DAG).")


@click.group()
def ci():
    """CI recipes for the project: test on pull requests, promote from the main branch."""


@ci.command("init")
@project_option
@click.argument("kind", type=ci_kind)
@dag_option
@click.option("--force", is_flag=True, help="Replace the CI file if it exists.")
@click.option("--kit-spec", help="What the CI job's pip installs for mwaa-kit: a version "
              "specifier, a git URL or a wheel (default: this version, mwaa-kit==X).")
@friendly_errors
def init(project_dir, kind, dag_id, force, kit_spec):
    """Write the CI file of KIND into the project: .github/workflows/mwaa.yml (github) or
    .gitlab-ci.yml (gitlab). An existing file is kept unless --force."""
    write_and_report(kind, load_project(project_dir), dag_id, force, kit_spec)


def write_and_report(kind: str, project: Project, dag_id: str | None, force: bool = False,
                     kit_spec: str | None = None) -> None:
    """Write the CI file and say what was written and what is left to do (`init --ci` too)."""
    path = ci_recipes.write_recipe(kind, project, dag_id, force, kit_spec)
    stdout.print(f"[green]✓[/] wrote {path}", soft_wrap=True)
    variable = "repository variable" if kind == "github" else "CI/CD variable"
    source = ("the GitHubActionsRoleArn output of the infra/ stack (-c source=github-actions)"
              if kind == "github" else "a role that trusts your GitLab instance's OIDC tokens")
    stdout.print(f"  promotion: set the {variable} MWAA_ROLE_ARN to {source}", soft_wrap=True)
    for note in ci_recipes.notes(project):
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
