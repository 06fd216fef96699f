"""upgrade-check on a real resolution (tests/fixtures/upgrade_requirements, 2.11.0 to
3.3.1): a package the target's constraints move is reported with both versions, a pin the
target's constraints contradict as no longer resolving, with the pin that decides."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.checks import requirements
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "upgrade_requirements"


def _pin(version: str, name: str) -> str:
    text, _ = catalog.constraints_text(catalog.get_version(version), Path("/nonexistent"),
                                       timeout=0.1)
    return requirements.pinned(text)[name]


def test_moved_and_unresolvable_requirements_name_their_pins(project_dir):
    project = project_dir / "upgrade-requirements"
    shutil.copytree(FIXTURE, project)
    result = run_cli("upgrade-check", "--to", "3.3.1", "--format", "json", project=project,
                     timeout=900)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    check = next(c for c in report["checks"] if c["name"] == "requirements")
    rows = {row["package"]: row for row in check["details"]["dependencies"]}
    assert rows["boto3"]["status"] == "no longer resolves"
    assert rows["boto3"]["current"] == "1.37.3"
    assert rows["boto3"]["decides"] == f"constraints-3.3.1 pins boto3=={_pin('3.3.1', 'boto3')}"
    unresolvable = [f for f in check["findings"] if f["code"] == "requirements.unresolvable"]
    assert unresolvable and unresolvable[0]["line"] == 3
    humanize = _pin("3.3.1", "humanize")
    assert (rows["humanize"]["current"], rows["humanize"]["target"]) == (
        _pin("2.11.0", "humanize"), humanize)
    assert rows["humanize"]["status"] == "moves"
    assert rows["humanize"]["decides"] == f"constraints-3.3.1 pins humanize=={humanize}"
