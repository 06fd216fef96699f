"""Ground truth for the upgrade corpus (tests/fixtures/upgrade), one move between MWAA
versions at a time: 2.10.3 to 3.0.6, and 3.0.6 to the newest catalog version. The corpus is
imported in MWAA's real Airflow virtualenvs of both versions (the kit's own scratch
environment), and `mwaa-kit upgrade-check --to TARGET` runs on it as a project of the first.

Per file: the real Airflow fails exactly the files the unit corpus table says, from the
version it says; every file that fails on the target is an upgrade-check error whose cause
names what the import error names; the move breaks exactly the files upgrade-check flags
and the first version's checks do not; the files fine on both import on both and get no
error. Templates and context keys fail only when a task runs, so an import cannot judge
them; the unit corpus test covers those.

Each move runs in its target's test environment, as test_version_switch does for its
fixed versions: tox sets MWAA_KIT_AIRFLOW_VERSION per environment (airflow306 for 3.0.6),
CI runs the default (the newest, so the 3.0.6 -> newest move). A move builds the two
virtualenvs it needs; 3.0.6's takes about a minute from nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.checks import dags, import_errors, plugins
from mwaa_kit.checks.findings import CheckResult, relative
from mwaa_kit.checks.scratch import prepare_scratch
from mwaa_kit.project import load_project
from tests.e2e.conftest import AIRFLOW_VERSION, run_cli
from tests.unit.checks.test_upgrade_corpus import BREAKS, CORPUS, FINE, WARNS, static_errors

pytestmark = pytest.mark.e2e
MOVES = (("2.10.3", "3.0.6"), ("3.0.6", catalog.supported_versions()[-1]))
# The files that break when a task runs: templates, and a task reading a removed context
# key. Each of the others breaks on import.
WHEN_RUN = {file for file, (code, _, _) in BREAKS.items()
            if code.endswith(".removed_context_key")} | {"dags/context_key_in_python.py"}
IMPORT_BREAKS = set(BREAKS) - WHEN_RUN


@dataclass
class Move:
    """One move and what the real Airflow and upgrade-check made of the corpus.

    :param source: the project's version.
    :param target: the version upgrade-check checks it against.
    :param failures: version -> file -> the errors of its real import there.
    :param flagged: file -> upgrade-check's error findings (its JSON).
    :param roots: the projects the corpus was copied into.
    """

    source: str
    target: str
    failures: dict[str, dict[str, list[str]]]
    flagged: dict[str, list[dict]]
    roots: list[Path]


def _project(root: Path, version: str) -> Path:
    """A copy of the corpus as a project of `version`."""
    shutil.copytree(CORPUS / "dags", root / "dags")
    shutil.copytree(CORPUS / "plugins", root / "plugins")
    (root / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    return root


def _import_failures(root: Path) -> dict[str, list[str]]:
    """file -> the errors of the real DAG parse and plugin import of the project at
    `root`, for the files that fail."""
    project = load_project(root)
    scratch = prepare_scratch(project)
    try:
        parsed = dags.run(scratch, CheckResult("dags"), workers=1)
        plugin_result = CheckResult("plugins")
        plugins.imports(scratch, plugin_result)
    finally:
        scratch.close()
    failed = {relative(project.root, entry["file"]): [error["message"]
                                                     for error in entry["errors"]]
              for entry in parsed["files"] if entry["errors"]}
    for finding in plugin_result.errors:
        failed.setdefault(finding.file, []).append(finding.message)
    return failed


def _upgrade_check(root: Path, target: str) -> dict[str, list[dict]]:
    """file -> the error findings of `mwaa-kit upgrade-check --to target` in `root`."""
    result = run_cli("upgrade-check", "--to", target, "--format", "json", project=root,
                     timeout=900)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    flagged: dict[str, list[dict]] = {}
    for check in json.loads(result.stdout)["checks"]:
        for finding in check["findings"]:
            if finding["severity"] == "error":
                flagged.setdefault(finding["file"], []).append(finding)
    return flagged


def _expected_failures(version: str) -> set[str]:
    """The files the unit corpus table says fail to import on `version`."""
    key = catalog.get_version(version).key
    return {file for file in IMPORT_BREAKS if catalog.get_version(BREAKS[file][2]).key <= key}


def _named(error: str) -> set[str]:
    """The names an import error quotes: the module, the name or the argument at fault."""
    return set(re.findall(r"'([\w.]+)'", str(import_errors.summarize(error))))


@pytest.fixture(scope="module", params=[
    pytest.param((source, target), id=f"{source}-to-{target}", marks=pytest.mark.skipif(
        target != AIRFLOW_VERSION, reason=f"runs in Airflow {target}'s test environment "
                                          f"(MWAA_KIT_AIRFLOW_VERSION={target})"))
    for source, target in MOVES])
def move(request, tmp_path_factory) -> Move:
    source, target = request.param
    roots = [_project(tmp_path_factory.mktemp(f"corpus-{version}"), version)
             for version in (source, target)]
    failures = {version: _import_failures(root)
                for version, root in zip((source, target), roots, strict=True)}
    checked = _project(tmp_path_factory.mktemp("corpus-upgrade-check"), source)
    return Move(source, target, failures, _upgrade_check(checked, target), [*roots, checked])


def test_the_imports_leave_the_project_s_files_alone(move):
    for root in move.roots:
        assert sorted(path.relative_to(root) for path in root.rglob("__pycache__")) == []


def test_each_version_fails_exactly_the_files_the_corpus_table_says(move):
    for version in (move.source, move.target):
        failed = move.failures[version]
        assert set(failed) == _expected_failures(version), (version, failed)


def test_every_file_that_fails_on_the_target_is_an_error_naming_its_cause(move):
    for file, errors in move.failures[move.target].items():
        named = set().union(*map(_named, errors))
        causes = [finding for finding in move.flagged.get(file, [])
                  if not finding["code"].endswith(".import_error")
                  and any(name in finding["message"] for name in named)]
        assert causes, (file, errors, move.flagged.get(file))


def test_the_move_breaks_exactly_the_files_upgrade_check_adds(move):
    broken_by_the_move = set(move.failures[move.target]) - set(move.failures[move.source])
    added = set(move.flagged) - set(static_errors(move.source)) - WHEN_RUN
    assert broken_by_the_move, "the corpus has no file this move breaks"
    assert added == broken_by_the_move


def test_files_fine_on_both_import_on_both_and_get_no_error(move):
    for file in [*FINE, *WARNS]:
        assert all(file not in move.failures[version] for version in move.failures), file
        assert file not in move.flagged, move.flagged[file]
