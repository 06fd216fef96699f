"""InvokeRestApi through boto3's unmodified `mwaa` client (so botocore's own model serializes
the request and parses the answer and its modeled errors), the emulator forwarding with the
runtime's AirflowRestClient to a small fake Airflow of each major: Airflow 3's JWT from
/auth/token, Airflow 2's UI session from the /login/ form."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ClientError

from mwaa_kit import catalog
from mwaa_kit.emulators.mwaa import restapi
from mwaa_kit.runtime.airflow_rest import AirflowRestClient
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, settled
from tests.unit.mwaa_emulator.fake_airflow import PASSWORD, VERSIONS

MODEL = botocore.session.get_session().get_service_model("mwaa")


@pytest.fixture
def environment(mwaa, bucket, backend, airflow):
    """An AVAILABLE environment whose InvokeRestApi goes to the fake Airflow."""
    client = AirflowRestClient(airflow.url, catalog.get_version(VERSIONS[airflow.major]),
                               PASSWORD)
    backend.rest_api = lambda environment, call, timeout: client(call, timeout)
    mwaa.create_environment(Name="Env1", ExecutionRoleArn=ROLE, DagS3Path="dags",
                            SourceBucketArn=f"arn:aws:s3:::{bucket}",
                            NetworkConfiguration=NETWORK,
                            AirflowVersion=VERSIONS[airflow.major])
    return settled(mwaa, "Env1")["Name"]


def _error(mwaa, **call) -> dict:
    """The error answer of an InvokeRestApi call that must fail; a RestApi* error is checked
    to carry its HTTP status and members as botocore's model gives them."""
    with pytest.raises(ClientError) as caught:
        mwaa.invoke_rest_api(Name="Env1", **call)
    response = caught.value.response
    code = response["Error"]["Code"]
    if code.startswith("RestApi"):
        shape = MODEL.shape_for(code)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == \
            shape.metadata["error"]["httpStatusCode"]
        assert set(shape.members) <= set(response)
    return response


def _code(mwaa, **call) -> str:
    return _error(mwaa, **call)["Error"]["Code"]


def test_calls_reach_airflows_rest_api_as_admin(mwaa, environment, airflow):
    listed = mwaa.invoke_rest_api(Name=environment, Path="/dags", Method="GET")
    assert listed["RestApiStatusCode"] == 200
    assert listed["RestApiResponse"]["dags"] == [{"dag_id": "hello"}]
    started = mwaa.invoke_rest_api(Name=environment, Path="/dags/hello/dagRuns",
                                   Method="POST", Body={"conf": {"rows": 3}})
    assert started["RestApiResponse"] == {"dag_run_id": "manual__1", "state": "queued",
                                          "conf": {"rows": 3}}
    echoed = mwaa.invoke_rest_api(Name=environment, Path="echo", Method="PATCH",
                                  QueryParameters={"limit": 5, "tags": ["a", "b"],
                                                   "only_active": False},
                                  Body={"is_paused": True})["RestApiResponse"]
    assert echoed == {"method": "PATCH", "body": {"is_paused": True},
                      "query": {"limit": ["5"], "tags": ["a", "b"], "only_active": ["false"]}}
    # The provider's MwaaHook always sends a Body, even {} with GET: Airflow gets none.
    assert mwaa.invoke_rest_api(Name=environment, Path="/echo", Method="GET", Body={},
                                QueryParameters={})["RestApiResponse"]["body"] is None
    deleted = mwaa.invoke_rest_api(Name=environment, Path="/dags/hello", Method="DELETE")
    assert deleted["RestApiStatusCode"] == 204 and deleted["RestApiResponse"] == {}
    assert airflow.logins == 1  # one login serves every call


def test_airflows_errors_become_rest_api_exceptions(mwaa, environment):
    missing = _error(mwaa, Path="/dags/nope/dagRuns", Method="POST", Body={})
    assert missing["Error"]["Code"] == "RestApiClientException"
    assert missing["RestApiStatusCode"] == 404
    assert missing["RestApiResponse"] == {"detail": "/dags/nope/dagRuns was not found"}
    assert isinstance(mwaa.exceptions.RestApiClientException(missing, "InvokeRestApi"),
                      ClientError)
    failed = _error(mwaa, Path="/boom", Method="GET")
    assert failed["Error"]["Code"] == "RestApiServerException"
    assert (failed["RestApiStatusCode"], failed["RestApiResponse"]) == (500, {"detail": "boom"})


def test_mwaas_limits(mwaa, environment, airflow, monkeypatch):
    monkeypatch.setattr(restapi, "TIMEOUT_SECONDS", 0.5)  # MWAA's 10 s, shortened
    airflow.stall = 1.5
    slow = _error(mwaa, Path="/slow", Method="GET")
    assert (slow["Error"]["Code"], slow["RestApiStatusCode"]) == ("RestApiServerException", 504)
    too_large = _error(mwaa, Path="/huge", Method="GET")
    assert (too_large["Error"]["Code"], too_large["RestApiStatusCode"]) == (
        "RestApiServerException", 502)


def test_an_expired_login_is_renewed(mwaa, environment, airflow):
    mwaa.invoke_rest_api(Name=environment, Path="/dags", Method="GET")
    airflow.credentials.clear()  # the token (3.x) or the session (2.x) expired
    assert mwaa.invoke_rest_api(Name=environment, Path="/dags",
                                Method="GET")["RestApiStatusCode"] == 200
    assert airflow.logins == 2


def test_requests_that_never_reach_airflow(mwaa, environment, airflow, backend):
    assert _code(mwaa, Path="/../auth/token", Method="POST") == "ValidationException"
    assert _code(mwaa, Path="/dags?limit=1", Method="GET") == "ValidationException"
    airflow.shutdown()
    airflow.server_close()
    down = _error(mwaa, Path="/dags", Method="GET")
    assert (down["Error"]["Code"], down["RestApiStatusCode"]) == ("RestApiServerException", 503)
    backend.rest_api = None  # a bare emulator: no Airflow behind it
    assert _code(mwaa, Path="/dags", Method="GET") == "NotImplementedException"


def test_an_environment_without_a_web_server_refuses(mwaa, environment):
    mwaa.delete_environment(Name=environment)
    assert _code(mwaa, Path="/dags", Method="GET") == "ValidationException"

