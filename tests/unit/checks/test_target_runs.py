"""upgrade-check's --run and --pytest as check results: each DAG run's state, the task
that failed and the end of its log, a trial that could not start, the project's tests
(really run by pytest here, on small test files), and the command's table, JSON and
JUnit with them. The trial environment is a stand-in; tests/e2e runs the real one."""

import json
import xml.etree.ElementTree as ElementTree
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

from mwaa_kit.checks import project_tests, target_runs
from mwaa_kit.checks.findings import Report
from mwaa_kit.cli import upgrade as upgrade_cli
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project

TAIL = "jinja2.exceptions.UndefinedError: 'execution_date' is undefined"


def _run(state, tasks, dag_id="report_dates", fileloc="dags/report_dates.py"):
    return {"dag_id": dag_id, "run_id": "manual__1", "state": state, "paused": True,
            "fileloc": fileloc, "tasks": [{"task_id": task, "state": task_state,
                                           "map_index": -1} for task, task_state in tasks]}


class FakeTrial:
    """A trial environment whose DAG runs are given: dag id -> dict or KitError."""

    def __init__(self, project, outcomes):
        self.project = project
        self.outcomes = outcomes
        self.ran: list[str] = []
        self.closed = False

    def dags_test(self, dag_id):
        self.ran.append(dag_id)
        outcome = self.outcomes[dag_id]
        if isinstance(outcome, KitError):
            raise outcome
        return outcome


@pytest.fixture
def copy(tmp_path):
    """The trial's copy of the project, on the target version."""
    (tmp_path / "dags").mkdir()
    return Project(root=tmp_path, airflow_version="3.3.1")


def _opener(trial, opened):
    @contextmanager
    def open_trial(project, to, report):
        opened.append((project, to))
        try:
            yield trial
        finally:
            trial.closed = True

    return open_trial


def test_a_failed_run_names_its_failing_task_file_and_the_end_of_its_log(copy):
    trial = FakeTrial(copy, {"report_dates": {
        "run": _run("failed", [("print_day", "success"), ("stamp", "failed"),
                               ("done", "upstream_failed")],
                    fileloc=str(copy.root / "dags" / "report_dates.py")),
        "returncode": 1, "failed_task": "stamp", "log_tail": TAIL}})
    [result] = target_runs.run(Project(root=copy.root), "3.3.1", ["report_dates"], False,
                               _opener(trial, []))
    assert result.name == "run report_dates" and result.status == "failed"
    [finding] = result.errors
    assert (finding.check, finding.location, finding.code) == (
        "run", "dags/report_dates.py", "run.failed")
    assert "report_dates failed on Airflow 3.3.1: task stamp failed" in finding.message
    assert finding.message.endswith(TAIL) and "stamp" in finding.hint
    assert result.details["failed_task"] == "stamp" and result.details["log_tail"] == TAIL
    assert result.details["summary"] == "failed, 3 task(s), stamp failed"


def test_a_successful_run_is_an_informational_finding_and_passes(copy):
    trial = FakeTrial(copy, {"hello": {"run": _run("success", [("a", "success")], "hello",
                                                   "dags/hello.py"),
                                       "returncode": 0, "failed_task": None,
                                       "log_tail": "all good"}})
    [result] = target_runs.run(copy, "3.3.1", ["hello"], False, _opener(trial, []))
    assert result.status == "passed" and not result.errors
    assert [f.severity for f in result.findings] == ["info"]
    assert "log_tail" not in result.details and result.details["state"] == "success"


def test_a_dag_the_target_cannot_run_says_no_run_was_made(copy):
    trial = FakeTrial(copy, {"ghost": {"run": _run(None, [], "ghost", None),
                                       "returncode": 1, "failed_task": None,
                                       "log_tail": "Dag 'ghost' could not be found"}})
    [result] = target_runs.run(copy, "3.3.1", ["ghost"], False, _opener(trial, []))
    [finding] = result.errors
    assert finding.code == "run.no_run" and finding.location == ""
    assert "made no run on Airflow 3.3.1 (exit status 1)" in finding.message
    assert "could not be found" in finding.message and "ghost" in finding.hint


def test_runs_share_one_trial_repeats_run_once_and_a_failed_start_is_each_run_s_error(
        copy):
    failure = KitError("PostgreSQL exited while starting", hint="Its whole log is x.log")
    trial = FakeTrial(copy, {"a": failure, "b": failure})
    opened = []
    results = target_runs.run(copy, "3.3.1", ["a", "b", "a"], False, _opener(trial, opened))
    assert len(opened) == 1 and opened[0][1] == "3.3.1" and trial.closed
    assert trial.ran == ["a", "b"] and [r.name for r in results] == ["run a", "run b"]
    for result in results:
        [finding] = result.errors
        assert finding.code == "run.environment" and finding.hint == "Its whole log is x.log"
        assert "did not start: PostgreSQL exited while starting" in finding.message


def test_the_trial_is_closed_when_a_run_raises_a_bug(copy):
    class Broken(FakeTrial):
        def dags_test(self, dag_id):
            raise RuntimeError("a bug")

    trial = Broken(copy, {})
    with pytest.raises(RuntimeError):
        target_runs.run(copy, "3.3.1", ["a"], False, _opener(trial, []))
    assert trial.closed


def _tests(root, files):
    (root / "tests").mkdir()
    for name, text in files.items():
        (root / "tests" / name).write_text(text)


def test_the_project_s_tests_run_with_each_failure_at_its_file_and_line(copy):
    _tests(copy.root, {"test_things.py": (
        "import pytest\n\n"
        "def test_passes():\n    assert True\n\n"
        "def test_fails():\n    assert 1 == 2, 'numbers moved'\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_skipped():\n    pass\n")})
    result = project_tests.run(copy)
    assert result.name == "pytest" and result.status == "failed"
    assert result.details["summary"] == "1 passed, 1 failed, 1 skipped"
    assert result.details["exit_status"] == 1
    [finding] = result.errors
    assert finding.location == "tests/test_things.py:6" and finding.code == "pytest.failed"
    assert finding.message.startswith(
        "tests/test_things.py::test_fails failed on Airflow 3.3.1:\nAssertionError: numbers")
    assert not (copy.root / ".pytest_cache").exists()


def test_passing_tests_pass_the_check_with_their_summary(copy):
    _tests(copy.root, {"test_ok.py": "def test_one():\n    pass\n"})
    result = project_tests.run(copy)
    assert result.status == "passed" and result.details["passed"] == 1
    assert [f.message for f in result.findings] == ["the tests pass on Airflow 3.3.1: 1 passed"]


@pytest.mark.parametrize("files, words", [
    (None, "the project has no tests/ folder"),
    ({"test_none.py": "VALUE = 1\n"}, "pytest collected no test"),
    ({"test_broken.py": "import not_a_module_anywhere\n"},
     "No module named 'not_a_module_anywhere'"),
])
def test_no_tests_or_tests_that_cannot_run_fail_the_check(copy, files, words):
    if files is not None:
        _tests(copy.root, files)
    result = project_tests.run(copy)
    assert result.status == "failed"
    assert words in result.errors[0].message


def test_the_command_adds_the_runs_to_its_json_and_junit_and_fails_on_a_failed_run(
        tmp_path, monkeypatch):
    (tmp_path / "mwaa-kit.toml").write_text('[environment]\nairflow_version = "2.11.2"\n')
    target = Project(root=tmp_path / "copy", airflow_version="3.3.1")
    trial = FakeTrial(target, {
        "good": {"run": _run("success", [("a", "success")], "good"), "returncode": 0,
                 "failed_task": None, "log_tail": ""},
        "bad": {"run": _run("failed", [("stamp", "failed")], "bad"), "returncode": 1,
                "failed_task": "stamp", "log_tail": TAIL}})
    opened = []
    monkeypatch.setattr(upgrade_cli, "trial_environment", _opener(trial, opened))
    monkeypatch.setattr(upgrade_cli, "run_upgrade_check", lambda project, to, report: Report(
        project=str(project.root), airflow_version=to, command="upgrade-check",
        from_version=project.airflow_version))
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(upgrade_cli.upgrade_check, [
        "-p", str(tmp_path), "--to", "3.3.1", "--run", "good", "--run", "bad", "--format",
        "json", "--junit-xml", str(junit)])
    assert result.exit_code == 1, result.output
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["run good"]["status"] == "passed"
    assert checks["run bad"]["details"]["failed_task"] == "stamp"
    assert opened[0][0].root == tmp_path and trial.closed
    cases = {case.get("name"): case for case in ElementTree.parse(junit).iter("testcase")}
    assert cases["run good"].find("failure") is None
    assert TAIL in cases["run bad"].find("failure").text


def test_without_run_or_pytest_no_trial_is_made(tmp_path, monkeypatch):
    (tmp_path / "mwaa-kit.toml").write_text('[environment]\nairflow_version = "2.11.2"\n')
    monkeypatch.setattr(upgrade_cli, "trial_environment", lambda *args: pytest.fail("made"))
    monkeypatch.setattr(upgrade_cli, "run_upgrade_check", lambda project, to, report: Report(
        project=str(project.root), airflow_version=to, command="upgrade-check"))
    result = CliRunner().invoke(upgrade_cli.upgrade_check, ["-p", str(tmp_path), "--to",
                                                            "3.3.1", "-q"])
    assert result.exit_code == 0, result.output
