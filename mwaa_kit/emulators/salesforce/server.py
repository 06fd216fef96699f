"""The stub's HTTPS front: a threaded stdlib http.server with TLS that reads each request,
applies the fault rules, and sends what the route in urls.py answers. No framework between
the socket and the JSON, which keeps query_all_iter well above 20,000 records/s.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from mwaa_kit.emulators.salesforce import urls
from mwaa_kit.emulators.salesforce.exceptions import ApiError, InvalidQueryLocator
from mwaa_kit.emulators.salesforce.models.backend import DAILY_API_REQUESTS, Stub
from mwaa_kit.emulators.salesforce.responses.wire import Request, Response, refusal
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError

# What each error kind of fault rule answers, in Salesforce's words.
_FAULT_ERRORS = {
    "expired_session": ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid"),
    "request_limit": ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    "server_error": ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please "
                             "include this ErrorId if you contact support: 1234567890-12345 "
                             "(-1234567890)"),
    "unavailable": ApiError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. "
                            "Please try again later."),
}
_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ssl.SSLError)


class Handler(BaseHTTPRequestHandler):
    """One connection's requests: fault rules first, then the route; every error answers as
    Salesforce's JSON list. serve() binds `stub` and `quiet` in a subclass."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm the body's last
    # segment could wait for the client's delayed ACK (~40 ms), at random, per response.
    disable_nagle_algorithm = True
    server_version = "mwaa-kit-salesforce-stub"
    stub: Stub
    quiet = False

    def log_message(self, format, *args):  # one line per request, to the log
        """One line per request on stdout, the stub's log, unless `quiet`."""
        if not self.quiet:
            print(f"{self.address_string()} {format % args}", flush=True)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        """http.server's entry for GET; _dispatch() routes it, with faults and errors."""
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        """http.server's entry for POST; _dispatch() routes it, with faults and errors."""
        self._dispatch("POST")

    def do_PATCH(self):  # noqa: N802
        """http.server's entry for PATCH; _dispatch() routes it, with faults and errors."""
        self._dispatch("PATCH")

    def do_PUT(self):  # noqa: N802
        """http.server's entry for PUT; _dispatch() routes it, with faults and errors."""
        self._dispatch("PUT")

    def do_DELETE(self):  # noqa: N802
        """http.server's entry for DELETE; _dispatch() routes it, with faults and errors."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        self._truncate = False
        try:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            # The whole body is read first: none is left unread on a kept-alive connection.
            request = Request(method, url.path, url.query, self.headers,
                              self.rfile.read(length) if length else b"", self.stub)
            response = self._respond(request)
            if response is not None:
                self._send(response, request.api_usage)
        except OSError:  # the client hung up, or spoke no TLS
            self.close_connection = True

    def _respond(self, request: Request) -> Response | None:
        """The answer to `request`, or None when a fault rule dropped the connection."""
        try:
            route = urls.resolve(request)
            internal = request.path.startswith("/__admin") or request.path == "/health"
            rule = None if internal else self.stub.faults.pick(request.path,
                                                               route.subject(request))
            if rule is not None:
                if rule.kind in _FAULT_ERRORS:
                    return refusal(_FAULT_ERRORS[rule.kind])
                if rule.kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if rule.kind == "latency":
                    time.sleep(rule.seconds)
                self._truncate = rule.kind == "truncate"
            return urls.answer(route, request)
        except (ApiError, SoqlError, InvalidQueryLocator) as error:
            return refusal(error)
        except _CONNECTION_ERRORS:
            raise
        except Exception:  # a stub bug: say so as Salesforce would, and log it
            traceback.print_exc()
            return refusal(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred "
                                    "in the mwaa-kit Salesforce stub (see its log)."))

    def _send(self, response: Response, api_usage: int) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if api_usage:
            self.send_header("Sforce-Limit-Info",
                             f"api-usage={api_usage}/{DAILY_API_REQUESTS}")
        self.end_headers()
        if self._truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)


def serve(stub: Stub, host: str, port: int, cert: Path, key: Path,
          ready: threading.Event | None = None, quiet: bool = False) -> ThreadingHTTPServer:
    """Bind `host:port` with TLS; the caller runs serve_forever()."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = type("BoundHandler", (Handler,), {"stub": stub, "quiet": quiet})
    server = _TLSServer((host, port), handler)
    server.tls = context
    if ready:
        ready.set()
    return server


class _TLSServer(ThreadingHTTPServer):
    """Handshakes in the connection's own thread, so one slow or broken client (or a
    plain-HTTP probe) never blocks accepting the next."""

    daemon_threads = True
    request_queue_size = 128
    tls: ssl.SSLContext

    def finish_request(self, request, client_address):
        try:
            secured = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            request.close()
            return
        try:
            super().finish_request(secured, client_address)
        finally:
            self.shutdown_request(secured)

    def handle_error(self, request, client_address):
        """Quiet about clients that hang up or speak no TLS; loud about anything else."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)

