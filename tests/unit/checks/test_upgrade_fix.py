"""upgrade-check --fix: ruff's own safe fixes (the pinned binary, run for real on small
files) on a copy, the imports they leave unused, --write's atomic replacement, and the
command's options."""

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from mwaa_kit import catalog
from mwaa_kit.checks import upgrade_fix
from mwaa_kit.checks.findings import CheckResult, Report
from mwaa_kit.checks.upgrade import UpgradeTargetError
from mwaa_kit.cli import upgrade as cli_upgrade
from mwaa_kit.project import Project
from tests.unit.checks.test_upgrade_corpus import CORPUS

SCHEDULE_INTERVAL = "dags/schedule_interval.py"
DUMMY = "dags/dummy_operator.py"
FINE = "dags/fine_taskflow.py"
# AIR302 flags the use, not the import: after its fix, the import is unused
UNUSED_BEFORE = '''import os
from datetime import datetime

from airflow import DAG
from airflow.operators.dummy_operator import DummyOperator

with DAG("dummy", start_date=datetime(2024, 1, 1), schedule=None):
    DummyOperator(task_id="start")
'''


def _project(tmp_path, files=(SCHEDULE_INTERVAL, DUMMY, FINE), version="2.11.0"):
    for file in files:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / file, tmp_path / file)
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    return Project(root=tmp_path, airflow_version=version)


def _contents(root):
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.mark.parametrize("version, rules", [
    ("2.11.0", ("AIR301",)),
    ("3.0.6", ("AIR301", "AIR302", "AIR303", "AIR311", "AIR312")),
    ("3.3.1", ("AIR301", "AIR302", "AIR303", "AIR311", "AIR312", "AIR321")),
])
def test_only_the_rules_that_matter_on_the_target_are_fixed(version, rules):
    assert upgrade_fix.fix_rules(catalog.get_version(version)) == rules


def test_the_fix_is_shown_as_a_diff_and_the_project_is_left_alone(tmp_path):
    project = _project(tmp_path)
    before = _contents(tmp_path)
    outcome = upgrade_fix.fix(project, "3.3.1")
    assert _contents(tmp_path) == before and not outcome.written
    diffs = {fixed.file: fixed.diff for fixed in outcome.files}
    assert sorted(diffs) == [DUMMY, SCHEDULE_INTERVAL]  # the fine file has no safe fix
    assert diffs[SCHEDULE_INTERVAL].startswith(
        f"--- a/{SCHEDULE_INTERVAL}\n+++ b/{SCHEDULE_INTERVAL}\n")
    assert '-with DAG("schedule_interval", start_date=datetime(2024, 1, 1), ' \
           'schedule_interval="@daily"):\n' in diffs[SCHEDULE_INTERVAL]
    assert '+with DAG("schedule_interval", start_date=datetime(2024, 1, 1), ' \
           'schedule="@daily"):\n' in diffs[SCHEDULE_INTERVAL]
    # the import the fix left unused goes too: it would still fail on 3.x
    assert "-from airflow.operators.dummy_operator import DummyOperator\n" in diffs[DUMMY]
    assert "+from airflow.providers.standard.operators.empty import EmptyOperator\n" \
        in diffs[DUMMY]
    assert '+    EmptyOperator(task_id="start")\n' in diffs[DUMMY]
    left = {(item.file, item.code) for item in outcome.unfixed}
    # `from airflow import DAG` and BashOperator's move have only unsafe fixes
    assert {(SCHEDULE_INTERVAL, "AIR311"), (SCHEDULE_INTERVAL, "AIR312"),
            (FINE, "AIR311")} <= left
    assert not any(code == "AIR301" for _, code in left)
    assert json.loads(json.dumps(outcome.to_dict()))["files"][0]["file"] == DUMMY


def test_write_replaces_the_changed_files_and_a_second_fix_finds_nothing(tmp_path):
    project = _project(tmp_path)
    fine = (tmp_path / FINE).read_bytes()
    (tmp_path / SCHEDULE_INTERVAL).chmod(0o640)
    shown = upgrade_fix.fix(project, "3.3.1")
    written = upgrade_fix.fix(project, "3.3.1", write=True)
    assert written.written and written.files == shown.files
    assert 'schedule="@daily"' in (tmp_path / SCHEDULE_INTERVAL).read_text()
    assert (tmp_path / SCHEDULE_INTERVAL).stat().st_mode & 0o777 == 0o640
    assert (tmp_path / FINE).read_bytes() == fine
    assert sorted(path.name for path in (tmp_path / "dags").iterdir()) == sorted(
        ["schedule_interval.py", "dummy_operator.py", "fine_taskflow.py"])  # no temp left
    again = upgrade_fix.fix(project, "3.3.1", write=True)
    assert again.files == [] and not again.written
    assert again.unfixed == written.unfixed


def test_on_a_2_x_target_provider_moves_are_not_fixed(tmp_path):
    project = _project(tmp_path, version="2.10.3")
    outcome = upgrade_fix.fix(project, "2.11.0")
    assert [fixed.file for fixed in outcome.files] == [SCHEDULE_INTERVAL]
    assert outcome.unfixed == []  # AIR302's finding is information on 2.x: not listed


def test_an_import_left_unused_beside_the_user_s_own_is_reported_not_removed(tmp_path):
    project = _project(tmp_path, files=())
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "mixed.py").write_text(UNUSED_BEFORE)
    outcome = upgrade_fix.fix(project, "3.3.1")
    diff = outcome.files[0].diff
    assert "-import os\n" not in diff
    assert "-from airflow.operators.dummy_operator import DummyOperator\n" not in diff
    orphan = [item for item in outcome.unfixed if item.code == "F401"]
    assert [(item.file, item.line) for item in orphan] == [("dags/mixed.py", 5)]
    assert "airflow.operators.dummy_operator.DummyOperator" in orphan[0].message
    assert "a fix left it unused" in orphan[0].message


def test_write_follows_a_symlinked_dag_file_to_its_target(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copyfile(CORPUS / SCHEDULE_INTERVAL, shared / "schedule_interval.py")
    project = _project(tmp_path / "project", files=())
    (tmp_path / "project" / "dags").mkdir()
    link = tmp_path / "project" / SCHEDULE_INTERVAL
    link.symlink_to(shared / "schedule_interval.py")
    upgrade_fix.fix(project, "3.3.1", write=True)
    assert link.is_symlink()
    assert 'schedule="@daily"' in (shared / "schedule_interval.py").read_text()


def test_a_file_changed_while_it_was_fixed_is_left_alone(tmp_path):
    path = tmp_path / "dag.py"
    path.write_text("edited meanwhile\n")
    with pytest.raises(upgrade_fix.FixWriteError) as raised:
        upgrade_fix._replace(path, b"as copied\n", b"fixed\n")
    assert "changed while it was being fixed" in raised.value.message
    assert path.read_text() == "edited meanwhile\n"
    assert os.listdir(tmp_path) == ["dag.py"]


def test_a_target_the_project_cannot_move_to_is_refused(tmp_path):
    with pytest.raises(UpgradeTargetError):
        upgrade_fix.fix(_project(tmp_path), "2.10.3")


@pytest.fixture
def checks_seen(monkeypatch):
    """The command's checks, faked: they record the DAG file they would check (the real
    ones need the target's virtualenv) and fail when it still has schedule_interval."""
    seen = []

    def fake_check(project, to, report):
        text = (project.root / SCHEDULE_INTERVAL).read_text()
        seen.append(text)
        dags = CheckResult("dags")
        if "schedule_interval=" in text:
            dags.add("error", "AIR301: `schedule_interval` is removed", file=SCHEDULE_INTERVAL,
                     line=6)
        return Report(str(project.root), to, [dags], "upgrade-check", project.airflow_version)

    monkeypatch.setattr(cli_upgrade, "run_upgrade_check", fake_check)
    return seen


def test_write_without_fix_is_a_usage_error(tmp_path, checks_seen):
    _project(tmp_path)
    before = _contents(tmp_path)
    result = CliRunner().invoke(cli_upgrade.upgrade_check,
                                ["-p", str(tmp_path), "--to", "3.3.1", "--write"])
    assert result.exit_code == 2 and "--write writes what --fix shows" in result.output
    assert checks_seen == [] and _contents(tmp_path) == before


def test_fix_alone_prints_the_diff_and_leaves_the_files_byte_identical(tmp_path, checks_seen):
    _project(tmp_path)
    before = _contents(tmp_path)
    result = CliRunner().invoke(cli_upgrade.upgrade_check,
                                ["-p", str(tmp_path), "--to", "3.3.1", "--fix", "-q"])
    assert result.exit_code == 1, result.output  # the project on disk still fails
    assert _contents(tmp_path) == before
    assert f"+++ b/{SCHEDULE_INTERVAL}" in result.output
    assert "2 file(s) would change" in result.output and "add --write" in result.output
    assert "ruff could not fix" in result.output
    as_json = CliRunner().invoke(cli_upgrade.upgrade_check, [
        "-p", str(tmp_path), "--to", "3.3.1", "--fix", "--format", "json"])
    fix = json.loads(as_json.output)["fix"]
    assert [item["file"] for item in fix["files"]] == [DUMMY, SCHEDULE_INTERVAL]
    assert fix["written"] is False and fix["unfixed"]
    assert _contents(tmp_path) == before


def test_fix_write_fixes_before_the_checks_whose_status_it_exits_with(tmp_path, checks_seen):
    _project(tmp_path)
    result = CliRunner().invoke(cli_upgrade.upgrade_check,
                                ["-p", str(tmp_path), "--to", "3.3.1", "--fix", "--write"])
    assert result.exit_code == 0, result.output
    assert 'schedule="@daily"' in checks_seen[0]
    assert f"fixed 2 file(s): {DUMMY}, {SCHEDULE_INTERVAL}" in result.output
