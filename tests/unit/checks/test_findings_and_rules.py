"""Report rendering, deprecation rules, requirement-line rules and DAG findings shaping."""

import importlib.util
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.checks import airflow_rules, dags
from mwaa_kit.checks import requirements as rq
from mwaa_kit.checks.findings import CheckResult, Report

V3 = catalog.get_version("3.0.6")
V2 = catalog.get_version("2.10.3")
PARSER = Path(__file__).resolve().parents[3] / "mwaa_kit/checks/in_airflow/parse_dags.py"


def _parser():
    spec = importlib.util.spec_from_file_location("parse_dags_under_test", PARSER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_json_and_junit():
    report = Report("/p", "3.0.6")
    dag_result = CheckResult("dags")
    dag_result.add("error", "import error: boom", file="dags/a.py", line=3, hint="fix it",
                   code="dags.import_error")
    config_result = CheckResult("config")
    config_result.add("warning", "unknown", file="mwaa-kit.toml")
    report.results = [config_result, dag_result]
    data = report.to_dict()
    assert not data["ok"] and data["errors"] == 1 and data["warnings"] == 1
    assert data["checks"][1]["findings"][0]["location"] == "dags/a.py:3"
    json.dumps(data)
    suite = ElementTree.fromstring(report.junit_xml().split("?>", 1)[1])
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='dags']/failure")
    assert "dags/a.py:3" in failure.text and "fix it" in failure.text


def _ruff_findings(tmp_path, source, version):
    dags_dir = tmp_path / "dags"
    dags_dir.mkdir(exist_ok=True)
    (dags_dir / "d.py").write_text(source)
    result = CheckResult("dags")
    airflow_rules.check(tmp_path, dags_dir, version, result)
    return result


def test_days_ago_is_an_error_on_3_and_a_warning_on_2(tmp_path):
    source = ("from airflow.utils.dates import days_ago\n"
              "from airflow.operators.bash import BashOperator\n"
              "BashOperator(task_id='b', bash_command='true', start_date=days_ago(1))\n")

    def by_name(version):
        found = _ruff_findings(tmp_path, source, version).findings
        return {name: f for f in found for name in ("days_ago", "BashOperator")
                if name in f.message}

    on_3, on_2 = by_name(V3), by_name(V2)
    assert on_3["days_ago"].severity == "error" and on_2["days_ago"].severity == "warning"
    assert on_3["days_ago"].location == "dags/d.py:3"
    assert "fixed start_date" in on_3["days_ago"].hint  # ruff has no fix: the table's
    # airflow.operators.bash still works on 3.x and is the only home on 2.x
    assert on_3["BashOperator"].severity == "warning"
    assert "airflow.providers.standard.operators.bash" in on_3["BashOperator"].hint
    assert on_2["BashOperator"].severity == "info"


def test_removed_dag_arguments_are_errors_with_the_new_argument(tmp_path):
    result = _ruff_findings(tmp_path, "from airflow.sdk import DAG\n"
                            "DAG('d', schedule_interval='@daily', concurrency=2)\n", V3)
    found = {f.message.split("`")[1]: f for f in result.errors}
    assert found["schedule_interval"].code == "dags.AIR301"
    assert "schedule" in found["schedule_interval"].hint
    assert "max_active_tasks" in found["concurrency"].hint


def test_a_module_ruff_does_not_flag_is_an_error_from_the_version_that_removed_it(tmp_path):
    source = ("from airflow.utils import module_loading\n"
              "from airflow.utils.module_loading import import_string, qualname\n"
              "from airflow.utils.module_loadings import nothing\n")

    def found(version):
        result = _ruff_findings(tmp_path, source, catalog.get_version(version))
        return [(f.line, f.severity) for f in result.findings
                if f.code == "dags.removed_module"], result

    on_3_3, result = found("3.3.1")
    assert on_3_3 == [(1, "error"), (2, "error")]  # one finding per import statement
    assert "airflow.sdk.module_loading" in result.errors[0].hint
    assert airflow_rules.flagged_modules(result, "dags/d.py") == {
        "airflow.utils.module_loading"}  # its import error is not reported twice
    assert found("3.0.6")[0] == [(1, "warning"), (2, "warning")]  # it still imports there
    assert found("2.11.0")[0] == [(1, "info"), (2, "info")]


def test_a_syntax_error_is_left_to_the_import_check(tmp_path):
    result = _ruff_findings(tmp_path, "from airflow.utils.dates import days_ago\n"
                            "with DAG('d', start_date=days_ago(1))\n    pass\n", V3)
    assert result.findings == []


def test_top_level_calls_are_found_and_calls_in_functions_are_not(tmp_path):
    parser = _parser()
    source = tmp_path / "d.py"
    source.write_text(
        "import requests\n"
        "from airflow.models import Variable\n"
        "from airflow.providers.amazon.aws.hooks.s3 import S3Hook\n"
        "X = Variable.get('x')\n"
        "R = requests.get('http://example')\n"
        "def task():\n"
        "    return Variable.get('fine'), S3Hook().get_conn()\n"
        "H = S3Hook()\n"
    )
    kinds = {(f["kind"], f["line"]) for f in parser.static_findings(str(source))}
    assert kinds == {("variable", 4), ("network", 5), ("hook", 8)}


def test_essential_pin_conflicts_and_constraints_lines():
    result = CheckResult("requirements")
    lines = rq.parse_lines("# c\nflask>=3\nFlask-Babel==2.0.0\ncelery\n"
                           "-c https://raw.githubusercontent.com/apache/airflow/"
                           "constraints-2.11.0/constraints-3.12.txt\n")
    rq.essential_conflicts(V3, lines, result)
    rq.check_constraints_line(V3, lines, result)
    codes = [(f.code, f.line) for f in result.findings]
    assert ("requirements.essential_pin", 2) in codes
    assert not any(line == 3 for _, line in codes)  # the pinned version itself is fine
    assert ("requirements.constraints_line", 5) in codes
    ok = CheckResult("requirements")
    rq.check_constraints_line(V3, rq.parse_lines(f"-c {V3.constraints_url}\n"), ok)
    assert not ok.errors


def test_dag_findings_from_a_parse_report(tmp_path):
    root = tmp_path
    parsed = {
        "processes": 2, "seconds": 1.0,
        "limits": {"dagbag_import_timeout": 30.0, "dag_file_processor_timeout": 50.0},
        "files": [
            {"file": str(root / "dags/a.py"), "seconds": 0.1, "duplicates_in_file": [],
             "dags": [{"dag_id": "x", "fileloc": "", "tasks": {}}], "errors": [],
             "warnings": [], "calls": [], "static": []},
            {"file": str(root / "dags/b.py"), "seconds": 7.0, "duplicates_in_file": [],
             "dags": [{"dag_id": "x", "fileloc": "", "tasks": {}}],
             "errors": [{"file": str(root / "dags/b.py"), "kind": "import_error", "line": 4,
                         "raised_at": str(root / "plugins/p.py") + ":9",
                         "message": "Traceback...\nModuleNotFoundError: No module named 'zz'"}],
             "warnings": [],
             "calls": [{"kind": "variable", "name": "Variable.get('k')", "line": 2}],
             "static": [{"kind": "variable", "name": "Variable.get", "line": 2,
                         "severity": "warning"}]},
        ],
    }
    result = CheckResult("dags")
    dags.add_findings(root, parsed, result, parse_budget=5.0)
    by_code = {}
    for finding in result.findings:
        by_code.setdefault(finding.code, []).append(finding)
    assert by_code["dags.duplicate_dag_id"][0].file == "dags/b.py"
    error = by_code["dags.import_error"][0]
    assert error.location == "dags/b.py:4" and "plugins/p.py:9" in error.message
    assert "requirements" in error.hint
    assert len(by_code["dags.parse_time_variable"]) == 1  # runtime and static deduplicated
    assert by_code["dags.parse_time"][0].severity == "warning"
