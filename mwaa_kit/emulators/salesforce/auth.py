"""Logins and sessions, the org's side of them: the checks of SOAP login (security token
or organizationId), OAuth2 password, JWT bearer (RS256, verified against the connected
app's certificate) and client-credentials grants, and the sessions they open. Sessions
expire `ttl` seconds after login on the sessions' clock, which a test may advance; a
request with an expired or unknown session gets 401 INVALID_SESSION_ID. The SOAP and
OAuth wire formats are responses.auth's.

Default credentials: username dev@mwaa-kit.local, password `password`, security token
`token`, connected app (consumer key / secret) mwaa-kit-client / mwaa-kit-secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    """The org's one user and its connected app; the defaults are the ones the module
    docstring lists."""

    username: str = USERNAME
    password: str = PASSWORD
    security_token: str = SECURITY_TOKEN
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET


class Sessions:
    """The session ids issued and when they expire (`ttl_seconds` after login), and the checks
    of each login flow; shared by the server's threads."""

    def __init__(self, ttl_seconds: float, credentials: Credentials = Credentials(),
                 jwt_certificate: bytes | None = None):
        self.ttl = ttl_seconds
        self.credentials = credentials
        self.jwt_certificate = jwt_certificate  # PEM of the connected app's certificate
        self._expiry: dict[str, float] = {}
        self._advanced = 0.0  # seconds added to the monotonic clock by advance()
        self._lock = threading.Lock()

    def _now(self) -> float:
        return time.monotonic() + self._advanced

    def open(self) -> str:
        """A new session id shaped like Salesforce's (org id, `!`, random), valid for the ttl."""
        token = f"{ORGANIZATION_ID[:15]}!{secrets.token_urlsafe(48)}"
        with self._lock:
            self._expiry[token] = self._now() + self.ttl
        return token

    def valid(self, token: str | None) -> bool:
        """Whether `token` was issued here and has not expired; either failure answers 401
        INVALID_SESSION_ID."""
        with self._lock:
            expiry = self._expiry.get(token or "")
            return expiry is not None and self._now() < expiry

    def expire_all(self) -> None:
        """Invalidate every session (DELETE /__admin/sessions), to test a client's re-login."""
        with self._lock:
            self._expiry.clear()

    def advance(self, seconds: float) -> None:
        """Move the sessions' clock `seconds` ahead (POST /__admin/sessions), so a test sees
        sessions expire without waiting out their ttl."""
        with self._lock:
            self._advanced += seconds

    def soap_login(self, username: str | None, password: str | None,
                   organization: str | None) -> bool:
        """True when a SOAP login carries the right username and password (password +
        security token, or the password alone with the organizationId)."""
        c = self.credentials
        if username != c.username:
            return False
        if organization:
            return organization[:15] == ORGANIZATION_ID[:15] and password == c.password
        return password == c.password + c.security_token

    def oauth(self, form: dict[str, str], basic: tuple[str, str] | None = None,
              audiences: tuple[str, ...] = ()) -> OAuthError | None:
        """None when the token request is granted, else the OAuth error to answer.

        `basic` is the (client id, secret) of an `Authorization: Basic` header, which the
        client-credentials flow may use instead of form fields; `audiences` are the `aud`
        prefixes a JWT may name besides login/test.salesforce.com."""
        c = self.credentials
        grant = form.get("grant_type")
        client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
        if grant == JWT_GRANT:
            return self._jwt(form.get("assertion") or "", audiences)
        if grant not in ("password", "client_credentials"):
            return OAuthError("unsupported_grant_type", "grant type not supported")
        if client_id != c.client_id:
            return OAuthError("invalid_client_id", "client identifier invalid")
        if client_secret != c.client_secret:
            return OAuthError("invalid_client", "invalid client credentials")
        if grant == "password" and not (form.get("username") == c.username and form.get(
                "password") in (c.password, c.password + c.security_token)):
            return OAuthError("invalid_grant", "authentication failure")
        return None

    def _jwt(self, assertion: str, audiences: tuple[str, ...]) -> OAuthError | None:
        c = self.credentials
        try:
            header, claims = verify_rs256(assertion, self.jwt_certificate)
        except ValueError:
            return OAuthError("invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            return OAuthError("invalid_grant", "invalid assertion")
        if claims.get("iss") != c.client_id:
            return OAuthError("invalid_client_id", "client identifier invalid")
        audience = str(claims.get("aud") or "")
        if not audience.startswith((*_LOGIN_AUDIENCES, *audiences)):
            return OAuthError("invalid_grant", "audience is invalid")
        try:
            expiry = float(claims.get("exp"))
        except (TypeError, ValueError):
            return OAuthError("invalid_grant", "invalid assertion")
        if expiry < time.time():
            return OAuthError("invalid_grant", "expired authorization code")
        if claims.get("sub") != c.username:
            return OAuthError("invalid_grant", "user hasn't approved this consumer")
        return None


JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass(frozen=True)
class OAuthError:
    """An OAuth token endpoint refusal: HTTP 400 `{"error", "error_description"}`."""

    error: str
    description: str


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


def verify_rs256(token: str, certificate_pem: bytes | None) -> tuple[dict, dict]:
    """(header, claims) of a compact JWS signed with RS256 by the certificate's key;
    ValueError when it is malformed or the signature does not verify."""
    if certificate_pem is None:
        raise ValueError("no certificate configured for the JWT bearer flow")
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three parts")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError("undecodable JWT") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("JWT header and claims must be objects")
    key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the JWT certificate must hold an RSA key")
    try:
        key.verify(_b64decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(),
                   padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise ValueError("bad signature") from error
    return header, claims
