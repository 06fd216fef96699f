"""The web server origin's reverse proxy: a request MWAA's own paths do not answer goes to
the environment's Apache Airflow UI (its 2.x webserver or 3.x API server, served over plain
HTTP on loopback), and Airflow's answer comes back as it is, streamed.

Airflow builds redirects from its own address (its `base_url`, or the Host header it was
sent), so a `Location` naming the upstream is rewritten to name the origin: a login or a
redirect never sends the browser off to the plain-HTTP port. Hand-written on http.client:
the stdlib server the emulator uses has no proxy, and the proxy libraries would bring a
second web framework for these few lines.
"""

from __future__ import annotations

import http.client
import urllib.parse
from http.server import BaseHTTPRequestHandler

# Headers that describe one connection, not the message (RFC 9110 7.6.1), and those the
# proxy sets itself.
_NOT_FORWARDED = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                  "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                  "host", "content-length", "expect"}
_CHUNK = 64 * 1024
UPSTREAM_TIMEOUT = 300.0  # Airflow 3 streams task logs for as long as a task runs


def forward(handler: BaseHTTPRequestHandler, upstream: str, body: bytes) -> None:
    """Send `handler`'s request (its `body` already read) to `upstream` (http://host:port)
    and answer with Airflow's response; OSError, nothing answered yet, when Airflow does not
    answer."""
    target = urllib.parse.urlsplit(upstream)
    origin = f"https://{handler.headers.get('Host') or _address(handler)}"
    headers = {name: value for name, value in handler.headers.items()
               if name.lower() not in _NOT_FORWARDED}
    headers.update({"Host": target.netloc, "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": origin.removeprefix("https://"),
                    "X-Forwarded-For": handler.client_address[0]})
    if body or handler.command in ("POST", "PUT", "PATCH"):
        headers["Content-Length"] = str(len(body))
    connection = http.client.HTTPConnection(target.hostname, target.port,
                                            timeout=UPSTREAM_TIMEOUT)
    try:
        connection.request(handler.command, handler.path, body=body or None, headers=headers)
        response = connection.getresponse()
    except OSError:
        connection.close()
        raise
    try:
        _relay(handler, response, f"{target.scheme}://{target.netloc}", origin)
    finally:
        connection.close()


def _relay(handler: BaseHTTPRequestHandler, response: http.client.HTTPResponse,
           upstream_origin: str, origin: str) -> None:
    """Airflow's status, headers (Location re-based on the origin) and body, streamed:
    with its own Content-Length when it gave one, else chunked."""
    handler.send_response(response.status, response.reason)
    for name, value in response.getheaders():
        if name.lower() in _NOT_FORWARDED:
            continue
        if name.lower() == "location" and value.startswith(upstream_origin):
            value = origin + value[len(upstream_origin):]
        handler.send_header(name, value)
    length = response.getheader("Content-Length")
    if handler.command == "HEAD" or response.status in (204, 304):
        handler.send_header("Content-Length", length or "0")
        handler.end_headers()
        return
    if length is not None:
        handler.send_header("Content-Length", length)
        handler.end_headers()
        while chunk := response.read(_CHUNK):
            handler.wfile.write(chunk)
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    while chunk := response.read1(_CHUNK):
        handler.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.flush()  # a streamed log line reaches the browser as it comes
    handler.wfile.write(b"0\r\n\r\n")


def _address(handler: BaseHTTPRequestHandler) -> str:
    host, port = handler.server.server_address[:2]
    return f"{host}:{port}"
