"""A fake Apache Airflow web server for the local MWAA API's tests: the logins of both
majors (3.x's JWT from /auth/token, 2.x's form login and session cookie) and a REST API as
far as InvokeRestApi and the web login need it."""

from __future__ import annotations

import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from mwaa_kit import catalog
from mwaa_kit.emulators.mwaa import restapi
from mwaa_kit.runtime.processes import free_port

PASSWORD = "s3cret"
VERSIONS = {2: "2.11.0", 3: "3.3.1"}


class FakeAirflow(ThreadingHTTPServer):
    """Airflow's REST API as far as these tests need it: logins of both majors, a DAG named
    `hello`, and endpoints that echo, fail, stall or answer too much."""

    def __init__(self, major: int):
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.major = major
        self.prefix = catalog.get_version(VERSIONS[major]).rest_api_prefix
        self.credentials: set[str] = set()  # valid tokens (3.x) or session cookies (2.x)
        self.logins = 0
        self.stall = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeAirflow

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, payload=None, headers: dict | None = None) -> None:
        data = b"" if payload is None else (
            payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log_in(self, method: str, body: bytes) -> bool:
        """The login endpoints of both majors; True when the request was one."""
        path = urllib.parse.urlsplit(self.path).path
        if self.server.major == 3 and (method, path) == ("POST", "/auth/token"):
            if json.loads(body) != {"username": "admin", "password": PASSWORD}:
                self._answer(401, {"detail": "Invalid credentials"})
                return True
            self.server.logins += 1
            token = f"jwt-{self.server.logins}"
            self.server.credentials.add(f"Bearer {token}")
            self._answer(201, {"access_token": token})
            return True
        if self.server.major == 2 and path in ("/login/", "/"):
            if method == "GET":
                self._answer(200, b'<input id="csrf_token" name="csrf_token" type="hidden" '
                                  b'value="csrf-1">')
                return True
            form = urllib.parse.parse_qs(body.decode())
            if form == {"username": ["admin"], "password": [PASSWORD], "csrf_token": ["csrf-1"]}:
                self.server.logins += 1
                self.server.credentials.add(f"session=s-{self.server.logins}")
                self._answer(302, None, {"Location": "/",
                                         "Set-Cookie": f"session=s-{self.server.logins}; Path=/"})
            else:
                self._answer(200, b"<form>try again</form>")
            return True
        return False

    def _public(self, body: bytes) -> bool:
        """The UI's pages no login guards, as far as the web origin's proxy is tested: an
        absolute redirect built from Airflow's own address, a streamed (chunked) answer, and
        an echo of what reached Airflow. True when the request was one."""
        path = urllib.parse.urlsplit(self.path).path
        if path == "/go-home":
            self._answer(302, None, {"Location": f"{self.server.url}/home"})
        elif path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"line 1\n", b"line 2\n"):
                self.wfile.write(b"%X\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/seen":
            self._answer(200, {"method": self.command, "path": self.path,
                               "body": body.decode(), "headers": dict(self.headers.items())})
        else:
            return False
        return True

    def _handle(self):
        body = self._body()
        if self._log_in(self.command, body) or self._public(body):
            return
        credential = self.headers.get("Authorization") or self.headers.get("Cookie")
        if credential not in self.server.credentials:
            self._answer(401, {"detail": "Not authenticated"})
            return
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.removeprefix(self.server.prefix)
        if path == "/echo":
            self._answer(200, {"method": self.command, "query": urllib.parse.parse_qs(
                parsed.query), "body": json.loads(body) if body else None})
        elif path == "/dags":
            self._answer(200, {"dags": [{"dag_id": "hello"}], "total_entries": 1})
        elif path == "/dags/hello/dagRuns" and self.command == "POST":
            self._answer(200, {"dag_run_id": "manual__1", "state": "queued",
                               "conf": json.loads(body).get("conf")})
        elif path == "/dags/hello" and self.command == "DELETE":
            self._answer(204)
        elif path == "/boom":
            self._answer(500, {"detail": "boom"})
        elif path == "/slow":
            time.sleep(self.server.stall)
            self._answer(200, {})
        elif path == "/huge":
            self._answer(200, json.dumps("x" * restapi.MAX_RESPONSE_BYTES).encode())
        else:
            self._answer(404, {"detail": f"{path} was not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

