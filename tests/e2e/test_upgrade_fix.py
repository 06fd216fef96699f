"""upgrade-check --fix, then --fix --write, through the real CLI on corpus files that ruff
can fix (2.11.0 to 3.3.1): the diff is shown and nothing changes, then the files are
fixed, and the same command on them finds nothing left to fix and, with the DAGs and the
plugin imported in the real 3.3.1 virtualenv, nothing that breaks."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.e2e.conftest import run_cli
from tests.unit.checks.test_upgrade_corpus import CORPUS

pytestmark = pytest.mark.e2e
FILES = ("dags/schedule_interval.py", "dags/concurrency.py", "dags/dummy_operator.py",
         "dags/dataset_schedule.py", "plugins/operators/apply_defaults_operator.py")


def _contents(root):
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def _upgrade_check(project, *options):
    result = run_cli("upgrade-check", "--to", "3.3.1", "--fix", *options, project=project,
                     timeout=900)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_fix_shows_the_diff_then_write_fixes_what_breaks(project_dir):
    for file in FILES:
        (project_dir / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / file, project_dir / file)
    (project_dir / "mwaa-kit.toml").write_text('[environment]\nairflow_version = "2.11.0"\n')
    before = _contents(project_dir)

    shown = _upgrade_check(project_dir, "--format", "json")
    assert shown.returncode == 1, shown.stdout
    report = json.loads(shown.stdout)
    assert _contents(project_dir) == before
    diffs = {item["file"]: item["diff"] for item in report["fix"]["files"]}
    assert sorted(diffs) == sorted(FILES)
    assert '+with DAG("schedule_interval", start_date=datetime(2024, 1, 1), ' \
           'schedule="@daily"):' in diffs["dags/schedule_interval.py"]
    assert "-from airflow.operators.dummy_operator import DummyOperator" \
        in diffs["dags/dummy_operator.py"]
    assert "-    @apply_defaults" in diffs["plugins/operators/apply_defaults_operator.py"]
    broken = {finding["file"] for check in report["checks"] for finding in check["findings"]
              if finding["severity"] == "error"}
    assert broken == set(FILES)

    written = _upgrade_check(project_dir, "--write")
    assert written.returncode == 0, written.stdout + written.stderr
    assert f"fixed {len(FILES)} file(s)" in written.stdout
    assert "+++ b/dags/concurrency.py" in written.stdout
    assert "max_active_tasks=4" in (project_dir / "dags/concurrency.py").read_text()

    again = json.loads(_upgrade_check(project_dir, "--format", "json").stdout)
    assert again["fix"]["files"] == [] and again["ok"], again
    fixed_rules = set(again["fix"]["rules"])
    assert not [item for item in again["fix"]["unfixed"] if item["code"] not in fixed_rules]
    left = [finding for check in again["checks"] for finding in check["findings"]
            if finding["file"] in FILES and finding["severity"] != "info"]
    # what is left is ruff's unsafe suggestions (warnings), each still a finding
    assert {finding["severity"] for finding in left} <= {"warning"}
    assert {(item["file"], item["line"]) for item in again["fix"]["unfixed"]} <= {
        (finding["file"], finding["line"]) for finding in left}
