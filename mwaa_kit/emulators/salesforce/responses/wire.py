"""What every response works with: the request as the server read it, the answer it will
send, and Salesforce's rendering of a refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from urllib.parse import parse_qs

from mwaa_kit.emulators.salesforce.exceptions import ApiError, InvalidQueryLocator
from mwaa_kit.emulators.salesforce.models.backend import Stub
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError

JSON = "application/json;charset=UTF-8"


@dataclass
class Request:
    """One request: method, path, query string, headers and body; `params` are what the
    route's pattern captured, `api_usage` the request count once it is counted."""

    method: str
    path: str
    query_string: str
    headers: Message
    body: bytes
    stub: Stub
    params: dict[str, str] = field(default_factory=dict)
    api_usage: int = 0

    @cached_property
    def query(self) -> dict[str, list[str]]:
        """The query string's parameters (parse_qs: blank ones left out)."""
        return parse_qs(self.query_string)

    def arg(self, name: str) -> str:
        """The query-string parameter `name` (its first value), "" when absent."""
        return self.query.get(name, [""])[0]

    def json(self):
        """The body as JSON (an empty body reads as {}); 400 JSON_PARSER_ERROR when it is
        not JSON, as Salesforce answers."""
        try:
            return json.loads(self.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "JSON_PARSER_ERROR", "Unexpected character in the request "
                           "body: it is not JSON") from None

    @property
    def host_url(self) -> str:
        """The stub's own https://host:port as the client reached it: the instance URL that
        logins hand out."""
        return f"https://{self.headers.get('Host', 'localhost')}"


@dataclass(frozen=True)
class Response:
    """An answer for the server to send: status, body, its type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, data, headers: dict[str, str] | None = None) -> Response:
    """`data` as a JSON answer."""
    return Response(status, json.dumps(data).encode(), JSON, headers or {})


def no_content() -> Response:
    """204, Salesforce's answer to a successful update or delete."""
    return Response(204, b"")


def refusal(error: ApiError | SoqlError | InvalidQueryLocator) -> Response:
    """A refusal as Salesforce's JSON list `[{"message", "errorCode"}]` (with `fields` when
    some are concerned) and its status: SOQL errors and unknown query locators are 400."""
    if isinstance(error, SoqlError):
        error = ApiError(400, error.code, error.message)
    elif isinstance(error, InvalidQueryLocator):
        error = ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    body = {"message": error.message, "errorCode": error.code}
    if error.fields is not None:
        body["fields"] = error.fields
    return json_response(error.status, [body])


def typed(kind: str, value):
    """A stored value as the API returns it (SQLite keeps booleans as 0/1, numbers as it
    likes)."""
    if value is None:
        return None
    if kind == "boolean":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in ("currency", "double", "percent"):
        return float(value)
    return value


def record_url(version: str, sobject: str, record_id: str) -> str:
    """A record's REST URL, as its `attributes` and a 300 answer list it."""
    return f"/services/data/v{version}/sobjects/{sobject}/{record_id}"


def attributes(version: str, sobject: str, record_id: str) -> dict:
    """The `attributes` a record opens with on the wire."""
    return {"attributes": {"type": sobject, "url": record_url(version, sobject, record_id)}}
