"""MWAA's Airflow CLI endpoint, `POST https://{WebServerHostname}/aws_mwaa/cli`, as a handler
the environment's web origin (webserver.py) routes to: `handle(backend, method, headers,
body, runner)` returns the answer's status, headers and body. It knows no Airflow: the
`runner` the runtime gives runs the command in the environment's own Airflow.

What MWAA documents (User Guide: "Creating an Apache Airflow CLI token", "Apache Airflow CLI
command reference"), and this handler does:
- the request carries `Authorization: Bearer <CliToken>` (CreateCliToken's, good 60 s) and,
  as `text/plain`, an Airflow CLI command without `airflow` (`dags trigger my_dag -c '{..}'`,
  split as a shell would split it);
- the answer is JSON `{"stdout": base64, "stderr": base64}`, the command's output;
- only the commands MWAA lists run (catalog/cli_commands.toml, per Airflow major).

What could not be confirmed from MWAA's documentation, and is this handler's choice:
- a missing, unknown or expired token: 403, `{"message": ...}` (the body MWAA sends is not
  documented);
- a command MWAA does not list: 500, a user's report of MWAA's answer
  (aws/amazon-mwaa-docker-images issue 148: unsupported commands "return Response [500]");
  the body still has the two members, stderr saying why, so documented scripts print it;
- a command that ran, whatever its exit code: 200 with its output (the documented scripts
  read only stdout and stderr);
- MWAA's time limit for a command is not published: TIMEOUT_SECONDS here, then 504; an
  Airflow that cannot run anything (the environment is down) 503; a body that is not one
  command line 400.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mwaa_kit.catalog.cli_commands import cli_rules
from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.tokens import TokenRefused

PATH = "/aws_mwaa/cli"
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class CliOutput:
    """What a command wrote: its standard output and standard error, as bytes."""

    stdout: bytes
    stderr: bytes


# What runs a command: called with the environment (as GetEnvironment describes it), the
# command's arguments (without `airflow`) and the seconds it may take; returns its output.
# TimeoutError when it takes longer, another OSError when the environment cannot run it.
CliRunner = Callable[[dict, list[str], float], CliOutput]
# An answer: HTTP status, headers, body.
Answer = tuple[int, dict[str, str], bytes]


def is_cli_path(path: str) -> bool:
    """Whether a request path (its query aside) is the CLI endpoint, with or without a
    trailing slash, as clients write both."""
    return path.split("?", 1)[0].rstrip("/") == PATH


def handle(backend: MwaaBackend, method: str, headers: Mapping[str, str], body: bytes,
           runner: CliRunner | None) -> Answer:
    """Answer one request to the CLI endpoint.

    :param backend: the MWAA backend whose CLI tokens open environments.
    :param method: the request's HTTP method (only POST runs a command).
    :param headers: the request's headers (Authorization carries the token).
    :param body: the request's body: the command line, UTF-8.
    :param runner: what runs a command in the environment's Airflow; None when this front
        has no Airflow behind it.
    """
    if method != "POST":
        return _message(405, f"{PATH} takes POST only.", {"Allow": "POST"})
    try:
        environment = backend.redeem_token("cli", _bearer(headers))
    except TokenRefused:
        return _message(403, "The CLI token is missing, unknown or expired; create one with "
                             "CreateCliToken (good for 60 seconds).")
    try:
        arguments = shlex.split(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return _output(400, stderr=f"The request body is not one command line: {error}\n")
    refusal = cli_rules(environment["AirflowVersion"]).refusal(arguments)
    if refusal:
        return _output(500, stderr=refusal + "\n")
    if runner is None:
        return _message(501, "This MWAA API has no local Airflow to run CLI commands in; the "
                             "one `mwaa-kit up` starts has.")
    try:
        output = runner(environment, arguments, TIMEOUT_SECONDS)
    except TimeoutError:
        return _output(504, stderr=f"The command did not end within {TIMEOUT_SECONDS:g} "
                                   "seconds.\n")
    except OSError as error:
        return _output(503, stderr=f"The environment's Apache Airflow could not run the "
                                   f"command: {error}\n")
    return _output(200, output.stdout, output.stderr)


def _bearer(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header; "" when there is none."""
    scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _output(status: int, stdout: bytes | str = b"", stderr: bytes | str = b"") -> Answer:
    """The endpoint's documented answer: both streams base64-encoded in a JSON object."""
    streams = {name: base64.b64encode(value.encode() if isinstance(value, str) else value)
               .decode("ascii") for name, value in (("stdout", stdout), ("stderr", stderr))}
    return status, {"Content-Type": "application/json"}, json.dumps(streams).encode()


def _message(status: int, message: str, headers: dict[str, str] | None = None) -> Answer:
    """An answer that ran no command: a JSON message."""
    return (status, {"Content-Type": "application/json", **(headers or {})},
            json.dumps({"message": message}).encode())
