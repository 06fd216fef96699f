"""Calls to a running Airflow's stable REST API as its Admin user: how the local MWAA API
answers InvokeRestApi (the emulator checks the call and MWAA's limits; this sends it).

On MWAA, InvokeRestApi runs as the Airflow role the caller's IAM policy maps to
(airflow:InvokeRestApi on a role resource: Admin, Op, User, Viewer or Public). The
emulator evaluates no IAM, so locally every call runs as Admin, the one user the kit
creates.

How Admin logs in depends on the major, as each version's configuration enables it:

- Airflow 3's simple auth manager issues a JWT from POST /auth/token (username and
  password), sent as `Authorization: Bearer`.
- Airflow 2's REST API authenticates with `[api] auth_backends`; neither MWAA's forced
  configuration (catalog/versions/2.*.toml) nor the kit sets it, so Airflow's default
  holds: `airflow.api.auth.backend.session`, the web UI's session. The client logs in
  through the UI's form (/login/, with its CSRF token) and sends the session cookie;
  the REST API itself is exempt from CSRF.

A token or session that expires (401) is renewed once per call; the login and the call
share the call's time limit (MWAA's 10 seconds, given by the emulator).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from mwaa_kit.catalog import AirflowVersion
from mwaa_kit.emulators.mwaa.restapi import RestApiCall

ADMIN = "admin"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_WITH_BODY = ("POST", "PUT", "PATCH")


class AirflowRestClient:
    """One Airflow's REST API (`version`'s prefix under `ui_url`), called as Admin with
    `password`; thread-safe, as the MWAA API serves requests in threads."""

    def __init__(self, ui_url: str, version: AirflowVersion, password: str):
        self.ui_url = ui_url.rstrip("/")
        self.version = version
        self.password = password
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self._token: str | None = None
        self._logged_in = False
        self._lock = threading.Lock()

    def __call__(self, call: RestApiCall, timeout: float) -> tuple[int, bytes]:
        """Airflow's (status, body) for `call`; TimeoutError once `timeout` seconds are over,
        another OSError when Airflow does not answer."""
        deadline = time.monotonic() + timeout
        with self._lock:
            if not self._logged_in:
                self._log_in(deadline)
        status, payload = self._send(call, deadline)
        if status == 401:  # the token or session expired
            with self._lock:
                self._log_in(deadline)
            status, payload = self._send(call, deadline)
        return status, payload

    def _send(self, call: RestApiCall, deadline: float) -> tuple[int, bytes]:
        url = f"{self.ui_url}{self.version.rest_api_prefix}{call.path}"
        if call.query:
            url += "?" + urllib.parse.urlencode(_query(call.query), doseq=True)
        headers = {"Accept": "application/json"}
        data = None
        if call.method in _WITH_BODY and call.body is not None:
            data = json.dumps(call.body).encode()
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return self._open(urllib.request.Request(url, data, headers, method=call.method),
                          deadline)

    def _log_in(self, deadline: float) -> None:
        """Admin's token (Airflow 3) or UI session (Airflow 2); a refused login leaves the
        call to answer Airflow's 401."""
        if self.version.major >= 3:
            request = urllib.request.Request(
                f"{self.ui_url}/auth/token", method="POST",
                data=json.dumps({"username": ADMIN, "password": self.password}).encode(),
                headers={"Content-Type": "application/json", "Accept": "application/json"})
            status, payload = self._open(request, deadline)
            self._token = json.loads(payload)["access_token"] if status < 300 else None
        else:
            _, page = self._open(urllib.request.Request(f"{self.ui_url}/login/"), deadline)
            match = _CSRF.search(page.decode("utf-8", "replace"))
            form = {"username": ADMIN, "password": self.password,
                    "csrf_token": match.group(1) if match else ""}
            self._open(urllib.request.Request(
                f"{self.ui_url}/login/", urllib.parse.urlencode(form).encode(), method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"}), deadline)
        self._logged_in = True

    def _open(self, request: urllib.request.Request, deadline: float) -> tuple[int, bytes]:
        """(status, body) of any answer, errors included; TimeoutError or ConnectionError
        when there is none by `deadline` (time.monotonic)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no time left for the Apache Airflow REST API")
        try:
            with self._opener.open(request, timeout=left) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):  # socket.timeout too
                raise TimeoutError(str(error.reason)) from None
            raise ConnectionError(str(error.reason)) from None


def _query(parameters: dict) -> dict:
    """QueryParameters as Airflow reads them: booleans lower-case, lists repeated."""
    def text(value) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {name: [text(item) for item in value] if isinstance(value, list) else text(value)
            for name, value in parameters.items()}
