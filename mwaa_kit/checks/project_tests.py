"""upgrade-check's `--pytest`: the project's own tests, run against the target version.

The tests in the project's tests/ run with the kit's pytest plugin, its `mwaa_project`
being a copy of the project that names the target version: `mwaa_dagbag` is then the
target's DagBag, parsed by the target's Airflow in its own virtualenv, beside the plugin's
emulators. pytest writes JUnit XML; each failing test becomes a finding at its file and
line, and the counts the check's summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from mwaa_kit.checks.findings import CheckResult, Finding
from mwaa_kit.project import Project

TIMEOUT = 3600
TESTS = "tests"
_OUTCOMES = ("failure", "error", "skipped")  # a test case's child element, if any
_NO_TESTS = 5  # pytest's exit status when it collected nothing
_TAIL = 20
_EXPLAINED = 12  # lines of a failure's explanation in its finding


def run(project: Project, report: Callable[[str], None] = lambda message: None,
        timeout: float = TIMEOUT) -> CheckResult:
    """Run `project`'s tests/ with pytest and the kit's plugin (`--mwaa-project` is
    `project`, already on the target version): a check result named "pytest".

    :param project: the project (a trial copy on the target version); tests run in it.
    :param report: hears that the tests start.
    :param timeout: seconds the whole run may take.
    """
    result = CheckResult("pytest")
    version = project.airflow_version
    if not (project.root / TESTS).is_dir():
        result.findings.append(Finding(
            "pytest", "error", f"the project has no {TESTS}/ folder: no test ran",
            hint="Write tests in tests/ (the kit's pytest fixtures: mwaa_dagbag, "
                 "aws_emulator, salesforce_stub), or leave out --pytest.",
            code="pytest.no_tests"))
        return result
    report(f"Running the project's tests (pytest) against Airflow {version}")
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-pytest-") as scratch:
        junit = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", TESTS, "-q", "-p", "no:cacheprovider",
                   "-o", "junit_family=xunit1", f"--junit-xml={junit}",
                   f"--mwaa-project={project.root}"]
        try:
            completed = subprocess.run(
                command, cwd=project.root, capture_output=True, text=True, timeout=timeout,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        except subprocess.TimeoutExpired:
            result.findings.append(Finding(
                "pytest", "error", f"the tests did not finish in {timeout:.0f} s",
                file=TESTS, code="pytest.timeout"))
            return result
        cases = read_junit(junit) if junit.exists() else []
    counts = Counter(case["outcome"] for case in cases)
    result.details = {"exit_status": completed.returncode,
                      **{outcome: counts[outcome] for outcome in
                         ("passed", "failed", "error", "skipped")},
                      "summary": summary(counts)}
    for case in cases:
        if case["outcome"] in ("failed", "error"):
            result.findings.append(Finding(
                "pytest", "error",
                f"{case['test']} {case['outcome']} on Airflow {version}:\n{case['message']}",
                file=case["file"], line=case["line"],
                hint="Make the test pass on the target version, or fix what it found.",
                code=f"pytest.{case['outcome']}"))
    if not result.errors and completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-_TAIL:])
        what = ("collected no test" if completed.returncode == _NO_TESTS
                else f"exited with status {completed.returncode}")
        result.findings.append(Finding("pytest", "error", f"pytest {what}:\n{tail}",
                                       file=TESTS, code="pytest.exit_status"))
    if not result.errors:
        result.findings.append(Finding("pytest", "info",
                                       f"the tests pass on Airflow {version}: {summary(counts)}",
                                       file=TESTS, code="pytest.passed"))
    return result


def read_junit(path: Path) -> list[dict]:
    """Each test case of pytest's JUnit XML (xunit1: with file and line): `test` (its
    node id), `file`, `line` (1-based, None if unknown), `outcome` (passed, failed, error,
    skipped) and `message` (pytest's explanation of a failure or error).

    :param path: the JUnit XML file pytest wrote.
    """
    cases = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        child = next((element for element in case if element.tag in _OUTCOMES), None)
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}.get(
            child.tag if child is not None else "", "passed")
        message = _message(child) if child is not None else ""
        file, line = case.get("file"), case.get("line")
        cases.append({
            "test": f"{file}::{case.get('name')}" if file
                    else f"{case.get('classname')}.{case.get('name')}",
            "file": file,
            "line": int(line) + 1 if line and line.isdigit() else None,
            "outcome": outcome,
            "message": message,
        })
    return cases


def _message(outcome: ElementTree.Element) -> str:
    """pytest's explanation of a failure or error: its `E` lines (the assertion's diff,
    the exception), else the first line of its message."""
    explained = [line[1:].strip() for line in (outcome.text or "").splitlines()
                 if line.startswith("E ") and line[1:].strip()]
    if explained:
        return "\n".join(explained[:_EXPLAINED])
    lines = (outcome.get("message") or "").strip().splitlines()
    return lines[0] if lines else ""


def summary(counts: Counter) -> str:
    """The counts as pytest says them: '3 passed, 1 failed'.

    :param counts: test cases by outcome (passed, failed, error, skipped).
    """
    parts = [f"{counts[outcome]} {outcome}" for outcome in ("passed", "failed", "error",
                                                            "skipped") if counts[outcome]]
    return ", ".join(parts) or "no test ran"
