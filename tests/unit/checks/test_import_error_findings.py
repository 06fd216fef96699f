"""The findings corpus of issue #13, item 7: each import error that used to mislead now
reads as its real cause with the right hint (tracebacks as Airflow formats them)."""

from pathlib import Path

from mwaa_kit.checks import dags, requirements
from mwaa_kit.checks.findings import CheckResult

INSTALLED = ["apache-airflow", "apache-airflow-providers-amazon",
             "apache-airflow-providers-postgres", "apache-airflow-providers-common-sql"]


def _traceback(statement: str, *exception: str) -> str:
    return "\n".join(["Traceback (most recent call last):",
                      '  File "/project/dags/etl.py", line 3, in <module>',
                      f"    {statement}", *exception])


def _finding(root: Path, message: str, line: int | None = 3):
    parsed = {"processes": 1, "seconds": 0.1,
              "limits": {"dagbag_import_timeout": 30.0, "dag_file_processor_timeout": 50.0},
              "files": [{"file": str(root / "dags/etl.py"), "seconds": 0.1,
                         "duplicates_in_file": [], "dags": [], "warnings": [], "calls": [],
                         "static": [],
                         "errors": [{"file": str(root / "dags/etl.py"), "kind": "import_error",
                                     "line": line, "raised_at": None, "message": message}]}]}
    result = CheckResult("dags")
    dags.add_findings(root, parsed, result, 5.0, installed=INSTALLED, airflow_version="3.3.1")
    (finding,) = [f for f in result.findings if f.code == "dags.import_error"]
    return finding


def test_a_module_removed_from_an_installed_provider_is_not_a_package_to_add(tmp_path):
    for module in ("airflow.providers.amazon.aws.operators.s3_list",
                   "airflow.providers.amazon.aws.sensors.s3_key",
                   "airflow.providers.postgres.operators"):
        finding = _finding(tmp_path, _traceback(
            f"from {module} import Something",
            f"ModuleNotFoundError: No module named '{module}'"))
        assert "add the package providing" not in finding.hint
        assert "no longer has" in finding.hint and "AIR3" in finding.hint, finding.hint
        provider = "postgres" if "postgres" in module else "amazon"
        assert f"apache-airflow-providers-{provider}" in finding.hint


def test_a_provider_that_is_not_installed_is_named(tmp_path):
    finding = _finding(tmp_path, _traceback(
        "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
        "ModuleNotFoundError: No module named 'airflow.providers.cncf'"))
    assert finding.hint.startswith("add apache-airflow-providers-cncf-kubernetes to "
                                   "requirements/requirements.txt")


def test_a_module_removed_from_airflow_itself_says_so(tmp_path):
    finding = _finding(tmp_path, _traceback(
        "from airflow.operators.dummy import DummyOperator",
        "ModuleNotFoundError: No module named 'airflow.operators.dummy'"))
    assert "not in Airflow 3.3.1" in finding.hint and "AIR3" in finding.hint


def test_a_multi_line_exception_is_kept_whole(tmp_path):
    finding = _finding(tmp_path, _traceback(
        "EcsRegisterTaskDefinitionOperator(",
        "airflow.exceptions.AirflowException: Invalid arguments were passed to "
        "EcsRegisterTaskDefinitionOperator (task_id: register). Invalid arguments were:",
        "**kwargs: {'wait_for_completion': True}"))
    assert finding.message.startswith("import error: AirflowException: Invalid arguments "
                                      "were passed to EcsRegisterTaskDefinitionOperator")
    assert "**kwargs: {'wait_for_completion': True}" in finding.message


def test_without_a_line_number_the_hint_does_not_point_at_one(tmp_path):
    finding = _finding(tmp_path, "ValueError: bad schedule", line=None)
    assert "line shown" not in finding.hint
    assert _finding(tmp_path, "ValueError: bad schedule").hint.startswith(
        "fix the error at the line shown")


def test_a_third_party_module_still_asks_for_its_package(tmp_path):
    finding = _finding(tmp_path, _traceback(
        "import pandas", "ModuleNotFoundError: No module named 'pandas'"))
    assert finding.hint.startswith("add the package providing 'pandas'")


UV_DNS_FAILURE = """error: Failed to fetch: `https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt`
  Caused by: Request failed after 3 retries
  Caused by: error sending request for url (https://raw.githubusercontent.com/)
  Caused by: client error (Connect)
  Caused by: dns error: failed to lookup address information: Name or service not known"""
UV_NO_SOLUTION = """  × No solution found when resolving dependencies:
  ╰─▶ Because you require requests==0.1 and requests==2.32.3, we can conclude that your
      requirements are unsatisfiable."""


def test_a_dns_failure_is_named_as_the_network_not_the_requirements():
    assert requirements.is_network_failure(requirements.uv_reason(UV_DNS_FAILURE))
    assert not requirements.is_network_failure(requirements.uv_reason(UV_NO_SOLUTION))
    assert not requirements.is_network_failure(
        "Failed to fetch: `https://example.com/c.txt` HTTP status client error (404 Not Found)")


def test_an_import_the_airflow_rules_explain_is_reported_once(tmp_path):
    module = "airflow.operators.dummy"
    parsed = {"processes": 1, "seconds": 0.1,
              "limits": {"dagbag_import_timeout": 30.0, "dag_file_processor_timeout": 50.0},
              "files": [{"file": str(tmp_path / "dags/old.py"), "seconds": 0.1,
                         "duplicates_in_file": [], "dags": [], "warnings": [], "calls": [],
                         "static": [],
                         "errors": [{"file": str(tmp_path / "dags/old.py"), "line": 1,
                                     "kind": "import_error", "raised_at": None,
                                     "message": f"ModuleNotFoundError: No module named "
                                                f"'{module}'"}]}]}
    result = CheckResult("dags")
    # ruff names the use (line 5), the import fails at the import (line 1): one cause
    result.add("error", f"AIR302: `{module}.DummyOperator` is moved into `standard` provider "
               "in Airflow 3.0;", file="dags/old.py", line=5, code="dags.AIR302",
               hint="use EmptyOperator from airflow.providers.standard.operators.empty")
    dags.add_findings(tmp_path, parsed, result, 5.0, installed=INSTALLED,
                      airflow_version="3.3.1")
    assert [f.code for f in result.findings] == ["dags.AIR302"]
