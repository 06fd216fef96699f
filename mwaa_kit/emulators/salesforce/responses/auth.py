"""The login endpoints' wire formats: the SOAP login (envelope in, loginResponse or
LoginFault out) and the OAuth2 token endpoint (form in, token JSON out). Whether a login
is granted is auth.Sessions'."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from urllib.parse import parse_qs

from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.emulators.salesforce.responses.rest import VERSIONS
from mwaa_kit.emulators.salesforce.responses.wire import Request, Response, json_response

_XML = "text/xml;charset=UTF-8"
_SOAP_VERSION = re.compile(r"/services/Soap/u/(\d+\.\d)")


def login(request: Request) -> Response:
    """POST /: a `host:port/#` domain sends every login to "/", so the body's type tells
    an OAuth token request (a form) from a SOAP login."""
    if "x-www-form-urlencoded" in (request.headers.get("Content-Type") or ""):
        return oauth_token(request)
    return soap_login(request)


def soap_login(request: Request) -> Response:
    """POST /services/Soap/u/<v>: the session id and serverUrl, or a LoginFault (500)."""
    body = request.body.decode(errors="replace")
    sessions = request.stub.sessions
    if not sessions.soap_login(_element(body, "username"), _element(body, "password"),
                               _element(body, "organizationId")):
        return Response(500, _soap_fault(*auth.LOGIN_FAULT).encode(), _XML)
    version = _SOAP_VERSION.search(request.path)
    server_url = (f"{request.host_url}/services/Soap/u/"
                  f"{version.group(1) if version else VERSIONS[-1]}/{auth.ORGANIZATION_ID}")
    return Response(200, _soap_login_response(server_url, sessions.open()).encode(), _XML)


def oauth_token(request: Request) -> Response:
    """POST /services/oauth2/token: password, JWT bearer or client-credentials grant; the
    token, signed as Salesforce signs it, or 400 with the OAuth error."""
    form = {k: v[0] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
    basic = None
    authorization = request.headers.get("Authorization") or ""
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except (ValueError, UnicodeDecodeError):
            decoded = ":"
        client_id, _, secret = decoded.partition(":")
        basic = (client_id, secret)
    sessions = request.stub.sessions
    refusal = sessions.oauth(form, basic, audiences=(request.host_url,))
    if refusal is not None:
        return json_response(400, {"error": refusal.error,
                                   "error_description": refusal.description})
    issued = str(int(time.time() * 1000))
    answer = {
        "access_token": sessions.open(), "instance_url": request.host_url,
        "id": f"{request.host_url}/id/{auth.ORGANIZATION_ID}/{auth.USER_ID}",
        "token_type": "Bearer", "issued_at": issued, "scope": "api",
    }
    # Salesforce signs id + issued_at with the consumer secret (HMAC-SHA256, base64).
    digest = hmac.new(sessions.credentials.client_secret.encode(),
                      (answer["id"] + issued).encode(), hashlib.sha256).digest()
    answer["signature"] = base64.b64encode(digest).decode()
    return json_response(200, answer)


def _element(body: str, name: str) -> str | None:
    """The text of the SOAP element `name` (any namespace prefix), entities decoded."""
    match = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", body, re.DOTALL)
    if not match:
        return None
    value = match.group(1)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        value = value.replace(entity, char)
    return value


def _soap_login_response(server_url: str, session_id: str) -> str:
    """The SOAP loginResponse: clients take the session id and their API host from
    `server_url`."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{server_url}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{server_url}</serverUrl><sessionId>{session_id}</sessionId>"
        f"<userId>{auth.USER_ID}</userId><userInfo><organizationId>{auth.ORGANIZATION_ID}"
        f"</organizationId><userName>{auth.USERNAME}</userName></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def _soap_fault(code: str, message: str) -> str:
    """A SOAP LoginFault envelope, as Salesforce answers a refused login (with HTTP 500)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {message}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{message}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
