"""The environment's web server origin over HTTPS (verified against the kit's CA): MWAA's web
login (the browser's page, the provider's form POST to either major's path), the tokens it
refuses, and the reverse proxy to a fake Airflow of each major, logging in with the
runtime's own airflow_login."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from mwaa_kit import catalog
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.mwaa.webserver import LOGIN_PATHS, SSO_PATH, WebServer
from mwaa_kit.runtime.airflow_login import JWT_COOKIE, log_in
from mwaa_kit.runtime.processes import free_port
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, admin, settled
from tests.unit.mwaa_emulator.fake_airflow import PASSWORD, VERSIONS


def _origin(tmp_path, backend, upstream: str, login) -> WebServer:
    certificate, key = tls.ensure_certificates(tmp_path / "tls")
    server = WebServer(free_port(), backend, upstream, login, certificate, key)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def origin(tmp_path, backend, airflow):
    """The origin in front of the fake Airflow, logging in as the runtime does."""
    version = catalog.get_version(VERSIONS[airflow.major])
    server = _origin(tmp_path, backend, airflow.url, lambda environment: log_in(
        airflow.url, version, PASSWORD, time.monotonic() + 10))
    backend.webserver_hostname = f"127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def web(origin, tmp_path, monkeypatch) -> requests.Session:
    """A client that trusts the kit's CA through REQUESTS_CA_BUNDLE, as the provider's
    MwaaHook does in the environment's processes."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "tls" / tls.CA_FILE))
    return requests.Session()


@pytest.fixture
def environment(mwaa, bucket, airflow, origin):
    mwaa.create_environment(Name="Env1", ExecutionRoleArn=ROLE, DagS3Path="dags",
                            SourceBucketArn=f"arn:aws:s3:::{bucket}",
                            NetworkConfiguration=NETWORK,
                            AirflowVersion=VERSIONS[airflow.major])
    return settled(mwaa, "Env1")


def _login_url(mwaa, major: int) -> tuple[str, str]:
    """(login URL of the major's path, a fresh web token), as MwaaHook builds them."""
    answer = mwaa.create_web_login_token(Name="Env1")
    path = LOGIN_PATHS[0] if major == 2 else LOGIN_PATHS[1]
    return f"https://{answer['WebServerHostname']}{path}", answer["WebToken"]


def test_the_origin_is_the_environments_webserver_url(mwaa, environment, origin):
    host = f"127.0.0.1:{origin.server_address[1]}"
    assert environment["WebserverUrl"] == f"https://{host}"
    assert mwaa.create_cli_token(Name="Env1")["WebServerHostname"] == host


def test_the_providers_login_then_its_rest_calls(mwaa, environment, airflow, web):
    url, token = _login_url(mwaa, airflow.major)
    login = web.post(url, data={"token": token}, timeout=10)
    assert login.status_code == 200
    host = url.split("/")[2]
    if airflow.major == 3:  # MwaaHook reads `_token` off the login answer, as a Bearer
        headers = {"Authorization": f"Bearer {login.cookies[JWT_COOKIE]}"}
    else:  # and on 2.x keeps the session's cookie
        headers = {}
        assert "session" in web.cookies
    prefix = catalog.get_version(VERSIONS[airflow.major]).rest_api_prefix
    dags = web.get(f"https://{host}{prefix}/dags", headers=headers, timeout=10)
    assert dags.status_code == 200
    assert dags.json()["dags"] == [{"dag_id": "hello"}]
    cookie = next(c for c in login.cookies)
    assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")


def test_refused_tokens(mwaa, environment, airflow, web, endpoint):
    url, token = _login_url(mwaa, airflow.major)
    cli = mwaa.create_cli_token(Name="Env1")["CliToken"]
    for wrong in ("forged", "", cli):
        refused = web.post(url, data={"token": wrong}, timeout=10)
        assert refused.status_code == 403
        assert "CreateWebLoginToken" in refused.json()["message"]
        assert not refused.cookies
    assert admin(endpoint, "advance-token-clock", {"seconds": 61})[0] == 200
    assert web.post(url, data={"token": token}, timeout=10).status_code == 403
    assert airflow.logins == 0  # no refused token ever logs in to Airflow


def test_the_browser_page_reads_the_fragment_and_posts_it(environment, origin, web):
    host = f"127.0.0.1:{origin.server_address[1]}"
    page = web.get(f"https://{host}{SSO_PATH}?login=true", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "window.location.hash" in page.text
    assert f'action="{LOGIN_PATHS[0]}"' in page.text


def test_an_airflow_that_refuses_the_login_is_a_502(mwaa, environment, airflow, web,
                                                     monkeypatch):
    monkeypatch.setattr(airflow, "major", 5 - airflow.major)  # answers the other login only
    url, token = _login_url(mwaa, 5 - airflow.major)
    failed = web.post(url, data={"token": token}, timeout=10)
    assert failed.status_code == 502
    assert "could not log you in" in failed.json()["message"]


def test_the_proxy_passes_airflows_answers_and_rebases_its_redirects(origin, web, airflow):
    host = f"127.0.0.1:{origin.server_address[1]}"
    moved = web.get(f"https://{host}/go-home", allow_redirects=False, timeout=10)
    assert (moved.status_code, moved.headers["Location"]) == (302, f"https://{host}/home")
    streamed = web.get(f"https://{host}/stream", timeout=10)
    assert streamed.text == "line 1\nline 2\n"
    seen = web.post(f"https://{host}/seen?x=1", data=b"a=b", timeout=10).json()
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/seen?x=1", "a=b")
    assert seen["headers"]["Host"] == airflow.url.removeprefix("http://")
    assert seen["headers"]["X-Forwarded-Proto"] == "https"


def test_an_airflow_that_is_down_is_a_502(tmp_path, backend, web):
    server = _origin(tmp_path, backend, f"http://127.0.0.1:{free_port()}", lambda e: {})
    try:
        down = web.get(f"https://127.0.0.1:{server.server_address[1]}/home", timeout=10)
        assert down.status_code == 502
        assert "mwaa-kit status" in down.json()["message"]
    finally:
        server.shutdown()
        server.server_close()
