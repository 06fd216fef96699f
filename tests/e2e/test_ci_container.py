"""The pull-request job of the GitHub workflow `mwaa-kit ci init` writes (issue #15), run
step by step as read from that file, inside a podman container of a plain Debian + Python
image, on the example project: validate, `up` on the native runtime, the project's tests
with the kit's pytest fixtures, `dags test salesforce_to_s3`, `down`.

- As root, in a workspace under a 0700 folder (the `postgres` user cannot enter it), on the
  bare base image: the job apt-installs git and PostgreSQL itself.
- As a non-root user (uid 1001) in an image with git and PostgreSQL but no `postgres`
  account: the server runs as that user. Then, in the same container, the same job on the
  project with a broken DAG added fails at validate, with the finding in validate.xml.

No systemd anywhere: the container's PID 1 is `sleep infinity`. The workspace path has
spaces and depth. The example keeps its own Airflow version (MWAA's Python 3.12 is the one
the local base carries). Each user's caches (uv's, the kit's Airflow virtualenvs) persist in
a host folder mounted at the container's ~/.cache, so a second run is warm; each job's wall
time is recorded (`job_seconds` in the JUnit properties), never asserted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from mwaa_kit.release.ci_recipes import recipe_path
from tests.e2e.ci_container import (
    BASE,
    IMAGE_ENV,
    RUNNER_UID,
    JobContainer,
    kit_wheel,
    non_root_image,
)
from tests.e2e.ci_jobs import JobRun, run_github_job
from tests.e2e.conftest import copy_example, new_folder, run_cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mwaa-kit" / "e2e-ci"
BROKEN_DAG = REPO / "tests/fixtures/broken_projects/dags_import_error/dags/needs_missing_package.py"
# The example's tests/ is the kit's own suite: the job runs this folder instead (MWAA_TESTS).
PROJECT_TESTS = '''\
def test_every_dag_imports(mwaa_dagbag):
    assert mwaa_dagbag.import_errors == {}


def test_the_ingestion_checks_what_landed_after_every_month(mwaa_dagbag):
    dag = mwaa_dagbag.get_dag("salesforce_to_s3")
    assert set(dag.get_task("check_landed").upstream_task_ids) == {
        f"opportunity_month_minus_{months}" for months in range(6)}
'''
STEPS = ["Install git and PostgreSQL", "Install mwaa-kit", "Validate",
         "Start the local MWAA environment", "Run the project's tests", "Test the DAG",
         "Stop the local MWAA environment"]
NO_ACTION = {"actions/checkout": lambda inputs: {}, "actions/cache": lambda inputs: {},
             "actions/upload-artifact": lambda inputs: {}}


@pytest.fixture(scope="module")
def wheels():
    """A folder holding a wheel of this checkout, which every user may read."""
    subprocess.run([str(REPO / "scripts/setup-containers")], check=True, capture_output=True)
    folder = new_folder("ci-wheels")
    folder.mkdir()
    kit_wheel(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def workspace(wheels):
    """The example project, with its CI file and a tests folder, checked out at
    <folder>/private (0700)/work space/nested/salesforce ingestion."""
    folder = new_folder("ci-container")
    project = folder / "private" / "work space" / "nested" / "salesforce ingestion"
    project.parent.mkdir(parents=True)
    (folder / "private").chmod(0o700)
    shutil.move(copy_example("ci-example", airflow_version=None), project)
    (project / "ci-tests").mkdir()
    (project / "ci-tests" / "test_example_dags.py").write_text(PROJECT_TESTS)
    (wheel,) = wheels.glob("*.whl")
    run_cli("ci", "init", "github", "--dag", "salesforce_to_s3", "--kit-spec",
            f"/wheels/{wheel.name}", project=project, check=True)
    yield project
    shutil.rmtree(folder, ignore_errors=True)


def _container(image: str, user: int, home: str, workspace: Path, wheels: Path,
               cache_name: str) -> JobContainer:
    """The job's container: the workspace's top folder at its own path, the wheels, and
    the user's persistent caches, all owned by the user, as a runner's checkout is."""
    top = workspace.parents[3]
    cache = CACHE / cache_name
    cache.mkdir(parents=True, exist_ok=True)
    for path in (top, cache):
        subprocess.run(["chown", "-R", f"{user}:{user}", str(path)], check=True)
    return JobContainer(image, user, home, {top: str(top), wheels: "/wheels:ro",
                                            cache: f"{home}/.cache"})


def _run_job(container: JobContainer, workspace: Path, record_property, case: str) -> JobRun:
    started = time.monotonic()
    run = run_github_job(recipe_path(workspace, "github"), "test", workspace,
                         {**IMAGE_ENV, "HOME": container.home}, NO_ACTION,
                         {"MWAA_TESTS": "ci-tests"}, timeout=1500, execute=container.execute)
    seconds = round(time.monotonic() - started, 1)
    record_property(f"job_seconds_{case}", seconds)
    print(f"pull-request job, {case}: {seconds} s")
    return run


def _assert_green(run: JobRun, container: JobContainer, workspace: Path) -> None:
    assert run.ok, run.output()[-20000:]
    assert [name for name, _ in run.steps] == STEPS
    reports = workspace / "mwaa-reports"
    validated = ElementTree.parse(reports / "validate.xml").getroot()
    assert validated.get("failures") == "0" and int(validated.get("tests")) >= 5
    tested = ElementTree.parse(reports / "tests.xml").getroot().find("testsuite")
    assert (tested.get("tests"), tested.get("failures"), tested.get("errors")) == ("2", "0",
                                                                                  "0")
    dags_test = dict(run.steps)["Test the DAG"].stdout
    assert "check_landed" in dags_test and "failed" not in dags_test
    assert container.processes() == [], "the environment is not down"


def test_the_pull_request_job_runs_green_as_root_in_a_private_workspace(
        workspace, wheels, record_property):
    container = _container(BASE, 0, "/root", workspace, wheels, "root")
    try:
        run = _run_job(container, workspace, record_property, "root")
        _assert_green(run, container, workspace)
        installed = dict(run.steps)["Install git and PostgreSQL"]
        assert "Setting up postgresql" in installed.stdout  # the image had none
        started = " ".join(dict(run.steps)["Start the local MWAA environment"].stderr.split())
        assert "The metadata database lives in /var/lib/mwaa-kit/postgres/" in started
    finally:
        container.remove()


def test_the_pull_request_job_runs_as_a_non_root_user_then_fails_at_validate_on_a_broken_dag(
        workspace, wheels, record_property):
    container = _container(non_root_image(), RUNNER_UID, "/home/runner", workspace, wheels,
                           "runner")
    try:
        account = container.execute("getent passwd postgres", workspace, {}, 60)
        assert account.returncode == 2, account.stdout  # no such account in the image
        _assert_green(_run_job(container, workspace, record_property, "non-root"), container,
                      workspace)
        # The server ran as the job's user, from the project's own folder.
        cluster = workspace / ".mwaa-kit" / "native" / "postgres"
        assert (cluster / "PG_VERSION").stat().st_uid == RUNNER_UID

        # A fresh checkout of the same project with a broken DAG, in the same container.
        for left in ("mwaa-reports", ".mwaa-kit"):
            shutil.rmtree(workspace / left)
        shutil.copy(BROKEN_DAG, workspace / "dags")
        os.chown(workspace / "dags" / BROKEN_DAG.name, RUNNER_UID, RUNNER_UID)
        run = _run_job(container, workspace, record_property, "non-root, broken DAG")
        assert [(name, process.returncode != 0) for name, process in run.steps] == [
            ("Install git and PostgreSQL", False), ("Install mwaa-kit", False),
            ("Validate", True), ("Collect the components' logs", False),
            ("Stop the local MWAA environment", False)], run.output()[-20000:]
        validated = ElementTree.parse(workspace / "mwaa-reports" / "validate.xml").getroot()
        failures = {case.get("name"): case.find("failure") for case in validated}
        assert failures["dags"] is not None, ElementTree.tostring(validated, "unicode")
        assert f"dags/{BROKEN_DAG.name}" in failures["dags"].text
        assert "salesforce_bulk_tools" in failures["dags"].text
        assert container.processes() == []
    finally:
        container.remove()
