"""InvokeRestApi through boto3's unmodified `mwaa` client (so botocore's own model serializes
the request and parses the answer and its modeled errors), the emulator forwarding with the
runtime's AirflowRestClient to a small fake Airflow of each major: Airflow 3's JWT from
/auth/token, Airflow 2's UI session from the /login/ form."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
import pytest
from botocore.exceptions import ClientError

from mwaa_kit import catalog
from mwaa_kit.emulators.mwaa import restapi
from mwaa_kit.runtime.airflow_rest import AirflowRestClient
from mwaa_kit.runtime.processes import free_port
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, settled

PASSWORD = "s3cret"
VERSIONS = {2: "2.11.0", 3: "3.3.1"}
MODEL = botocore.session.get_session().get_service_model("mwaa")


class FakeAirflow(ThreadingHTTPServer):
    """Airflow's REST API as far as these tests need it: logins of both majors, a DAG named
    `hello`, and endpoints that echo, fail, stall or answer too much."""

    def __init__(self, major: int):
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.major = major
        self.prefix = catalog.get_version(VERSIONS[major]).rest_api_prefix
        self.credentials: set[str] = set()  # valid tokens (3.x) or session cookies (2.x)
        self.logins = 0
        self.stall = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeAirflow

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, payload=None, headers: dict | None = None) -> None:
        data = b"" if payload is None else (
            payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log_in(self, method: str, body: bytes) -> bool:
        """The login endpoints of both majors; True when the request was one."""
        path = urllib.parse.urlsplit(self.path).path
        if self.server.major == 3 and (method, path) == ("POST", "/auth/token"):
            if json.loads(body) != {"username": "admin", "password": PASSWORD}:
                self._answer(401, {"detail": "Invalid credentials"})
                return True
            self.server.logins += 1
            token = f"jwt-{self.server.logins}"
            self.server.credentials.add(f"Bearer {token}")
            self._answer(201, {"access_token": token})
            return True
        if self.server.major == 2 and path in ("/login/", "/"):
            if method == "GET":
                self._answer(200, b'<input id="csrf_token" name="csrf_token" type="hidden" '
                                  b'value="csrf-1">')
                return True
            form = urllib.parse.parse_qs(body.decode())
            if form == {"username": ["admin"], "password": [PASSWORD], "csrf_token": ["csrf-1"]}:
                self.server.logins += 1
                self.server.credentials.add(f"session=s-{self.server.logins}")
                self._answer(302, None, {"Location": "/",
                                         "Set-Cookie": f"session=s-{self.server.logins}; Path=/"})
            else:
                self._answer(200, b"<form>try again</form>")
            return True
        return False

    def _handle(self):
        body = self._body()
        if self._log_in(self.command, body):
            return
        credential = self.headers.get("Authorization") or self.headers.get("Cookie")
        if credential not in self.server.credentials:
            self._answer(401, {"detail": "Not authenticated"})
            return
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.removeprefix(self.server.prefix)
        if path == "/echo":
            self._answer(200, {"method": self.command, "query": urllib.parse.parse_qs(
                parsed.query), "body": json.loads(body) if body else None})
        elif path == "/dags":
            self._answer(200, {"dags": [{"dag_id": "hello"}], "total_entries": 1})
        elif path == "/dags/hello/dagRuns" and self.command == "POST":
            self._answer(200, {"dag_run_id": "manual__1", "state": "queued",
                               "conf": json.loads(body).get("conf")})
        elif path == "/dags/hello" and self.command == "DELETE":
            self._answer(204)
        elif path == "/boom":
            self._answer(500, {"detail": "boom"})
        elif path == "/slow":
            time.sleep(self.server.stall)
            self._answer(200, {})
        elif path == "/huge":
            self._answer(200, json.dumps("x" * restapi.MAX_RESPONSE_BYTES).encode())
        else:
            self._answer(404, {"detail": f"{path} was not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(params=sorted(VERSIONS), ids=lambda major: f"airflow{major}")
def airflow(request):
    server = FakeAirflow(request.param)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


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

