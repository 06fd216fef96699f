"""upgrade-check --run and --pytest over real parts: the target's Airflow virtualenv, a
trial environment brought up natively (PostgreSQL, moto, the Salesforce stub) and torn
down, `airflow dags test`, and pytest with the kit's plugin.

The example project, moved from 3.2.1, runs its ingestion DAG and its tests green on the
target. A 2.x project, up on its own version meanwhile, has a DAG that imports fine on
both and fails only when it runs on 3.x (a template reading {{ execution_date }}) and a
test that fails on 3.x: both are named, and its running environment is left as it was.
Both reuse the virtualenvs other e2e modules build (the example's requirements on the
target; 2.11.0 and 3.3.1 without requirements).
"""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from mwaa_kit.runtime.trial import with_version
from tests.e2e.conftest import copy_example, new_folder, remove_project, run_cli, write_project

pytestmark = pytest.mark.e2e

TARGET = "3.3.1"
REPORT_DATES = """
    from datetime import datetime

    from airflow import DAG

    try:
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:
        from airflow.operators.bash import BashOperator

    with DAG("report_dates", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
        day = BashOperator(task_id="print_day", bash_command="echo {{ ds }}")
        stamp = BashOperator(task_id="stamp", bash_command="echo {{ execution_date }}")
        done = BashOperator(task_id="done", bash_command="echo done")
        day >> stamp >> done
"""
LEGACY_IMPORT = """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.dummy import DummyOperator

    with DAG("legacy_import", schedule=None, start_date=datetime(2024, 1, 1)):
        DummyOperator(task_id="nothing")
"""
EXAMPLE_TESTS = """
    def test_the_ingestion_dags_import(mwaa_dagbag):
        assert mwaa_dagbag.import_errors == {}
        assert "salesforce_to_s3" in mwaa_dagbag.dag_ids


    def test_the_emulated_s3_answers(aws_emulator):
        s3 = aws_emulator.client("s3")
        s3.create_bucket(Bucket="lake")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["lake"]
"""
BROKEN_TESTS = """
    def test_every_dag_imports(mwaa_dagbag):
        assert mwaa_dagbag.import_errors == {}


    def test_report_dates_has_its_tasks(mwaa_dagbag):
        assert set(mwaa_dagbag.get_dag("report_dates").task_ids) == {"print_day", "stamp", "done"}
"""


def _files(project: Path) -> dict[str, bytes]:
    """The project's files but the kit's state (a running environment writes there)."""
    return {str(path.relative_to(project)): path.read_bytes() for path in project.rglob("*")
            if path.is_file() and ".mwaa-kit" not in path.relative_to(project).parts}


def _trial_leftovers() -> set[str]:
    """Trial folders, and processes whose command line names one."""
    found = {str(path) for path in Path(tempfile.gettempdir()).glob("mwaa-kit-trial-*")}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended meanwhile
        if "mwaa-kit-trial-" in text:
            found.add(f"pid {cmdline.parent.name}: {text[:200]}")
    return found


def _upgrade_check(project: Path, *arguments: str) -> dict:
    """Run upgrade-check --to TARGET with `arguments`: its exit status, checks by name,
    JUnit test cases by name, and whether it changed the project or left anything."""
    before, leftovers = _files(project), _trial_leftovers()
    junit = project.parent / f"{project.name}-report.xml"
    result = run_cli("upgrade-check", "--to", TARGET, *arguments, "--format", "json",
                     "--junit-xml", str(junit), project=project)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    cases = {case.get("name"): case for case in ElementTree.parse(junit).iter("testcase")}
    junit.unlink()
    return {"returncode": result.returncode, "stderr": result.stderr,
            "checks": {check["name"]: check for check in json.loads(result.stdout)["checks"]},
            "junit": cases, "changed": _files(project) != before,
            "left": _trial_leftovers() - leftovers}


@pytest.fixture(scope="module")
def moved_example():
    """The example project on 3.2.1 with tests of its own, checked for 3.3.1 with a run of
    its ingestion DAG and its tests."""
    project = copy_example("upgrade-runs-example")
    config = project / "mwaa-kit.toml"
    config.write_text(with_version(config.read_text(), "3.2.1"))
    write_project(project, {"tests/test_example.py": EXAMPLE_TESTS})
    try:
        yield _upgrade_check(project, "--run", "salesforce_to_s3", "--pytest")
    finally:
        remove_project(project)


@pytest.fixture(scope="module")
def broken_on_target():
    """A 2.11.0 project, up on 2.11.0, checked for 3.3.1; its status before and after,
    and a run of report_dates on 2.11.0 after."""
    project = new_folder("upgrade-runs-broken")
    write_project(project, {
        "mwaa-kit.toml": '[environment]\nairflow_version = "2.11.0"\n',
        "dags/report_dates.py": REPORT_DATES, "dags/legacy_import.py": LEGACY_IMPORT,
        "tests/test_dags.py": BROKEN_TESTS})
    try:
        run_cli("up", "--quiet", project=project, check=True)
        before = json.loads(run_cli("status", "--format", "json", project=project).stdout)
        outcome = _upgrade_check(project, "--run", "report_dates", "--pytest")
        outcome["status"] = (before, json.loads(
            run_cli("status", "--format", "json", project=project).stdout))
        outcome["current"] = run_cli("dags", "test", "report_dates", "--format", "json",
                                     project=project)
        yield outcome
    finally:
        remove_project(project)


def test_the_example_runs_green_on_the_target(moved_example):
    assert moved_example["returncode"] == 0, moved_example["stderr"][-3000:]
    run = moved_example["checks"]["run salesforce_to_s3"]
    assert run["status"] == "passed" and run["details"]["state"] == "success"
    assert run["details"]["tasks"] and {task["state"] for task in run["details"]["tasks"]} == {
        "success"}
    assert [f["location"] for f in run["findings"]] == ["dags/salesforce_to_s3.py"]
    assert moved_example["junit"]["run salesforce_to_s3"].find("failure") is None


def test_the_example_s_own_tests_pass_on_the_target(moved_example):
    tests = moved_example["checks"]["pytest"]
    assert tests["status"] == "passed", tests["findings"]
    assert (tests["details"]["passed"], tests["details"]["failed"]) == (2, 0)
    assert moved_example["junit"]["pytest"].find("failure") is None


def test_the_example_s_files_are_unchanged_and_nothing_is_left(moved_example):
    assert not moved_example["changed"] and moved_example["left"] == set()


def test_a_dag_that_breaks_only_when_run_on_the_target_names_its_task(broken_on_target):
    assert broken_on_target["returncode"] == 1
    run = broken_on_target["checks"]["run report_dates"]
    assert run["status"] == "failed" and run["details"]["state"] == "failed"
    assert run["details"]["failed_task"] == "stamp"
    [finding] = [f for f in run["findings"] if f["severity"] == "error"]
    assert finding["location"] == "dags/report_dates.py"
    assert "report_dates failed on Airflow 3.3.1: task stamp failed" in finding["message"]
    assert "'execution_date' is undefined" in run["details"]["log_tail"]
    failure = broken_on_target["junit"]["run report_dates"].find("failure")
    assert failure is not None and "'execution_date' is undefined" in failure.text


def test_the_project_s_tests_that_fail_on_the_target_are_named(broken_on_target):
    tests = broken_on_target["checks"]["pytest"]
    assert tests["status"] == "failed"
    assert (tests["details"]["passed"], tests["details"]["failed"]) == (1, 1)
    [finding] = tests["findings"]
    assert finding["location"] == "tests/test_dags.py:1"
    assert finding["message"].startswith(
        "tests/test_dags.py::test_every_dag_imports failed on Airflow 3.3.1")
    assert "legacy_import.py" in finding["message"]


def test_the_running_environment_of_the_current_version_is_left_as_it_was(
        broken_on_target):
    before, after = broken_on_target["status"]
    assert after["running"] and after["airflow_version"] == "2.11.0"
    assert {name: process["pid"] for name, process in after["processes"].items()} == {
        name: process["pid"] for name, process in before["processes"].items()}
    current = broken_on_target["current"]
    assert current.returncode == 0, current.stderr[-3000:]  # the DAG is fine on 2.11.0
    assert not broken_on_target["changed"] and broken_on_target["left"] == set()

