"""Ground truth for the upgrade corpus (tests/fixtures/upgrade): its DAGs and plugins
imported in MWAA's real Airflow 3.3.1 virtualenv, through the kit's own scratch
environment. Every file that fails to import there is one the static checks flag as an
error; every file fine on both imports. Templates and context keys fail only when a task
runs, so an import cannot judge them; those the unit corpus test covers."""

from __future__ import annotations

import shutil

import pytest

from mwaa_kit.checks import dags, plugins
from mwaa_kit.checks.findings import CheckResult, relative
from mwaa_kit.checks.scratch import prepare_scratch
from mwaa_kit.project import load_project
from tests.unit.checks.test_upgrade_corpus import BREAKS, CORPUS, FINE, WARNS, static_errors

pytestmark = pytest.mark.e2e
TARGET = "3.3.1"
# The corpus files that break when imported (the others break when a task runs).
IMPORT_BREAKS = {file for file, (code, _, _) in BREAKS.items()
                 if code.split(".")[1].startswith("AIR") and "context_key" not in file}


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """(file -> the import errors of the real parse and plugin import, the project)."""
    root = tmp_path_factory.mktemp("upgrade-corpus")
    shutil.copytree(CORPUS / "dags", root / "dags")
    shutil.copytree(CORPUS / "plugins", root / "plugins")
    (root / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{TARGET}"\n')
    project = load_project(root)
    scratch = prepare_scratch(project)
    try:
        parsed = dags.run(scratch, CheckResult("dags"), workers=1)
        plugin_result = CheckResult("plugins")
        plugins.imports(scratch, plugin_result)
    finally:
        scratch.close()
    failed = {relative(project.root, entry["file"]): entry["errors"]
              for entry in parsed["files"] if entry["errors"]}
    for finding in plugin_result.errors:
        failed.setdefault(finding.file, []).append(finding.message)
    return failed, root


def test_the_import_leaves_the_project_s_files_alone(imported):
    _, root = imported
    assert sorted(path.relative_to(root) for path in root.rglob("__pycache__")) == []


def test_every_file_that_fails_to_import_is_flagged(imported):
    imported, _ = imported
    flagged = static_errors(TARGET)
    assert set(imported) - set(flagged) == set(), imported
    assert set(imported) >= IMPORT_BREAKS, IMPORT_BREAKS - set(imported)


def test_files_fine_on_both_and_those_only_warned_about_import(imported):
    imported, _ = imported
    still_work = set(FINE) | set(WARNS)
    assert not still_work & set(imported), {file: imported[file] for file in still_work
                                            if file in imported}
