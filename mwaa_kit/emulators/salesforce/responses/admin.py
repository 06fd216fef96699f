"""The stub's own API, for tests and the CLI: GET /health, the fault rules at
/__admin/faults (GET lists, POST appends, PUT replaces, DELETE clears; `?sessions` also
expires every session) and the sessions at /__admin/sessions (DELETE expires them all,
POST {"advance_seconds": N} moves their clock N seconds ahead)."""

from __future__ import annotations

import json
import math

from mwaa_kit.emulators.salesforce.exceptions import ApiError
from mwaa_kit.emulators.salesforce.responses.wire import Request, Response, json_response


def health(request: Request) -> Response:
    """GET /health: 200 once the stub serves, with how many objects it knows."""
    return json_response(200, {"status": "ok", "objects": len(request.stub.store.objects)})


def list_faults(request: Request) -> Response:
    """The fault rules, with how often each has fired."""
    return json_response(200, request.stub.faults.listing())


def add_faults(request: Request) -> Response:
    """POST: append rules (one, or a list); the current ones keep their counters."""
    return _change_faults(request, request.stub.faults.add)


def replace_faults(request: Request) -> Response:
    """PUT: swap every rule for these (one, or a list)."""
    return _change_faults(request, request.stub.faults.replace)


def clear_faults(request: Request) -> Response:
    """DELETE: remove every rule, and with `?sessions` expire every session too."""
    request.stub.faults.replace([])
    if "sessions" in request.query_string:
        request.stub.sessions.expire_all()
    return list_faults(request)


def expire_sessions(request: Request) -> Response:
    """DELETE /__admin/sessions: every session expires, to test a client's re-login."""
    request.stub.sessions.expire_all()
    return json_response(200, {"expired": True})


def advance_sessions(request: Request) -> Response:
    """POST /__admin/sessions {"advance_seconds": N}: the sessions' clock moves N seconds
    ahead, so a test sees a ttl run out without waiting for it."""
    body = request.json()
    seconds = body.get("advance_seconds") if isinstance(body, dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or \
            not math.isfinite(seconds) or seconds < 0:
        raise ApiError(400, "INVALID_ADVANCE", "send {\"advance_seconds\": N}, N >= 0")
    request.stub.sessions.advance(seconds)
    return json_response(200, {"advanced_seconds": seconds})


def _change_faults(request: Request, change) -> Response:
    """Apply `change` (Faults.add or .replace) to the rules sent; 400 INVALID_FAULT naming
    what is wrong with them."""
    try:
        rules = json.loads(request.body or b"[]")
        return json_response(200, change([rules] if isinstance(rules, dict) else rules))
    except (ValueError, TypeError) as error:
        raise ApiError(400, "INVALID_FAULT", str(error)) from None
