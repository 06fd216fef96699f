"""Airflow's processes in the native environment reach the local MWAA API as tasks on MWAA
reach MWAA's: an unmodified boto3 `mwaa` client (the Amazon provider's MwaaHook) finds the
endpoint and the host-prefix setting in its environment (the e2e test runs the provider's
operator and sensor over real parts)."""

import json

import boto3
import botocore.config
import pytest

from mwaa_kit import catalog
from mwaa_kit.contract.bundle import PreparedEnvironment, startup_environment
from mwaa_kit.contract.requirements import Virtualenv
from mwaa_kit.project import Project
from mwaa_kit.runtime.native import launch
from mwaa_kit.runtime.native.environment import NativeEnvironment

PORTS = {"ui": 18080, "aws": 14566, "postgres": 15432, "salesforce": 18443, "mwaa": 18765}
MWAA_URL = "http://127.0.0.1:18765"


@pytest.fixture
def prepared(tmp_path, monkeypatch):
    """`_prepare` as `up` calls it, the contract reduced to the environment it builds."""
    def contract(bundle, version, environment_name, region, home, cache, options,
                 runtime_env, report):
        return PreparedEnvironment(
            home=home, virtualenv=Virtualenv(tmp_path / "venv", False), constraints_source="",
            startup_exports={}, plugins=[],
            base_env=startup_environment(version, environment_name, region, home, runtime_env))

    monkeypatch.setattr(launch, "prepare", contract)
    native = NativeEnvironment(Project(root=tmp_path))
    monkeypatch.setattr(native, "_has_postgres", lambda: False)
    return native, native._prepare(None, PORTS)


@pytest.mark.parametrize("component", ["scheduler", "webserver"])
def test_airflow_processes_are_given_the_local_mwaa_api(prepared, component):
    native, environment = prepared
    env = environment.env(component)
    assert env["AWS_ENDPOINT_URL_MWAA"] == MWAA_URL
    assert env["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
    # The other services still reach the AWS emulator, with its credentials and the region.
    assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{PORTS['aws']}"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert env["AWS_DEFAULT_REGION"] == native.project.region
    assert env["AIRFLOW_ENV_NAME"] == native.project.environment_name


def test_one_off_commands_get_them_too(prepared):
    native, _ = prepared
    saved = json.loads((native.native_dir / "airflow-env.json").read_text())
    assert saved["AWS_ENDPOINT_URL_MWAA"] == MWAA_URL
    assert saved["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"


def test_an_unmodified_boto3_client_sends_invoke_rest_api_to_the_local_api(
        prepared, monkeypatch):
    """What botocore makes of the variables: the local API's own host, no `env.` prefix."""
    _, environment = prepared
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.env("scheduler").items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    client = boto3.session.Session().client("mwaa")
    sent = []

    def capture(request, **_):
        sent.append(request.url)
        raise RuntimeError("sent")  # no server here: what was sent is the answer

    client.meta.events.register("before-send.mwaa.InvokeRestApi", capture)
    with pytest.raises(RuntimeError, match="sent"):
        client.invoke_rest_api(Name="SalesforceIngestion", Path="/dags", Method="GET")
    assert sent == [f"{MWAA_URL}/restapi/SalesforceIngestion"]


@pytest.fixture
def prepared_on(tmp_path, monkeypatch):
    """`prepared`, for a project on `airflow_version`."""
    def prepare(airflow_version: str):
        def contract(bundle, version, environment_name, region, home, cache, options,
                     runtime_env, report):
            return PreparedEnvironment(
                home=home, virtualenv=Virtualenv(tmp_path / "venv", False),
                constraints_source="", startup_exports={}, plugins=[],
                base_env=startup_environment(version, environment_name, region, home,
                                             runtime_env))

        monkeypatch.setattr(launch, "prepare", contract)
        native = NativeEnvironment(Project(root=tmp_path, airflow_version=airflow_version))
        monkeypatch.setattr(native, "_has_postgres", lambda: False)
        return native._prepare(None, PORTS).env("worker")
    return prepare


@pytest.mark.parametrize("airflow_version", ["2.10.3", "2.11.0"])
def test_an_old_botocore_gets_the_setting_through_aws_default(prepared_on, airflow_version):
    """Their images' botocore (1.35.36, 1.37.3) predates the variable (1.37.5): the Amazon
    provider's hooks build their client config from aws_default's `config_kwargs`."""
    connection = json.loads(prepared_on(airflow_version)["AIRFLOW_CONN_AWS_DEFAULT"])
    config_kwargs = connection["extra"]["config_kwargs"]
    assert connection["conn_type"] == "aws"

    client = boto3.client("mwaa", region_name="us-east-1", endpoint_url=MWAA_URL,
                          aws_access_key_id="testing", aws_secret_access_key="testing",
                          config=botocore.config.Config(**config_kwargs))
    sent = []

    def capture(request, **kwargs):
        sent.append(request.url)
        raise ConnectionAbortedError  # the URL is all this test needs

    client.meta.events.register("before-send.mwaa.InvokeRestApi", capture)
    with pytest.raises(ConnectionAbortedError):
        client.invoke_rest_api(Name="MwaaEnvironment", Path="/dags", Method="GET")
    assert sent[0].startswith(MWAA_URL + "/")


def test_a_botocore_that_reads_the_variable_keeps_mwaa_s_aws_default(prepared_on):
    assert prepared_on(catalog.DEFAULT_VERSION)["AIRFLOW_CONN_AWS_DEFAULT"] == "aws://"
