"""The environment's web server origin, `https://{WebServerHostname}`: MWAA's own paths
beside the Apache Airflow UI, on one HTTPS origin as on MWAA (clients such as the Amazon
provider's MwaaHook and MWAA's documented curl hard-code `https://`).

- GET /aws_mwaa/aws-console-sso?login=true#<WebToken>: the browser's web login. The token
  is in the fragment, which never reaches a server: the page's script reads it and posts
  it to the login path.
- POST /aws_mwaa/login (as on Airflow 2) or /pluginsv2/aws_mwaa/login (Airflow 3), form
  `token=<WebToken>`: the token is redeemed (one kind, one environment, 60 s: `tokens`), and
  the answer sets the cookies that make the holder Admin of Airflow (the session cookie on
  2.x, `_token` on 3.x), then sends a browser on to the UI. A refused token answers 403.
- POST /aws_mwaa/cli, a CLI token as Bearer: an Airflow CLI command (`cli_endpoint`).
- Anything else: Airflow's UI, reverse-proxied (`proxy`).

Airflow-agnostic: the runtime gives the upstream URL, the `WebLogin` that logs in to its
Airflow and the `CliRunner` that runs its CLI; the emulator only routes and redeems.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mwaa_kit.emulators.mwaa import cli_endpoint, proxy, tokens
from mwaa_kit.emulators.mwaa.backend import MwaaBackend

SSO_PATH = "/aws_mwaa/aws-console-sso"
LOGIN_PATHS = ("/aws_mwaa/login", "/pluginsv2/aws_mwaa/login")
# Logs in to the environment's Airflow as the identity a web token maps to (Admin locally):
# called with the environment, it returns the cookies to hand over; OSError when Airflow
# does not answer or refuses.
WebLogin = Callable[[dict], dict[str, str]]

# The page posts to LOGIN_PATHS[0], which both majors answer.
_SSO_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Signing in to Apache Airflow</title></head>
<body><p id="status">Signing in to Apache Airflow&hellip;</p>
<noscript>The web login needs JavaScript.</noscript>
<form id="login" method="post" action="/aws_mwaa/login"><input type="hidden" name="token"></form>
<script>
  const token = decodeURIComponent(window.location.hash.slice(1));
  history.replaceState(null, "", window.location.pathname + window.location.search);
  if (token) {
    const form = document.getElementById("login");
    form.elements.token.value = token;
    form.submit();
  } else {
    document.getElementById("status").textContent =
      "No web login token: open the URL with #<WebToken> from CreateWebLoginToken.";
  }
</script></body></html>
"""
_LANDING_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=/">
<title>Signed in</title></head><body><a href="/">Open Apache Airflow</a></body></html>
"""
_REFUSED = ("The web login token is invalid or has expired (a token lasts 60 seconds): "
            "create a new one with CreateWebLoginToken.")


@dataclass(frozen=True)
class Answer:
    """One answer of MWAA's own paths."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def route(backend: MwaaBackend, login: WebLogin, method: str, raw_path: str, headers,
          body: bytes, cli_runner: cli_endpoint.CliRunner | None = None) -> Answer | None:
    """MWAA's answer to the request, or None when it is Airflow's to answer (proxied)."""
    path = urllib.parse.urlsplit(raw_path).path
    if cli_endpoint.is_cli_path(path):
        status, answer_headers, payload = cli_endpoint.handle(backend, method, headers, body,
                                                              cli_runner)
        content_type = answer_headers.pop("Content-Type")
        return Answer(status, payload, content_type, list(answer_headers.items()))
    if path == SSO_PATH and method in ("GET", "HEAD"):
        return Answer(200, _SSO_PAGE.encode(), "text/html; charset=utf-8",
                      [("Cache-Control", "no-store")])
    if path in LOGIN_PATHS and method == "POST":
        return web_login(backend, login, body)
    return None


def web_login(backend: MwaaBackend, login: WebLogin, body: bytes) -> Answer:
    """Redeem the form's web token and hand over Airflow's Admin cookies (Secure,
    HttpOnly, as Airflow's own), with a page that opens the UI; 403 for a refused token,
    502 when Airflow cannot log in."""
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    try:
        environment = backend.redeem_token("web", (form.get("token") or [""])[0])
    except tokens.TokenRefused:
        return _error(403, _REFUSED)
    try:
        cookies = login(environment)
    except OSError as error:
        return _error(502, f"The environment's Apache Airflow web server could not log you "
                           f"in: {error}")
    headers = [("Set-Cookie", f"{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax")
               for name, value in cookies.items()]
    return Answer(200, _LANDING_PAGE, "text/html; charset=utf-8",
                  [*headers, ("Cache-Control", "no-store")])


def _error(status: int, message: str) -> Answer:
    return Answer(status, json.dumps({"message": message}).encode())


class WebServer(ThreadingHTTPServer):
    """The origin over HTTPS: `backend` redeems tokens, `login` logs in to Airflow,
    everything else goes to `upstream`. The TLS handshake is made in the request's own
    thread, so a slow client holds up no other.

    :param port: the loopback port to serve on.
    :param backend: the MWAA API's state, which issued the tokens.
    :param upstream: the Airflow UI's URL (http://127.0.0.1:PORT).
    :param login: the runtime's `WebLogin`.
    :param certificate: the server certificate chain (PEM), signed by the kit's CA.
    :param key: its private key (PEM).
    :param host: the loopback address to serve on.
    :param cli_runner: the runtime's `cli_endpoint.CliRunner`; without it /aws_mwaa/cli
        answers 501.
    """

    daemon_threads = True

    def __init__(self, port: int, backend: MwaaBackend, upstream: str, login: WebLogin,
                 certificate: Path, key: Path, host: str = "127.0.0.1",
                 cli_runner: cli_endpoint.CliRunner | None = None):
        super().__init__((host, port), _Handler)
        self.backend, self.upstream, self.login = backend, upstream, login
        self.cli_runner = cli_runner
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate, key)

    def get_request(self):
        """The accepted connection wrapped in TLS, its handshake left to the first read."""
        connection, address = super().get_request()
        return self.context.wrap_socket(connection, server_side=True,
                                        do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        """One line, not a traceback: a browser that drops a connection or refuses the
        certificate is no server failure."""
        sys.stderr.write(f"web server: {client_address[0]}: {sys.exc_info()[1]!r}\n")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mwaa-kit-webserver"
    server: WebServer

    def _handle(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send(_error(411, "Send the request body with a Content-Length."))
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = route(self.server.backend, self.server.login, self.command, self.path,
                       self.headers, body, self.server.cli_runner)
        if answer is not None:
            self._send(answer)
            return
        try:
            proxy.forward(self, self.server.upstream, body)
        except OSError as error:
            self._send(_error(502, f"The environment's Apache Airflow web server did not "
                                   f"answer: {error}. Is it up (`mwaa-kit status`)?"))

    def _send(self, answer: Answer) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = _handle

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        # The request line holds no secret: the web token travels in a fragment or a body,
        # the CLI token in a header, a CLI command in a body.
        sys.stderr.write(f"web {self.address_string()} {format % args}\n")
