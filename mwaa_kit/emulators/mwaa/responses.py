"""The MWAA API's HTTP/JSON layer (restJson1), as botocore's `mwaa` client speaks it.

Requests: GET/PUT/PATCH/DELETE /environments/{Name}, GET /environments, GET/POST/DELETE
/tags/{ResourceArn} (the ARN URL-encoded), POST /clitoken/{Name}, /webtoken/{Name},
/restapi/{Name}. Bodies are JSON; timestamps are epoch seconds. Errors carry the error code
in `x-amzn-ErrorType` and in the body's `__type`, with a `message`, which is what botocore
turns into `ClientError` (`ResourceNotFoundException`, `ValidationException`, ...).

botocore prefixes MWAA hosts (`api.`, `env.`); against a local endpoint, disable that with
AWS_DISABLE_HOST_PREFIX_INJECTION=true (or Config(inject_host_prefix=False)); the server
itself ignores the Host header.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field

from mwaa_kit.emulators.mwaa.backend import (
    DEFAULT_REGION,
    MwaaBackend,
    MwaaError,
    NotFoundError,
    ValidationError,
)

_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


@dataclass
class Response:
    """One HTTP answer: status, JSON body and extra headers (an error's x-amzn-ErrorType)."""

    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The body as JSON bytes; `{}` when there is none, so every answer is a JSON object."""
        return json.dumps(self.body if self.body is not None else {}).encode()


def region_of(headers) -> str:
    """The region the request was signed for (SigV4's credential scope)."""
    match = _CREDENTIAL_REGION.search(headers.get("Authorization", "") or "")
    return match.group(1) if match else DEFAULT_REGION


def dispatch(backend: MwaaBackend, method: str, raw_path: str, headers, body: bytes) -> Response:
    """Answer one request from the backend; an MwaaError becomes the error answer botocore
    turns into ClientError."""
    try:
        return _dispatch(backend, method, raw_path, headers, body)
    except MwaaError as error:
        return error_response(error.status, error.code, error.message)


def error_response(status: int, code: str, message: str) -> Response:
    """An error as botocore reads it: the code in x-amzn-ErrorType and in the body's `__type`."""
    return Response(status, {"__type": code, "message": message},
                    {"x-amzn-ErrorType": code})


def _dispatch(backend: MwaaBackend, method: str, raw_path: str, headers,
              body: bytes) -> Response:
    parsed = urllib.parse.urlsplit(raw_path)
    query = urllib.parse.parse_qs(parsed.query)
    parts = [urllib.parse.unquote(part) for part in parsed.path.strip("/").split("/")]
    region = region_of(headers)
    payload = _json(body)
    resource = parts[0] if parts else ""
    argument = "/".join(parts[1:])

    if resource == "environments" and not argument and method == "GET":
        names = backend.list_environments(region)
        return _paged(names, query)
    if resource == "environments" and argument:
        if method == "PUT":
            return Response(200, backend.create_environment(region, argument, payload))
        if method == "GET":
            return Response(200, {"Environment": backend.get_environment(region, argument)})
        if method == "PATCH":
            return Response(200, backend.update_environment(region, argument, payload))
        if method == "DELETE":
            backend.delete_environment(region, argument)
            return Response(200, {})
    if resource == "tags" and argument:
        if method == "GET":
            return Response(200, {"Tags": backend.list_tags(argument)})
        if method == "POST":
            if not payload.get("Tags"):
                raise ValidationError("Tags must not be empty.")
            backend.tag_resource(argument, payload["Tags"])
            return Response(200, {})
        if method == "DELETE":
            backend.untag_resource(argument, query.get("tagKeys", []))
            return Response(200, {})
    if method == "POST" and argument:
        if resource == "clitoken":
            return Response(200, backend.create_cli_token(region, argument))
        if resource == "webtoken":
            return Response(200, backend.create_web_login_token(region, argument))
        if resource == "restapi":
            return Response(200, backend.invoke_rest_api(region, argument, payload))
    raise NotFoundError(f"{method} {parsed.path} is not an MWAA API operation.")


def _paged(names: list[str], query: dict) -> Response:
    try:
        size = int(query.get("MaxResults", ["25"])[0])
        start = int(query.get("NextToken", ["0"])[0] or 0)
    except ValueError:
        raise ValidationError("MaxResults and NextToken must be numbers.") from None
    if not 1 <= size <= 25:
        raise ValidationError("MaxResults must be between 1 and 25.")
    page = names[start:start + size]
    result: dict = {"Environments": page}
    if start + size < len(names):
        result["NextToken"] = str(start + size)
    return Response(200, result)


def _json(body: bytes) -> dict:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise ValidationError("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValidationError("The request body must be a JSON object.")
    return value
