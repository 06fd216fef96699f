"""The project's own tests. `python -m pytest tests` runs them, in CI too, with the fixtures
of mwaa-kit's pytest plugin: `mwaa_dagbag` is the DAGs as MWAA's DAG processor parses them
(in the environment's own Airflow), `aws_emulator` a moto server, `salesforce_stub` the stub."""


def test_every_dag_imports(mwaa_dagbag):
    assert mwaa_dagbag.import_errors == {}


def test_hello_mwaa_has_its_task(mwaa_dagbag):
    assert mwaa_dagbag.get_dag("hello_mwaa").has_task("where_am_i")
