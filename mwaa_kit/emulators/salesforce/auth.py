"""Logins and sessions: SOAP login (security token or organizationId), OAuth2 password
and client-credentials grants. Sessions expire after a configurable time."""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass

USERNAME = "dev@mwaa-kit.local"
PASSWORD = "password"
SECURITY_TOKEN = "token"
CLIENT_ID = "mwaa-kit-client"
CLIENT_SECRET = "mwaa-kit-secret"
ORGANIZATION_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"

LOGIN_FAULT = ("INVALID_LOGIN", "Invalid username, password, security token; or user "
               "locked out.")


@dataclass(frozen=True)
class Credentials:
    username: str = USERNAME
    password: str = PASSWORD
    security_token: str = SECURITY_TOKEN
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


class Sessions:
    def __init__(self, ttl_seconds: float, credentials: Credentials = Credentials()):
        self.ttl = ttl_seconds
        self.credentials = credentials
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def open(self) -> str:
        token = f"{ORGANIZATION_ID[:15]}!{secrets.token_urlsafe(48)}"
        with self._lock:
            self._expiry[token] = time.monotonic() + self.ttl
        return token

    def valid(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._expiry.get(token or "")
        return expiry is not None and time.monotonic() < expiry

    def expire_all(self) -> None:
        with self._lock:
            self._expiry.clear()

    def soap_login(self, body: str) -> bool:
        """True when the SOAP envelope carries the right username and password
        (password + security token, or the password alone with the organizationId)."""
        username = _element(body, "username")
        password = _element(body, "password")
        organization = _element(body, "organizationId")
        c = self.credentials
        if username != c.username:
            return False
        if organization:
            return organization[:15] == ORGANIZATION_ID[:15] and password == c.password
        return password == c.password + c.security_token

    def oauth(self, form: dict[str, str]) -> bool:
        c = self.credentials
        grant = form.get("grant_type")
        client_ok = form.get("client_id") == c.client_id and form.get(
            "client_secret") == c.client_secret
        if grant == "password":
            return client_ok and form.get("username") == c.username and form.get(
                "password") in (c.password, c.password + c.security_token)
        return grant == "client_credentials" and client_ok


def _element(body: str, name: str) -> str | None:
    match = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", body, re.DOTALL)
    if not match:
        return None
    value = match.group(1)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"),
                         ("&amp;", "&")):
        value = value.replace(entity, char)
    return value


def soap_login_response(server_url: str, session_id: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
        f"<metadataServerUrl>{server_url}</metadataServerUrl>"
        "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
        f"<serverUrl>{server_url}</serverUrl><sessionId>{session_id}</sessionId>"
        f"<userId>{USER_ID}</userId><userInfo><organizationId>{ORGANIZATION_ID}"
        f"</organizationId><userName>{USERNAME}</userName></userInfo>"
        "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
    )


def soap_fault(code: str, message: str) -> str:
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
