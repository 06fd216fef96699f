"""Logging in to a running Airflow as its Admin user: what the local MWAA API's
InvokeRestApi (airflow_rest.py) and its web login (the origin's /aws_mwaa/login) both need.

How Admin logs in depends on the major, as each version's configuration enables it:

- Airflow 3's simple auth manager issues a JWT from POST /auth/token (username and
  password). Its UI and REST API accept it as the `_token` cookie (the UI's own login
  sets that cookie) or as `Authorization: Bearer`.
- Airflow 2's web UI keeps a Flask session: the client logs in through the UI's form
  (/login/, with its CSRF token) and holds the session cookie. The REST API accepts the
  same cookie: `[api] auth_backends` is left at Airflow's default,
  `airflow.api.auth.backend.session`, by MWAA's forced configuration and by the kit.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

from mwaa_kit.catalog import AirflowVersion

ADMIN = "admin"
JWT_COOKIE = "_token"  # Airflow 3's COOKIE_NAME_JWT_TOKEN
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def log_in(ui_url: str, version: AirflowVersion, password: str,
           deadline: float) -> dict[str, str]:
    """The cookies that make their holder Admin of the Airflow at `ui_url`: {"_token": JWT}
    on Airflow 3, the UI's session cookie on Airflow 2. PermissionError when Airflow
    refuses the password; TimeoutError or ConnectionError when it does not answer by
    `deadline` (time.monotonic)."""
    ui_url = ui_url.rstrip("/")
    if version.major >= 3:
        request = urllib.request.Request(
            f"{ui_url}/auth/token", method="POST",
            data=json.dumps({"username": ADMIN, "password": password}).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        status, payload, _ = open_url(urllib.request.build_opener(), request, deadline)
        if status >= 300:
            raise PermissionError(f"Apache Airflow refused the admin login ({status})")
        return {JWT_COOKIE: json.loads(payload)["access_token"]}
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, page, _ = open_url(opener, urllib.request.Request(f"{ui_url}/login/"), deadline)
    match = _CSRF.search(page.decode("utf-8", "replace"))
    form = {"username": ADMIN, "password": password,
            "csrf_token": match.group(1) if match else ""}
    _, _, landed = open_url(opener, urllib.request.Request(
        f"{ui_url}/login/", urllib.parse.urlencode(form).encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"}), deadline)
    if urllib.parse.urlsplit(landed).path.rstrip("/").endswith("/login"):
        raise PermissionError("Apache Airflow refused the admin login (back on /login/)")
    return {cookie.name: cookie.value for cookie in jar}


def open_url(opener: urllib.request.OpenerDirector, request: urllib.request.Request,
             deadline: float) -> tuple[int, bytes, str]:
    """(status, body, final URL after redirects) of any answer, errors included;
    TimeoutError or ConnectionError when there is none by `deadline` (time.monotonic)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no time left for the Apache Airflow web server")
    try:
        with opener.open(request, timeout=left) as response:
            return response.status, response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.geturl()
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):  # socket.timeout too
            raise TimeoutError(str(error.reason)) from None
        raise ConnectionError(str(error.reason)) from None
