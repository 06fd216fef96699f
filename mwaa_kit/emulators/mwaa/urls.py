"""The MWAA API's routing table: which handler of `responses` answers a method and path.

The paths are botocore's `mwaa` model's request URIs ({Label} is one URL-encoded path
segment); tests/unit/mwaa_emulator/test_urls.py checks the table against that model. The
emulator's own admin endpoints sit under ADMIN_PATH, as moto's under /moto-api/.
"""

from __future__ import annotations

import re
import urllib.parse

from mwaa_kit.emulators.mwaa import responses
from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.exceptions import MwaaError, NotFoundError

ADMIN_PATH = "/_mwaa_kit/state-manager"

ROUTES: tuple[tuple[str, str, responses.Handler], ...] = (
    ("PUT", "/environments/{Name}", responses.create_environment),
    ("GET", "/environments/{Name}", responses.get_environment),
    ("PATCH", "/environments/{Name}", responses.update_environment),
    ("DELETE", "/environments/{Name}", responses.delete_environment),
    ("GET", "/environments", responses.list_environments),
    ("GET", "/tags/{ResourceArn}", responses.list_tags_for_resource),
    ("POST", "/tags/{ResourceArn}", responses.tag_resource),
    ("DELETE", "/tags/{ResourceArn}", responses.untag_resource),
    ("POST", "/clitoken/{Name}", responses.create_cli_token),
    ("POST", "/webtoken/{Name}", responses.create_web_login_token),
    ("POST", "/restapi/{Name}", responses.invoke_rest_api),
    ("POST", f"{ADMIN_PATH}/set-transition", responses.set_transition),
    ("POST", f"{ADMIN_PATH}/advance", responses.advance),
    ("POST", f"{ADMIN_PATH}/advance-token-clock", responses.advance_token_clock),
)


def _pattern(uri: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(uri)) + "$")


_COMPILED = [(method, _pattern(uri), handler) for method, uri, handler in ROUTES]


def dispatch(backend: MwaaBackend, method: str, raw_path: str, headers,
             body: bytes) -> responses.Response:
    """Answer one request with the handler its method and path route to; an MwaaError (an
    unknown route's included) becomes the error answer botocore turns into ClientError."""
    parsed = urllib.parse.urlsplit(raw_path)
    path = "/" + parsed.path.strip("/")
    try:
        for route_method, pattern, handler in _COMPILED:
            match = pattern.match(path)
            if match and route_method == method:
                labels = {label: urllib.parse.unquote(value)
                          for label, value in match.groupdict().items()}
                request = responses.Request(responses.region_of(headers), labels,
                                            urllib.parse.parse_qs(parsed.query),
                                            responses.parse_body(body))
                return handler(backend, request)
        raise NotFoundError(f"{method} {parsed.path} is not an MWAA API operation.")
    except MwaaError as error:
        return responses.error_response(error)
