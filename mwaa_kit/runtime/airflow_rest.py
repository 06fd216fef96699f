"""Calls to a running Airflow's stable REST API as its Admin user: how the local MWAA API
answers InvokeRestApi (the emulator checks the call and MWAA's limits; this sends it).

On MWAA, InvokeRestApi runs as the Airflow role the caller's IAM policy maps to
(airflow:InvokeRestApi on a role resource: Admin, Op, User, Viewer or Public). The
emulator evaluates no IAM, so locally every call runs as Admin, the one user the kit
creates.

Admin logs in as airflow_login.py says for each major: a JWT sent as `Authorization:
Bearer` (Airflow 3), the UI's session cookie (Airflow 2; the REST API itself is exempt
from CSRF).

A token or session that expires (401) is renewed once per call; the login and the call
share the call's time limit (MWAA's 10 seconds, given by the emulator).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request

from mwaa_kit.catalog import AirflowVersion
from mwaa_kit.emulators.mwaa.restapi import RestApiCall
from mwaa_kit.runtime.airflow_login import JWT_COOKIE, log_in, open_url

_WITH_BODY = ("POST", "PUT", "PATCH")


class AirflowRestClient:
    """One Airflow's REST API (`version`'s prefix under `ui_url`), called as Admin with
    `password`; thread-safe, as the MWAA API serves requests in threads."""

    def __init__(self, ui_url: str, version: AirflowVersion, password: str):
        self.ui_url = ui_url.rstrip("/")
        self.version = version
        self.password = password
        self._opener = urllib.request.build_opener()
        self._cookies: dict[str, str] = {}
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
        if JWT_COOKIE in self._cookies:
            headers["Authorization"] = f"Bearer {self._cookies[JWT_COOKIE]}"
        elif self._cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}"
                                          for name, value in self._cookies.items())
        request = urllib.request.Request(url, data, headers, method=call.method)
        status, payload, _ = open_url(self._opener, request, deadline)
        return status, payload

    def _log_in(self, deadline: float) -> None:
        """Admin's token (Airflow 3) or UI session (Airflow 2); a refused login leaves the
        call to answer Airflow's 401."""
        try:
            self._cookies = log_in(self.ui_url, self.version, self.password, deadline)
        except PermissionError:
            self._cookies = {}
        self._logged_in = True


def _query(parameters: dict) -> dict:
    """QueryParameters as Airflow reads them: booleans lower-case, lists repeated."""
    def text(value) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {name: [text(item) for item in value] if isinstance(value, list) else text(value)
            for name, value in parameters.items()}
