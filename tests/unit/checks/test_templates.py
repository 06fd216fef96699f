"""Templates that read context keys Airflow 3 removed: found in operator arguments, in
the template files they name and in the template_fields of the project's operators."""

from mwaa_kit import catalog
from mwaa_kit.checks import templates
from mwaa_kit.checks.findings import CheckResult

V3 = catalog.get_version("3.3.1")
V2 = catalog.get_version("2.11.0")


def _check(root, version=V3):
    result = CheckResult("dags")
    fields = templates.plugin_template_fields(root / "plugins")
    templates.check(root, root / "dags", version, result, fields)
    return result


def _write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_removed_names_reads_jinja_not_text():
    found = templates.removed_names(
        "{{ execution_date }} execution_date {{ dag_run.conf }}\n"
        "{% for x in y %}{{ next_ds | ds }}{% endfor %}{% set prev_ds = 1 %}{{ prev_ds }}")
    assert found == [("execution_date", 1), ("next_ds", 2)]
    assert templates.removed_names("{{ unclosed") == []
    assert templates.removed_names("{{ logical_date | ds }} {{ data_interval_end }}") == []


def test_bash_command_templating_execution_date_is_an_error_on_3(tmp_path):
    _write(tmp_path, "dags/d.py",
           "from airflow.providers.standard.operators.bash import BashOperator\n"
           "BashOperator(\n"
           "    task_id='b',\n"
           "    bash_command='echo {{ execution_date }}',\n"
           ")\n")
    result = _check(tmp_path)
    (finding,) = result.findings
    assert finding.severity == "error" and finding.location == "dags/d.py:4"
    assert "'execution_date' is undefined" in finding.message
    assert "logical_date" in finding.hint
    assert finding.code == "dags.removed_context_key"
    assert _check(tmp_path, V2).findings[0].severity == "warning"


def test_template_files_partial_and_multi_line_literals(tmp_path):
    _write(tmp_path, "dags/queries/load.sql", "select 1\nwhere d = '{{ yesterday_ds }}'\n")
    _write(tmp_path, "dags/d.py",
           "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
           "SQLExecuteQueryOperator(task_id='q', sql='queries/load.sql')\n"
           "SQLExecuteQueryOperator.partial(task_id='m', sql='''select\n"
           "{{ tomorrow_ds }}''').expand(conn_id=['a'])\n")
    found = {f.location: f.message for f in _check(tmp_path).findings}
    assert set(found) == {"dags/queries/load.sql:2", "dags/d.py:4"}
    assert "rendered by the operator at dags/d.py:2" in found["dags/queries/load.sql:2"]
    assert "'yesterday_ds'" in found["dags/queries/load.sql:2"]
    assert "'tomorrow_ds'" in found["dags/d.py:4"]


def test_plugin_operators_are_checked_on_their_template_fields_only(tmp_path):
    _write(tmp_path, "plugins/operators/export.py",
           "class Export:\n"
           "    template_fields = ('key',)\n")
    _write(tmp_path, "dags/d.py",
           "from operators.export import Export\n"
           "Export(task_id='e', key='out/{{ next_ds }}', doc='{{ prev_ds }} is not rendered')\n")
    (finding,) = _check(tmp_path).findings
    assert "'next_ds'" in finding.message and "data_interval_end | ds" in finding.hint


def test_strings_outside_operators_are_not_templates(tmp_path):
    _write(tmp_path, "dags/d.py", "NOTE = '{{ execution_date }}'\nprint(NOTE)\n")
    assert _check(tmp_path).findings == []
