"""`mwaa-kit init --ci` and `mwaa-kit ci init` (issue #15): the CI files they write pass
actionlint (shellcheck on every `run:`) and the GitHub / GitLab schemas check-jsonschema
ships, for the scaffold and for a project with its own DAGs; existing files are kept
unless --force."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mwaa_kit import catalog
from mwaa_kit.cli import main
from mwaa_kit.project import load_project
from mwaa_kit.release import ci_recipes

BIN = Path(sys.executable).parent  # the test extra's actionlint, shellcheck, check-jsonschema
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}
CUSTOM = {
    "dags/a_broken.py": "def (:\n",  # validate's business; the recipe looks further
    "dags/b_pipeline.py": """
        from airflow.sdk import dag

        @dag(dag_id="nightly_load", schedule=None)
        def pipeline():
            pass

        pipeline()
    """,
    "dags/c_other.py": """
        from airflow import DAG

        with DAG("zz_other", schedule=None):
            pass
    """,
    "mwaa-kit.toml": """
        [environment]
        airflow_version = "2.10.3"
        [targets.prod]
        environment_name = "Ingestion"
        region = "eu-west-1"
    """,
}


def _init(*arguments: str):
    return CliRunner().invoke(main, ["init", *arguments])


def _ci_init(project: Path, *arguments: str):
    return CliRunner().invoke(main, ["ci", "init", "--project", str(project), *arguments])


@pytest.fixture
def scaffold(tmp_path) -> Path:
    result = _init(str(tmp_path / "scaffold"), "--ci", "github")
    assert result.exit_code == 0, result.output
    assert _ci_init(tmp_path / "scaffold", "gitlab").exit_code == 0
    return tmp_path / "scaffold"


@pytest.fixture
def custom(tmp_path) -> Path:
    root = tmp_path / "custom"
    for relative, text in CUSTOM.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(textwrap.dedent(text).lstrip())
    for kind in ci_recipes.RECIPES:
        result = _ci_init(root, kind)
        assert result.exit_code == 0, result.output
    return root


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "actionlint"), "-shellcheck", str(BIN / "shellcheck"),
                           "-no-color", str(path)], capture_output=True, text=True)


def _schema(kind: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", SCHEMAS[kind],
                           str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("project", ["scaffold", "custom"])
def test_the_written_files_pass_actionlint_and_the_schemas(project, request):
    root = request.getfixturevalue(project)
    workflow = ci_recipes.recipe_path(root, "github")
    linted = _actionlint(workflow)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    for kind in ci_recipes.RECIPES:
        checked = _schema(kind, ci_recipes.recipe_path(root, kind))
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_checkers_do_refuse_a_broken_file(scaffold, tmp_path):
    """The checks above are live: an injected PR title, a job without runs-on and a
    misspelt GitLab keyword are each caught."""
    workflow = ci_recipes.recipe_path(scaffold, "github").read_text()
    injected = tmp_path / "injected.yml"
    injected.write_text(workflow.replace('mwaa-kit up --runtime native',
                                         'echo "${{ github.event.pull_request.title }}"'))
    assert "potentially untrusted" in _actionlint(injected).stdout
    no_runner = tmp_path / "no-runner.yml"
    no_runner.write_text(workflow.replace("    runs-on: ubuntu-24.04\n", "", 1))
    assert _schema("github", no_runner).returncode == 1
    gitlab = tmp_path / ".gitlab-ci.yml"
    gitlab.write_text(ci_recipes.recipe_path(scaffold, "gitlab").read_text()
                      .replace("  artifacts:\n", "  artefacts:\n", 1))
    assert _schema("gitlab", gitlab).returncode == 1


def test_the_scaffold_recipe_tests_its_dag_on_mwaas_python(scaffold):
    workflow = yaml.safe_load(ci_recipes.recipe_path(scaffold, "github").read_text())
    assert workflow["env"]["MWAA_DAG"] == "hello_mwaa"
    python = catalog.get_version(catalog.DEFAULT_VERSION).python_version
    assert workflow["jobs"]["test"]["container"]["image"].startswith(f"python:{python}.")
    gitlab = yaml.safe_load(ci_recipes.recipe_path(scaffold, "gitlab").read_text())
    assert gitlab["variables"]["MWAA_DAG"] == "hello_mwaa"
    assert (scaffold / "tests" / "test_dags.py").is_file()  # what the test job runs


def test_a_custom_project_gets_its_first_dag_its_python_and_its_region(custom):
    workflow = yaml.safe_load(ci_recipes.recipe_path(custom, "github").read_text())
    assert workflow["env"]["MWAA_DAG"] == "nightly_load"  # a_broken.py has none it can read
    assert workflow["jobs"]["test"]["container"]["image"].startswith("python:3.11.")
    credentials = next(step for step in workflow["jobs"]["promote"]["steps"]
                       if "configure-aws-credentials" in step.get("uses", ""))
    assert credentials["with"] == {"role-to-assume": "${{ vars.MWAA_ROLE_ARN }}",
                                   "aws-region": "eu-west-1",
                                   "role-session-name": "mwaa-kit-promote-${{ github.run_id }}"}
    gitlab = yaml.safe_load(ci_recipes.recipe_path(custom, "gitlab").read_text())
    assert gitlab["mwaa:promote"]["variables"]["AWS_ROLE_ARN"] == "$MWAA_ROLE_ARN"
    assert gitlab["mwaa:promote"]["variables"]["AWS_REGION"] == "eu-west-1"


def test_every_action_is_pinned_to_a_full_commit_and_every_run_is_plain_shell(custom):
    text = ci_recipes.recipe_path(custom, "github").read_text()
    uses = re.findall(r"uses: ([\w/-]+)@(\S+)", text)
    assert {name for name, _ in uses} == {"actions/checkout", "actions/cache",
                                          "actions/upload-artifact",
                                          "aws-actions/configure-aws-credentials"}
    assert all(re.fullmatch(r"[0-9a-f]{40}", ref) for _, ref in uses), uses
    workflow = yaml.safe_load(text)
    runs = [step["run"] for job in workflow["jobs"].values() for step in job["steps"]
            if "run" in step]
    assert runs and not [run for run in runs if "${{" in run]
    assert "secrets." not in text


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_every_catalog_version_has_an_image_of_its_python(version, tmp_path):
    (tmp_path / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    text = ci_recipes.render("gitlab", load_project(tmp_path), dag_id="d")
    python = catalog.get_version(version).python_version
    assert f"image: python:{python}." in text


def test_an_existing_file_is_kept_unless_force(custom):
    path = ci_recipes.recipe_path(custom, "github")
    path.write_text("# mine\n")
    refused = _ci_init(custom, "github")
    assert refused.exit_code == 1
    assert "exists" in refused.output and "--force" in refused.output
    assert path.read_text() == "# mine\n"
    forced = _ci_init(custom, "github", "--force", "--dag", "zz_other")
    assert forced.exit_code == 0, forced.output
    assert f"wrote {path}" in forced.output
    assert yaml.safe_load(path.read_text())["env"]["MWAA_DAG"] == "zz_other"
    assert sorted(p.name for p in path.parent.iterdir()) == ["mwaa.yml"]  # no scratch left


def test_init_refuses_before_writing_anything(tmp_path):
    target = tmp_path / "project"
    existing = ci_recipes.recipe_path(target, "gitlab")
    existing.parent.mkdir(parents=True)
    existing.write_text("stages: [build]\n")
    refused = _init(str(target), "--ci", "gitlab")
    assert refused.exit_code == 1 and "refusing to overwrite" in refused.output
    assert sorted(p.name for p in target.iterdir()) == [".gitlab-ci.yml"]


def test_bad_choices_are_usage_errors(tmp_path):
    bad_kind = _init(str(tmp_path / "a"), "--ci", "jenkins")
    assert bad_kind.exit_code == 2 and "'jenkins' is not one of" in bad_kind.output
    bad_dag = _init(str(tmp_path / "b"), "--ci", "github", "--dag", "x; rm -rf /")
    assert bad_dag.exit_code == 2 and "is not a DAG id" in bad_dag.output
    without_ci = _init(str(tmp_path / "c"), "--dag", "hello_mwaa")
    assert without_ci.exit_code == 2 and "--ci" in without_ci.output
    assert not any(tmp_path.iterdir())


def test_a_project_without_dags_needs_dag(tmp_path):
    result = _ci_init(tmp_path, "github")
    assert result.exit_code == 1
    assert "no DAG found" in result.output and "--dag DAG_ID" in result.output
    assert _ci_init(tmp_path, "github", "--dag", "later").exit_code == 0


def test_notes_say_what_the_promotion_still_needs(tmp_path, custom):
    assert "has no [targets.prod]" in _ci_init(tmp_path, "gitlab", "--dag", "d").output
    assert ci_recipes.notes(load_project(custom)) == []
    config = custom / "mwaa-kit.toml"
    config.write_text(config.read_text() + 'profile = "laptop"\n')
    assert "profile 'laptop'" in ci_recipes.notes(load_project(custom))[0]
