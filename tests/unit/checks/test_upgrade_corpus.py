"""The Airflow 2 corpus of tests/fixtures/upgrade/: upgrade-check's static checks (ruff's
Airflow rules, the modules they do not know and the template checks) flag each file that
breaks on an Airflow 3 version of the catalog with its cause, from the version that breaks
it on (some only break from 3.2), and no file that works on both; on a 2.x target nothing
is an error. tests/e2e/test_upgrade_corpus_ground_truth.py holds the real imports."""

from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.checks import airflow_rules, templates
from mwaa_kit.checks.findings import CheckResult

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "upgrade"

# file -> (finding code, words of its message, first catalog version it breaks on)
BREAKS = {
    "dags/days_ago.py": ("dags.AIR301", "days_ago", "3.0.6"),
    "dags/schedule_interval.py": ("dags.AIR301", "schedule_interval", "3.0.6"),
    "dags/subdag.py": ("dags.AIR301", "SubDagOperator", "3.0.6"),
    "dags/provide_context.py": ("dags.AIR301", "provide_context", "3.0.6"),
    "dags/execution_date_template.py": ("dags.removed_context_key", "'execution_date'",
                                        "3.0.6"),
    "dags/next_ds_template.py": ("dags.removed_context_key", "'next_ds'", "3.0.6"),
    "dags/sql/prev_ds.sql": ("dags.removed_context_key", "dags/template_file.py:7",
                             "3.0.6"),
    "dags/conf_template.py": ("dags.removed_context_key", "'conf'", "3.0.6"),
    "dags/contrib_import.py": ("dags.AIR301", "airflow.contrib.operators.aws_sqs_publish_operator",
                               "3.0.6"),
    "dags/contrib_hook.py": ("dags.AIR301", "airflow.contrib.hooks.aws_hook", "3.0.6"),
    "dags/dummy_operator.py": ("dags.AIR302", "airflow.operators.dummy_operator", "3.0.6"),
    "dags/bash_operator_module.py": ("dags.AIR302", "airflow.operators.bash_operator",
                                     "3.0.6"),
    "dags/python_operator_module.py": ("dags.AIR302", "airflow.operators.python_operator",
                                       "3.0.6"),
    "dags/base_hook_module.py": ("dags.AIR301", "airflow.hooks.base_hook", "3.0.6"),
    "dags/concurrency.py": ("dags.AIR301", "concurrency", "3.0.6"),
    "dags/context_key_in_python.py": ("dags.AIR301", "execution_date", "3.0.6"),
    "dags/plugin_operator_template.py": ("dags.removed_context_key", "'tomorrow_ds'",
                                         "3.0.6"),
    "dags/dataset_schedule.py": ("dags.AIR311", "airflow.datasets", "3.2.1"),
    "dags/dataset_or_time_schedule.py": ("dags.AIR311", "airflow.timetables.datasets",
                                         "3.2.1"),
    "dags/parsing_context.py": ("dags.AIR311", "airflow.utils.dag_parsing_context", "3.2.1"),
    "plugins/operators/callable_operator.py": ("plugins.removed_module",
                                               "airflow.utils.module_loading", "3.2.1"),
    "plugins/operators/apply_defaults_operator.py": ("plugins.AIR301", "apply_defaults",
                                                     "3.0.6"),
}
# files that still work on 3.x, with a warning: Airflow 3 ignores SLAs (it warns "The SLA
# feature is removed in Airflow 3.0" and imports the DAG; the e2e corpus test checks that)
WARNS = {"dags/sla.py": ("dags.AIR311", "sla_miss_callback")}
# a DAG file whose failure is reported in the template file it names
RENDERS = {"dags/template_file.py": "dags/sql/prev_ds.sql"}
FINE = ["dags/fine_bash.py", "dags/fine_taskflow.py", "dags/fine_empty.py",
        "dags/fine_task_group.py", "dags/fine_interval_template.py", "dags/fine_amazon.py",
        "dags/fine_plugin_operator.py", "plugins/operators/export_operator.py",
        "plugins/operators/__init__.py"]


def static_errors(version: str) -> dict[str, list]:
    """file -> the error findings of the static checks for `version`."""
    target = catalog.get_version(version)
    fields = templates.plugin_template_fields(CORPUS / "plugins")
    errors: dict[str, list] = {}
    for name in ("dags", "plugins"):
        result = CheckResult(name)
        airflow_rules.check(CORPUS, CORPUS / name, target, result)
        templates.check(CORPUS, CORPUS / name, target, result, fields)
        for finding in result.errors:
            errors.setdefault(finding.file, []).append(finding)
    return errors


_AIRFLOW_3 = [v for v in catalog.supported_versions() if catalog.get_version(v).major >= 3]
_AIRFLOW_2 = [v for v in catalog.supported_versions() if catalog.get_version(v).major < 3]


@pytest.fixture(scope="module", params=_AIRFLOW_3)
def target(request):
    return request.param, static_errors(request.param)


def test_the_corpus_is_covered_file_by_file():
    files = {str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*") if path.is_file()}
    assert files == set(BREAKS) | set(FINE) | set(RENDERS) | set(WARNS)
    assert len(files) >= 30


@pytest.mark.parametrize("file", sorted(BREAKS))
def test_a_file_that_breaks_is_flagged_with_its_cause(target, file):
    version, errors = target
    code, words, since = BREAKS[file]
    if catalog.get_version(version).key < catalog.get_version(since).key:
        assert file not in errors, f"{file} still works on {version}: {errors[file]}"
        return
    matching = [f for f in errors.get(file, []) if f.code == code and words in f.message]
    assert matching, f"{file} on {version}: no {code} naming {words}: {errors.get(file)}"
    assert all(f.line and f.hint for f in matching)


@pytest.mark.parametrize("file", FINE)
def test_a_file_fine_on_both_is_not_flagged(target, file):
    version, errors = target
    assert file not in errors, f"{file} on {version}: {errors[file]}"


@pytest.mark.parametrize("file", sorted(WARNS))
def test_a_file_that_still_works_is_warned_about_not_flagged(target, file):
    version, errors = target
    assert file not in errors, f"{file} on {version}: {errors[file]}"
    code, words = WARNS[file]
    result = CheckResult("dags")
    airflow_rules.check(CORPUS, CORPUS / file, catalog.get_version(version), result)
    assert any(f.code == code and words in f.message and f.severity == "warning"
               for f in result.findings), result.findings


@pytest.mark.parametrize("version", _AIRFLOW_2)
def test_on_a_2_x_target_nothing_is_an_error(version):
    assert static_errors(version) == {}


@pytest.mark.parametrize("version", catalog.supported_versions())
@pytest.mark.parametrize("project", ["", "mwaa_kit/scaffold"])
def test_the_example_project_and_the_scaffold_have_no_finding(project, version):
    root = CORPUS.parents[2] / project
    target = catalog.get_version(version)
    fields = templates.plugin_template_fields(root / "plugins")
    for name in ("dags", "plugins"):
        result = CheckResult(name)
        airflow_rules.check(root, root / name, target, result)
        templates.check(root, root / name, target, result, fields)
        assert result.findings == [], (project or "example", version)
