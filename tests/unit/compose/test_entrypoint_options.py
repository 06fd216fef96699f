"""The compose image's own Airflow options follow the catalog's per-version facts: the
DAG-folder rescan option of the version's major, and the web server's options for the
component that serves the UI (webserver or api-server)."""

import pytest

from mwaa_kit import catalog
from mwaa_kit.runtime.compose import entrypoint


@pytest.mark.parametrize("airflow", ["2.11.0", "3.0.6"])
def test_the_options_follow_the_catalog(airflow, monkeypatch):
    for name, value in {"MWAA_KIT_DATABASE_URL": "postgresql+psycopg2://db/airflow",
                        "MWAA_KIT_BROKER_URL": "sqs://", "MWAA_KIT_FERNET_KEY": "key"}.items():
        monkeypatch.setenv(name, value)
    version = catalog.get_version(airflow)
    options = entrypoint._runtime_options(version)
    assert options[version.rescan_option] == "5"
    port_option = {"webserver": "webserver.web_server_port", "api-server": "api.port"}
    assert options[port_option[version.webserver_component]] == "8080"


def test_tasks_are_given_the_stack_s_mwaa_api(monkeypatch):
    """A task's boto3 `mwaa` client (the provider's MwaaHook) must reach the mwaa service:
    without these, it fell back to AWS_ENDPOINT_URL and called env.localstack:4566."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_MWAA", "http://mwaa:8000")
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    env = entrypoint._runtime_environment(catalog.get_version(catalog.DEFAULT_VERSION))
    assert env["AWS_ENDPOINT_URL_MWAA"] == "http://mwaa:8000"
    assert env["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
    assert env["AWS_ENDPOINT_URL"] == "http://localstack:4566"


def test_an_old_botocore_also_gets_the_setting_through_aws_default(monkeypatch):
    env = entrypoint._runtime_environment(catalog.get_version("2.11.0"))
    assert '"inject_host_prefix": false' in env["AIRFLOW_CONN_AWS_DEFAULT"]
