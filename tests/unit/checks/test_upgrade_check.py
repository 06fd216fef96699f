"""upgrade-check's own logic: which targets it accepts, the dependency table, the report
it makes of validate's checks, and the command's errors."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from mwaa_kit import catalog
from mwaa_kit.checks import requirements, runner, upgrade
from mwaa_kit.checks.findings import CheckResult, Report
from mwaa_kit.cli.upgrade import upgrade_check as command
from mwaa_kit.project import Project


def _project(tmp_path, version="2.11.0", requirements_text=None):
    if requirements_text is not None:
        (tmp_path / "requirements").mkdir(exist_ok=True)
        (tmp_path / "requirements" / "requirements.txt").write_text(requirements_text)
    (tmp_path / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    return Project(root=tmp_path, airflow_version=version)


@pytest.mark.parametrize("to, words", [("9.9", "not in the MWAA catalog"),
                                       ("2.10.3", "not newer"), ("2.11.0", "not newer")])
def test_an_unknown_or_older_target_is_refused_with_the_choices(tmp_path, to, words):
    with pytest.raises(upgrade.UpgradeTargetError) as raised:
        upgrade.target_version(_project(tmp_path), to)
    assert words in raised.value.message
    assert "3.0.6" in raised.value.hint and "2.10.3" not in raised.value.hint


def test_the_newest_version_has_nothing_to_move_to(tmp_path):
    newest = catalog.supported_versions()[-1]
    with pytest.raises(upgrade.UpgradeTargetError) as raised:
        upgrade.target_version(_project(tmp_path, newest), newest)
    assert "newest" in raised.value.hint


def test_the_command_says_a_bad_target_without_a_traceback_and_changes_nothing(tmp_path):
    _project(tmp_path)
    before = sorted(path.name for path in tmp_path.rglob("*"))
    result = CliRunner().invoke(command, ["-p", str(tmp_path), "--to", "1.10.15"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: Airflow 1.10.15 is not in the MWAA catalog" in result.output
    assert "hint: choose one of" in result.output
    as_json = CliRunner().invoke(command, ["-p", str(tmp_path), "--to", "2.10.3",
                                           "--format", "json"])
    assert json.loads(as_json.output)["error"]["type"] == "UpgradeTargetError"
    assert sorted(path.name for path in tmp_path.rglob("*")) == before


def _resolution(text, returncode=0):
    return subprocess.CompletedProcess([], returncode, stdout=text, stderr="")


def test_the_dependency_table_names_what_moves_and_the_pin_that_decides(tmp_path,
                                                                       monkeypatch):
    project = _project(tmp_path, requirements_text="requests\nboto3==1.30.0\nhumanize\n")
    target = catalog.get_version("3.3.1")
    boto3 = requirements.pinned(catalog.constraints_text(
        target, tmp_path / "constraints")[0])["boto3"]
    monkeypatch.setattr(requirements, "resolve", lambda *args, **kwargs: _resolution(
        "requests==2.31.0\nboto3==1.30.0\nhumanize==4.9.0\n"))
    details = {"requirements": {"requests": "2.32.3", "humanize": "4.9.0"}}
    rows = {row.package: row for row in upgrade.dependencies(project, target, details)}
    assert rows["requests"].status == "moves" and rows["requests"].target == "2.32.3"
    assert rows["humanize"].status == "unchanged" and rows["humanize"].decides is None
    assert rows["boto3"].status == "no longer resolves"
    assert rows["boto3"].decides == f"constraints-3.3.1 pins boto3=={boto3}"


def test_without_a_target_resolution_the_target_pin_says_where_a_line_moves(tmp_path,
                                                                          monkeypatch):
    project = _project(tmp_path, requirements_text="humanize\nsome-lib>=9\nboto3==1.30.0\n")
    target = catalog.get_version("3.3.1")
    humanize = requirements.pinned(catalog.constraints_text(
        target, tmp_path / "constraints")[0])["humanize"]
    monkeypatch.setattr(requirements, "resolve", lambda *a, **k: _resolution(
        "humanize==1.0.0\nsome-lib==9.1\n"))
    rows = upgrade.dependencies(project, target, {}, failing={2})
    assert [(row.package, row.status) for row in rows] == [
        ("humanize", "moves"), ("some-lib", "no longer resolves"),
        ("boto3", "no longer resolves")]
    assert rows[0].target == humanize
    assert rows[0].decides == f"constraints-3.3.1 pins humanize=={humanize}"
    assert rows[1].decides is None  # the target does not pin it: uv's reason says why


def test_the_report_is_validate_s_for_the_target_ordered_by_severity(tmp_path, monkeypatch):
    project = _project(tmp_path)
    seen = {}

    def fake_validate(moved, only, report):
        seen["version"] = moved.airflow_version
        dags = CheckResult("dags")
        dags.add("info", "checked")
        dags.add("warning", "AIR311: moved", file="dags/a.py", line=2)
        dags.add("error", "AIR301: removed", file="dags/a.py", line=9)
        return Report(str(moved.root), moved.airflow_version, [dags])

    monkeypatch.setattr(runner, "validate", fake_validate)
    outcome = upgrade.upgrade_check(project, "3.0.6")
    assert seen["version"] == "3.0.6" and project.airflow_version == "2.11.0"
    assert [f.severity for f in outcome.findings] == ["error", "warning", "info"]
    data = outcome.to_dict()
    assert data["command"] == "upgrade-check" and data["from_airflow_version"] == "2.11.0"
    assert '<testsuite name="mwaa-kit upgrade-check"' in outcome.junit_xml()


def test_the_command_runs_validate_s_checks_for_the_target_and_changes_nothing(tmp_path,
                                                                              monkeypatch):
    """Without Airflow (the scratch environment cannot be prepared): the target's
    managed options, ruff's rules and the templates still fail the move."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "old.py").write_text(
        "from airflow.operators.bash import BashOperator\n"
        "from airflow.utils.dates import days_ago\n"
        "BashOperator(task_id='b', bash_command='echo {{ execution_date }}',\n"
        "             start_date=days_ago(1))\n")
    _project(tmp_path, requirements_text="humanize\n")
    with (tmp_path / "mwaa-kit.toml").open("a") as config:
        config.write('\n[airflow_config]\n"logging.colored_console_log" = "False"\n')
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    monkeypatch.setattr(requirements, "resolve",
                        lambda *a, **k: _resolution("humanize==4.9.0\n"))

    def no_python(*args, **kwargs):
        raise runner.PythonNotFoundError("no Python 3.12 here")

    monkeypatch.setattr(runner, "prepare_scratch", no_python)
    junit = tmp_path / "out" / "upgrade.xml"
    result = CliRunner().invoke(command, ["-p", str(tmp_path), "--to", "3.3.1", "-q",
                                          "--format", "json", "--junit-xml", str(junit)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    findings = {(f["code"], f["location"]) for c in data["checks"] for f in c["findings"]
                if f["severity"] == "error"}
    assert findings == {("config.refused_option", "mwaa-kit.toml"),
                        ("dags.AIR301", "dags/old.py:4"),
                        ("dags.removed_context_key", "dags/old.py:3")}
    requirements_check = next(c for c in data["checks"] if c["name"] == "requirements")
    assert requirements_check["details"]["dependencies"][0]["status"] == "unchanged"
    assert 'name="mwaa-kit upgrade-check"' in junit.read_text()
    junit.unlink()
    junit.parent.rmdir()
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} \
        == before
    table = CliRunner().invoke(command, ["-p", str(tmp_path), "--to", "3.3.1", "-q"])
    assert "requirements.txt: Airflow 2.11.0 -> 3.3.1" in table.output
    assert "MWAA's Airflow 3.3.1 would fail on this project" in table.output
