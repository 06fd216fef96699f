"""Each broken project of tests/fixtures/broken_projects/ holds one MWAA failure class;
`mwaa-kit validate` must catch it with a message naming the file and what to do, and pass
the example project clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mwaa_kit import catalog
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "fixtures" / "broken_projects"

# The corpus runs on the catalog's default version: its Flask pin is what Flask==3.0.3 fights.
_FLASK_PIN = next(pin for pin in catalog.get_version(catalog.DEFAULT_VERSION).essential_pins
                  if pin.startswith("Flask=="))

# project -> (check to run, severity, finding code, file named, words in the message)
EXPECTED = {
    "dags_import_error": ("dags", "error", "dags.import_error",
                          "dags/needs_missing_package.py", "salesforce_bulk_tools"),
    "dags_syntax_error": ("dags", "error", "dags.import_error", "dags/typo.py", "SyntaxError"),
    "dags_cycle": ("dags", "error", "dags.cycle", "dags/loop.py", "Cycle detected"),
    "dags_duplicate_dag_id": ("dags", "error", "dags.duplicate_dag_id", "dags/second.py",
                              "daily_ingest"),
    "dags_parse_timeout": ("dags", "error", "dags.parse_time", "dags/slow_top_level.py",
                           "timed out"),
    "dags_variable_at_parse_time": ("dags", "warning", "dags.parse_time_variable",
                                    "dags/reads_variable.py", "Variable.get"),
    "dags_removed_import": ("dags", "error", "dags.AIR301", "dags/old_style.py", "days_ago"),
    "dags_removed_argument": ("dags", "error", "dags.AIR301", "dags/schedule_interval.py",
                              "schedule_interval"),
    "dags_removed_context_key": ("dags", "error", "dags.removed_context_key",
                                 "dags/templated.py", "execution_date"),
    "plugins_symlink": ("plugins", "error", "plugins.symlink", "plugins/linked_helpers.py",
                        "symlink"),
    "plugins_import_error": ("plugins", "error", "plugins.import_error",
                             "plugins/operators/broken_operator.py", "salesforce_bulk_tools"),
    "plugins_nested_layout": ("plugins", "warning", "plugins.layout", "plugins/plugins",
                              "single folder"),
    "requirements_unresolvable": ("requirements", "error", "requirements.unresolvable",
                                  "requirements/requirements.txt",
                                  "apache-airflow-providers-amazon"),
    "requirements_essential_pin": ("requirements", "error", "requirements.essential_pin",
                                   "requirements/requirements.txt", _FLASK_PIN),
    "requirements_constraints_mismatch": ("requirements", "error",
                                          "requirements.constraints_line",
                                          "requirements/requirements.txt", "Airflow 2.10.3"),
    "requirements_needs_compiler": ("requirements", "error", "requirements.needs_compiler",
                                    "requirements/requirements.txt", "pycrypto"),
    "startup_exit_status": ("startup", "error", "startup.exit_status",
                            "requirements/startup.sh", "status 3"),
    "startup_protected_variable": ("startup", "error", "startup.protected_variable",
                                   "requirements/startup.sh", "AIRFLOW_HOME"),
    "startup_crlf_line_endings": ("startup", "error", "startup.line_endings",
                                  "requirements/startup.sh", "CRLF"),
    "config_forced_option": ("config", "error", "config.refused_option", "mwaa-kit.toml",
                             "core.executor"),
    "config_unknown_option": ("config", "warning", "config.unknown_option", "mwaa-kit.toml",
                              "default_task_retrys"),
}


def test_every_broken_project_has_an_expectation():
    assert sorted(path.name for path in CORPUS.iterdir()) == sorted(EXPECTED)


def _copy(name: str, project_dir: Path) -> Path:
    target = project_dir / name
    shutil.copytree(CORPUS / name, target, symlinks=True)
    return target


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_project_is_caught(name, project_dir):
    check, severity, code, file, words = EXPECTED[name]
    project = _copy(name, project_dir)
    result = run_cli("validate", "--only", check, "--format", "json", project=project,
                     timeout=900)
    report = json.loads(result.stdout)
    findings = [f for c in report["checks"] for f in c["findings"]]
    matching = [f for f in findings if f["code"] == code and f["severity"] == severity]
    assert matching, f"{name}: no {severity} {code} in {json.dumps(findings, indent=1)}"
    finding = next((f for f in matching if words in f["message"]), matching[0])
    assert finding["file"] == file or finding["file"].startswith(file), finding
    assert words in finding["message"], finding
    assert finding["hint"], f"{name}: no advice on what to do: {finding}"
    if severity == "error":
        assert result.returncode == 1 and not report["ok"]
    else:
        assert result.returncode == 0 and report["ok"], result.stderr
    assert "Traceback (most recent call last)" not in result.stderr


def test_example_project_validates_clean(project_dir, tmp_path):
    project = project_dir / "example"
    project.mkdir()
    for part in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / part, project / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "mwaa-kit.toml", project / "mwaa-kit.toml")
    junit = tmp_path / "validate.xml"
    result = run_cli("validate", "--format", "json", "--junit-xml", str(junit),
                     project=project, timeout=900)
    report = json.loads(result.stdout)
    problems = [f for c in report["checks"] for f in c["findings"]
                if f["severity"] != "info"]
    assert result.returncode == 0 and report["ok"], json.dumps(problems, indent=1)
    assert problems == []
    assert {c["name"]: c["status"] for c in report["checks"]} == dict.fromkeys(
        ["config", "startup", "requirements", "plugins", "dags"], "passed")
    dags = next(c for c in report["checks"] if c["name"] == "dags")
    assert dags["details"]["dags"] == 4  # the Salesforce ingestions, the MWAA API pair
    assert '<testsuite name="mwaa-kit validate" tests="5" failures="0"' in junit.read_text()


def test_table_output_names_the_file_and_exit_status(project_dir):
    project = _copy("dags_cycle", project_dir)
    result = run_cli("validate", "--only", "dags", project=project, timeout=900)
    assert result.returncode == 1
    assert "dags/loop.py" in result.stdout and "Cycle detected" in result.stdout
    assert "MWAA would fail" in result.stdout


def test_every_package_without_a_wheel_is_reported(project_dir):
    """uv stops at the first package it cannot get a wheel for; validate names them all."""
    project = _copy("requirements_needs_compiler", project_dir)
    requirements = project / "requirements" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "docopt==0.6.2\n")  # pure Python sdist
    result = run_cli("validate", "--only", "requirements", "--format", "json", project=project,
                     timeout=900)
    findings = json.loads(result.stdout)["checks"][0]["findings"]
    by_code = {(f["code"], f["severity"]): f for f in findings}
    assert "pycrypto" in by_code[("requirements.needs_compiler", "error")]["message"]
    sdist = by_code[("requirements.sdist_only", "warning")]
    assert "docopt==0.6.2" in sdist["message"] and sdist["line"] == 2
    assert result.returncode == 1


def test_what_mwaas_image_builds_from_source_is_not_the_projects(project_dir):
    """Airflow 2.11.0's image holds python-nvd3 0.16.0, which has no wheel: it is built in
    the image, not at the user's install, so validate names only the project's own."""
    project = project_dir / "nvd3"
    (project / "requirements").mkdir(parents=True)
    (project / "mwaa-kit.toml").write_text('[environment]\nairflow_version = "2.11.0"\n')
    (project / "requirements" / "requirements.txt").write_text("docopt==0.6.2\n")
    result = run_cli("validate", "--only", "requirements", "--format", "json", project=project,
                     timeout=900)
    findings = json.loads(result.stdout)["checks"][0]["findings"]
    sdist = [f for f in findings if f["code"] == "requirements.sdist_only"]
    assert [(f["severity"], f["line"]) for f in sdist] == [("warning", 1)], findings
    assert "docopt==0.6.2" in sdist[0]["message"]
    assert not any("nvd3" in f["message"] for f in findings), findings
    assert result.returncode == 0
