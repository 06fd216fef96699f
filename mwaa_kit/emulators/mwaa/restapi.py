"""InvokeRestApi's rules, apart from forwarding (which is the runtime's: the emulator knows no
Airflow): what a request may ask, MWAA's limits, and how Airflow's answer becomes the
operation's output or its errors.

- The request: `Path` (1 to 64 characters, as botocore's model says) is relative to the
  REST API's root of the environment's version (/api/v1 on Airflow 2, /api/v2 on 3);
  `Method` one of botocore's five; `QueryParameters` and `Body` JSON objects.
- MWAA's user guide (access-mwaa-apache-airflow-rest-api) says the call ends in an error
  after 10 seconds and fails when the response exceeds 6 MB, without naming the error; both
  answer RestApiServerException here (504 and 502, what a gateway says of an upstream that
  is too slow or whose answer it cannot pass on), as does an Airflow that does not answer at
  all (503), so a client sees every server-side failure the same way.
- Airflow's 2xx/3xx answer the operation's output; 4xx RestApiClientException and 5xx
  RestApiServerException, each carrying RestApiStatusCode and RestApiResponse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mwaa_kit.emulators.mwaa.exceptions import (
    RestApiClientError,
    RestApiServerError,
    ValidationError,
)

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
_MAX_PATH = 64


@dataclass(frozen=True)
class RestApiCall:
    """One InvokeRestApi request, checked: what the forwarder sends to Airflow."""

    method: str
    path: str
    query: dict
    body: dict | None


def check_request(body: dict) -> RestApiCall:
    """The request's members as a RestApiCall; ValidationError for what botocore's model
    forbids (and a path that leaves the REST API's root)."""
    path, method = body.get("Path"), body.get("Method")
    if not isinstance(path, str) or not 1 <= len(path) <= _MAX_PATH:
        raise ValidationError(f"Path must be 1 to {_MAX_PATH} characters long.")
    if {".", ".."} & set(path.split("/")) or "?" in path or "#" in path:
        raise ValidationError("Path names one REST API endpoint; its query goes in "
                              "QueryParameters.")
    if method not in METHODS:
        raise ValidationError(f"Method must be one of {', '.join(METHODS)}.")
    query, payload = body.get("QueryParameters") or {}, body.get("Body")
    if not isinstance(query, dict) or not isinstance(payload, dict | None):
        raise ValidationError("QueryParameters and Body must be JSON objects.")
    return RestApiCall(method, "/" + path.lstrip("/"), query, payload)


def result(status: int, payload: bytes) -> dict:
    """The operation's output for Airflow's answer, or the error it becomes."""
    if len(payload) > MAX_RESPONSE_BYTES:
        raise RestApiServerError(
            f"The Apache Airflow REST API response exceeds the {MAX_RESPONSE_BYTES} bytes "
            "InvokeRestApi can return.", 502,
            {"detail": "Response payload too large for InvokeRestApi."})
    response = _document(payload)
    if status >= 500:
        raise RestApiServerError(f"Apache Airflow answered {status}.", status, response)
    if status >= 400:
        raise RestApiClientError(f"Apache Airflow answered {status}.", status, response)
    return {"RestApiStatusCode": status, "RestApiResponse": response}


def timed_out() -> RestApiServerError:
    """The error of a call Airflow did not answer within MWAA's 10 seconds."""
    return RestApiServerError(
        f"The Apache Airflow REST API did not answer within {TIMEOUT_SECONDS:g} seconds.",
        504, {"detail": "Timed out waiting for the Apache Airflow REST API."})


def unreachable(error: OSError) -> RestApiServerError:
    """The error of a call no Airflow answered (it is down, or still starting)."""
    return RestApiServerError(
        f"The environment's Apache Airflow web server did not answer: {error}", 503,
        {"detail": "The Apache Airflow web server is unavailable."})


def _document(payload: bytes):
    """Airflow's answer as a JSON document: {} when empty (204), the text itself when it is
    not JSON."""
    if not payload.strip():
        return {}
    text = payload.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
