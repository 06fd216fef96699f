"""The MWAA API's wire (restJson1), as botocore's `mwaa` client speaks it: one handler per
operation turns a request into the backend's call and its result into the operation's output
shape (GetEnvironmentOutput's `Environment`, ListEnvironmentsOutput's `Environments` and
`NextToken`, ...). `urls` routes requests to them.

Bodies are JSON; timestamps are epoch seconds. Errors carry the error code in
`x-amzn-ErrorType` and in the body's `__type`, with a `message`, which is what botocore turns
into `ClientError` (`ResourceNotFoundException`, `ValidationException`, ...). The region is
the one the request was signed for.

Beside MWAA's operations, the emulator's own admin endpoints drive its state manager
(`transitions`), as moto's /moto-api/state-manager/ does: set-transition and advance.

botocore prefixes MWAA hosts (`api.`, `env.`); against a local endpoint, disable that with
AWS_DISABLE_HOST_PREFIX_INJECTION=true (or Config(inject_host_prefix=False)); the server
itself ignores the Host header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.exceptions import MwaaError, ValidationError
from mwaa_kit.emulators.mwaa.models import DEFAULT_REGION
from mwaa_kit.emulators.mwaa.transitions import KINDS, Transition

_CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


@dataclass
class Request:
    """One request as a handler needs it: the signing region, the URI labels (decoded), the
    query string's values and the JSON body."""

    region: str
    labels: dict[str, str]
    query: dict[str, list[str]]
    body: dict


@dataclass
class Response:
    """One HTTP answer: status, JSON body and extra headers (an error's x-amzn-ErrorType)."""

    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The body as JSON bytes; `{}` when there is none, so every answer is a JSON object."""
        return json.dumps(self.body if self.body is not None else {}).encode()


Handler = Callable[[MwaaBackend, Request], Response]


def region_of(headers) -> str:
    """The region the request was signed for (SigV4's credential scope)."""
    match = _CREDENTIAL_REGION.search(headers.get("Authorization", "") or "")
    return match.group(1) if match else DEFAULT_REGION


def parse_body(body: bytes) -> dict:
    """The request's JSON object ({} when empty); ValidationError for anything else."""
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise ValidationError("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValidationError("The request body must be a JSON object.")
    return value


def error_response(error: MwaaError) -> Response:
    """An error as botocore reads it: the code in x-amzn-ErrorType and in the body's `__type`."""
    return Response(error.status, {"__type": error.code, **error.members()},
                    {"x-amzn-ErrorType": error.code})


# -- MWAA's operations ---------------------------------------------------------------------

def create_environment(backend: MwaaBackend, request: Request) -> Response:
    """CreateEnvironment -> CreateEnvironmentOutput {Arn}."""
    return Response(200, backend.create_environment(request.region, request.labels["Name"],
                                                    request.body))


def get_environment(backend: MwaaBackend, request: Request) -> Response:
    """GetEnvironment -> GetEnvironmentOutput {Environment}."""
    return Response(200, {"Environment": backend.get_environment(request.region,
                                                                 request.labels["Name"])})


def list_environments(backend: MwaaBackend, request: Request) -> Response:
    """ListEnvironments -> {Environments, NextToken}: pages of MaxResults (1 to 25) names, the
    token being the next page's offset."""
    names = backend.list_environments(request.region)
    try:
        size = int(request.query.get("MaxResults", ["25"])[0])
        start = int(request.query.get("NextToken", ["0"])[0] or 0)
    except ValueError:
        raise ValidationError("MaxResults and NextToken must be numbers.") from None
    if not 1 <= size <= 25:
        raise ValidationError("MaxResults must be between 1 and 25.")
    result: dict = {"Environments": names[start:start + size]}
    if start + size < len(names):
        result["NextToken"] = str(start + size)
    return Response(200, result)


def update_environment(backend: MwaaBackend, request: Request) -> Response:
    """UpdateEnvironment -> UpdateEnvironmentOutput {Arn}."""
    return Response(200, backend.update_environment(request.region, request.labels["Name"],
                                                    request.body))


def delete_environment(backend: MwaaBackend, request: Request) -> Response:
    """DeleteEnvironment -> an empty DeleteEnvironmentOutput."""
    backend.delete_environment(request.region, request.labels["Name"])
    return Response(200, {})


def list_tags_for_resource(backend: MwaaBackend, request: Request) -> Response:
    """ListTagsForResource -> {Tags}."""
    return Response(200, {"Tags": backend.list_tags(request.labels["ResourceArn"])})


def tag_resource(backend: MwaaBackend, request: Request) -> Response:
    """TagResource: Tags is required and not empty, as in botocore's model."""
    if not request.body.get("Tags"):
        raise ValidationError("Tags must not be empty.")
    backend.tag_resource(request.labels["ResourceArn"], request.body["Tags"])
    return Response(200, {})


def untag_resource(backend: MwaaBackend, request: Request) -> Response:
    """UntagResource: the keys come in the query string, `tagKeys` repeated."""
    backend.untag_resource(request.labels["ResourceArn"], request.query.get("tagKeys", []))
    return Response(200, {})


def create_cli_token(backend: MwaaBackend, request: Request) -> Response:
    """CreateCliToken -> {CliToken, WebServerHostname}."""
    return Response(200, backend.create_cli_token(request.region, request.labels["Name"]))


def create_web_login_token(backend: MwaaBackend, request: Request) -> Response:
    """CreateWebLoginToken -> {WebToken, WebServerHostname, IamIdentity, AirflowIdentity}."""
    return Response(200, backend.create_web_login_token(request.region,
                                                        request.labels["Name"]))


def invoke_rest_api(backend: MwaaBackend, request: Request) -> Response:
    """InvokeRestApi -> {RestApiStatusCode, RestApiResponse}; Airflow's 4xx and 5xx come back
    as RestApiClientException / RestApiServerException (error_response)."""
    return Response(200, backend.invoke_rest_api(request.region, request.labels["Name"],
                                                 request.body))


# -- the emulator's own endpoints ----------------------------------------------------------

def set_transition(backend: MwaaBackend, request: Request) -> Response:
    """POST {"kind": "create"|"update"|"delete" (default: all three), "transition":
    {"progression": "time"|"reads"|"explicit", "seconds": S, "reads": N}} -> {"previous":
    {kind: transition}}, so a test can restore what it changed."""
    kind = request.body.get("kind")
    previous = backend.transitions.set_transition(
        Transition.from_json(request.body.get("transition")), (kind,) if kind else KINDS)
    return Response(200, {"previous": {name: model.to_json()
                                       for name, model in previous.items()}})


def advance(backend: MwaaBackend, request: Request) -> Response:
    """POST {"name": N, "region": R (default: the signing region)} -> {"Name", "Status"}: the
    environment's pending change completed now; Status is null once it is deleted."""
    name = request.body.get("name")
    if not name:
        raise ValidationError("advance needs the environment's name.")
    status = backend.advance(request.body.get("region") or request.region, name)
    return Response(200, {"Name": name, "Status": status})


def advance_token_clock(backend: MwaaBackend, request: Request) -> Response:
    """POST {"seconds": S} -> {"advanced": total}: the data-plane tokens age S seconds now,
    so a test sees a token expire without waiting its minute."""
    seconds = request.body.get("seconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ValidationError("advance-token-clock needs \"seconds\": a number, not negative.")
    return Response(200, {"advanced": backend.tokens.advance_clock(float(seconds))})
