"""CI recipes: the GitHub Actions workflow and the GitLab CI file `mwaa-kit ci init` writes.

Both run the same plain shell lines (ci_templates/steps.sh.j2): a pull-request job that
validates, brings the local environment up on the native runtime inside a Python image,
runs the project's tests and `dags test` of one DAG; a promotion job on the main branch
with OIDC credentials; a `--dry-run` plan on pull requests. What varies per project is
rendered in: the DAG, MWAA's Python (the image), the promotion target's region.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from pathlib import Path

import jinja2

from mwaa_kit import __version__
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project

TEMPLATES = Path(__file__).resolve().parent / "ci_templates"
# Where each CI reads its file, relative to the project, and its template.
RECIPES = {"github": (".github/workflows/mwaa.yml", "github.yml.j2"),
           "gitlab": (".gitlab-ci.yml", "gitlab-ci.yml.j2")}
TARGET = "prod"
BRANCH = "main"  # infra/'s default `branch`: the one its GitHub Actions role trusts
# Full commit SHAs of release tags (read in each action's repository); the tag follows as a
# comment so that update tools and readers see the version.
ACTIONS = {
    "checkout": "3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1",
    "cache": "27d5ce7f107fe9357f9df03efb73ab90386fccae  # v5.0.5",
    "upload_artifact": "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f  # v7.0.0",
    "configure_aws_credentials": "e6de054238d6b7531b4efff3b6587d9aade6a06c  # v6.2.3",
}
# The official Python image of MWAA's Python, pinned to a patch release (tags of
# docker-library/official-images, library/python). The job's Python is the one Airflow
# runs on: the kit finds it and never downloads one (UV_PYTHON_DOWNLOADS=never).
PYTHON_PATCHES = {"3.11": "3.11.14", "3.12": "3.12.12"}
# Airflow's KEY_REGEX for DAG ids: also what keeps an id safe in YAML and shell lines.
_DAG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")


class CiRecipeError(KitError, ValueError):
    """A CI file cannot be written as asked; the message says why."""


def recipe_path(root: Path, kind: str) -> Path:
    """Where the CI file of `kind` (github | gitlab) goes in the project at `root`.

    :param root: the project folder.
    :param kind: github or gitlab.
    """
    if kind not in RECIPES:
        raise CiRecipeError(f"no CI recipe for {kind!r}; choose one of: {', '.join(RECIPES)}.")
    return root / RECIPES[kind][0]


def first_dag_id(dags_dir: Path) -> str | None:
    """The first DAG id the files of `dags_dir` declare (files in name order), read
    statically: `DAG("id")` / `DAG(dag_id="id")` calls and `@dag` functions, so that no
    Airflow environment is needed to write a CI file."""
    for path in sorted(dags_dir.rglob("*.py")) if dags_dir.is_dir() else ():
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # validate reports it; the CI file can still name another DAG
        found = sorted(_declared_dag_ids(tree))
        if found:
            return found[0][1]
    return None


def _declared_dag_ids(tree: ast.AST):
    """(line, id) of every DAG whose id is a literal in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "DAG":
            dag_id = _literal(node.args[0]) if node.args else None
            dag_id = dag_id or next((_literal(k.value) for k in node.keywords
                                     if k.arg == "dag_id"), None)
            if dag_id:
                yield node.lineno, dag_id
        elif isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                if _name(call.func if call else decorator) != "dag":
                    continue
                explicit = next((_literal(k.value) for k in call.keywords
                                 if k.arg == "dag_id"), None) if call else None
                yield node.lineno, explicit or node.name


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def check_dag_id(dag_id: str) -> str:
    """`dag_id` when it is a valid DAG id (so also safe in YAML and shell lines).

    :param dag_id: the id to check.
    """
    if not _DAG_ID.match(dag_id):
        raise CiRecipeError(f"{dag_id!r} is not a DAG id",
                            hint="A DAG id has letters, digits, '_', '.' and '-' only.")
    return dag_id


def render(kind: str, project: Project, dag_id: str | None = None,
           kit_spec: str | None = None) -> str:
    """The CI file of `kind` for `project`.

    :param kind: github or gitlab.
    :param project: the project the file is for (its DAGs, Airflow version, target).
    :param dag_id: the DAG `dags test` runs; default: the project's first DAG.
    :param kit_spec: what the job's `pip install` takes for the kit; default: this version.
    """
    recipe_path(project.root, kind)  # refuses an unknown kind
    dag_id = dag_id or first_dag_id(project.dags_dir)
    if dag_id is None:
        raise CiRecipeError(f"no DAG found in {project.dags_dir}",
                            hint="Pass the DAG the CI job should test: --dag DAG_ID.")
    check_dag_id(dag_id)
    python = PYTHON_PATCHES[project.version.python_version]
    target = project.targets.get(TARGET)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, autoescape=False,
        # GitHub's expressions are ${{ ... }} and GitLab's none: Jinja's own {{ }} would
        # swallow the former, so the templates use [[ ]] and [% %].
        variable_start_string="[[", variable_end_string="]]",
        block_start_string="[%", block_end_string="%]",
        comment_start_string="[#", comment_end_string="#]",
    )
    return environment.get_template(RECIPES[kind][1]).render(
        kit_version=__version__, kit_spec=kit_spec or f"mwaa-kit=={__version__}",
        dag_id=dag_id, target=TARGET, branch=BRANCH, actions=ACTIONS,
        python=f"py{python}", image=f"python:{python}-slim-bookworm",
        region=target.region if target else project.region,
    )


def notes(project: Project) -> list[str]:
    """What the project still needs before the promotion job can run."""
    target = project.targets.get(TARGET)
    if target is None:
        return [f"mwaa-kit.toml has no [targets.{TARGET}]: add it (environment_name, region) "
                "before setting MWAA_ROLE_ARN; until that variable is set, CI only tests."]
    if target.profile:
        return [f"[targets.{TARGET}] names profile {target.profile!r}, which CI does not "
                "have: CI's credentials come from OIDC; move the profile to another target."]
    return []


def write_recipe(kind: str, project: Project, dag_id: str | None = None, force: bool = False,
                 kit_spec: str | None = None) -> Path:
    """Render the CI file of `kind` and write it into the project, atomically; an existing
    file is replaced only with `force`.

    :param kind: github or gitlab.
    :param project: the project to write into.
    :param dag_id: the DAG `dags test` runs (default: the project's first).
    :param force: replace an existing file.
    :param kit_spec: the kit's install spec in the job (default: this version).
    """
    path = recipe_path(project.root, kind)
    if path.exists() and not force:
        raise CiRecipeError(f"{path} exists",
                            hint="Pass --force to replace it (edits made to it are lost), or "
                                 "remove it first.")
    text = render(kind, project, dag_id, kit_spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return path
