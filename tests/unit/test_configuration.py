import json

import pytest

from mwaa_kit import catalog
from mwaa_kit.contract.configuration import ForcedConfigError, airflow_config_env

V306 = catalog.get_version("3.0.6")


def test_layers_defaults_then_user_then_forced_then_runtime():
    env = airflow_config_env(
        V306,
        {"core.default_task_retries": "2", "core.execute_tasks_new_python_interpreter": "False"},
        {"core.executor": "LocalExecutor", "database.sql_alchemy_conn": "postgresql://x"},
    )
    assert env["AIRFLOW__CORE__DEFAULT_TASK_RETRIES"] == "2"
    assert env["AIRFLOW__CORE__EXECUTE_TASKS_NEW_PYTHON_INTERPRETER"] == "False"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql://x"
    assert env["AIRFLOW__SECRETS__BACKEND"].endswith("SecretsManagerBackend")
    assert json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"]) == {
        "connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables"}


@pytest.mark.parametrize("option", ["core.executor", "celery.broker_url", "core.fernet_key"])
def test_forced_and_managed_options_are_refused_by_name(option):
    with pytest.raises(ForcedConfigError, match=option):
        airflow_config_env(V306, {option: "anything"}, {})


def test_users_may_replace_the_secrets_backend():
    env = airflow_config_env(V306, {"secrets.backend": "my.Backend"}, {})
    assert env["AIRFLOW__SECRETS__BACKEND"] == "my.Backend"
