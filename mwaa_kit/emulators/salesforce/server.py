"""The stub's HTTPS front: Salesforce's wire format over the store, auth and faults.

Routes (API versions v52.0 to v62.0):
  POST /  and /services/Soap/u/<v>      SOAP login
  POST /services/oauth2/token           OAuth2 password / client-credentials grants
  GET  /services/data/                  API versions
  GET  /services/data/vNN.N/query?q=    query; queryAll; /query/<locator> for next pages
  GET  /services/data/vNN.N/sobjects/   global describe; /sobjects/<Object>/describe
  GET|PATCH|DELETE /services/data/vNN.N/sobjects/<Object>/<Id>; POST .../sobjects/<Object>
  GET|POST|DELETE /__admin/faults       fault rules; GET /health
Errors are JSON lists `[{"message", "errorCode"}]` with Salesforce's status codes.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.emulators.salesforce.faults import Faults
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.store import InvalidQueryLocator, Store, salesforce_id

VERSIONS = [f"{major}.0" for major in range(52, 63)]
_DATA = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Stub:
    """Everything the handler needs, shared by its threads."""

    def __init__(self, store: Store, sessions: auth.Sessions, faults: Faults):
        self.store, self.sessions, self.faults = store, sessions, faults


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mwaa-kit-salesforce-stub"
    stub: Stub

    def log_message(self, format, *args):  # one line per request, to the log file
        print(f"{self.address_string()} {format % args}", flush=True)

    # ------------------------------------------------------------- plumbing
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: bytes, content_type: str,
              headers: dict | None = None) -> None:
        rule = getattr(self, "_truncate", None)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if rule:
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
            return
        self.wfile.write(payload)

    def _json(self, status: int, data, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json;charset=UTF-8",
                   headers)

    def _error(self, error: ApiError) -> None:
        self._json(error.status, [{"message": error.message, "errorCode": error.code}])

    def _host_url(self) -> str:
        return f"https://{self.headers.get('Host', 'localhost')}"

    def _dispatch(self, method: str) -> None:
        self._truncate = None
        path = urlsplit(self.path).path
        try:
            if not path.startswith("/__admin") and self._inject_fault(path):
                return
            self._route(method, path)
        except ApiError as error:
            self._error(error)
        except SoqlError as error:
            self._error(ApiError(400, error.code, error.message))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _inject_fault(self, path: str) -> bool:
        rule = self.stub.faults.pick(path)
        if rule is None:
            return False
        if rule.kind == "latency":
            time.sleep(rule.seconds)
            return False
        if rule.kind == "drop":
            self._body()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if rule.kind == "truncate":
            self._truncate = rule
            return False
        errors = {
            "expired_session": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
            "request_limit": (403, "REQUEST_LIMIT_EXCEEDED",
                              "TotalRequests Limit exceeded."),
            "server_error": (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."),
            "unavailable": (503, "SERVER_UNAVAILABLE", "Service temporarily unavailable."),
        }
        self._body()
        self._error(ApiError(*errors[rule.kind]))
        return True

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self._dispatch("GET")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_PATCH(self):  # noqa: N802
        self._dispatch("PATCH")

    def do_DELETE(self):  # noqa: N802
        self._dispatch("DELETE")

    # --------------------------------------------------------------- routes
    def _route(self, method: str, path: str) -> None:
        if path == "/health":
            return self._json(200, {"status": "ok"})
        if path.startswith("/__admin/faults"):
            return self._admin_faults(method)
        # A `host:port/#` domain sends every login to "/": the body's type tells them apart.
        form = "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "")
        if method == "POST" and (path == "/services/oauth2/token" or (path == "/" and form)):
            return self._oauth()
        if method == "POST" and (path == "/" or path.startswith("/services/Soap/u/")):
            return self._soap_login()
        if path.rstrip("/") == "/services/data":
            return self._json(200, [{"version": v, "label": f"API {v}",
                                     "url": f"/services/data/v{v}"} for v in VERSIONS])
        match = _DATA.match(path)
        if not match:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = match.group(1), (match.group(2) or "/").rstrip("/") or "/"
        if version not in VERSIONS:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not self.stub.sessions.valid(token):
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return self._data(method, version, rest)

    def _data(self, method: str, version: str, rest: str) -> None:
        query = parse_qs(urlsplit(self.path).query)
        parts = [unquote(p) for p in rest.strip("/").split("/") if p]
        if parts and parts[0] in ("query", "queryAll") and method == "GET":
            if len(parts) == 2:
                try:
                    return self._json(200, self.stub.store.query_more(parts[1]))
                except InvalidQueryLocator:
                    raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator") \
                        from None
            if "q" not in query:
                raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
            return self._json(200, self.stub.store.query(
                query["q"][0], version, parts[0] == "queryAll", self._batch_size()))
        if parts and parts[0] == "sobjects":
            return self._sobjects(method, version, parts[1:])
        if parts == ["limits"]:
            return self._json(200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14999}})
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _batch_size(self) -> int:
        options = self.headers.get("Sforce-Query-Options", "")
        match = re.search(r"batchSize=(\d+)", options)
        return min(2000, max(200, int(match.group(1)))) if match else 2000

    def _sobjects(self, method: str, version: str, parts: list[str]) -> None:
        objects = self.stub.store.objects
        if not parts:
            return self._json(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                {k: v for k, v in o.describe(version).items() if k not in
                 ("fields", "childRelationships")} for o in objects.values()]})
        sobject = next((o for o in objects.values() if o.name.lower() == parts[0].lower()),
                       None)
        if sobject is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if parts[1:] == ["describe"]:
            return self._json(200, sobject.describe(version))
        if len(parts) == 1 and method == "POST":
            return self._create(sobject, version)
        if len(parts) == 2:
            return self._record(method, sobject, parts[1], version)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def _create(self, sobject, version: str) -> None:
        values = self._fields(sobject)
        now = to_storage(datetime.now(UTC))
        record_id = salesforce_id(sobject.key_prefix, self.stub.store.next_number(sobject.name))
        self.stub.store.insert(sobject.name, [{**values, "Id": record_id, "IsDeleted": 0,
                                               "CreatedDate": now, "LastModifiedDate": now,
                                               "SystemModstamp": now}])
        self._json(201, {"id": record_id, "success": True, "errors": []})

    def _fields(self, sobject) -> dict:
        try:
            data = json.loads(self._body() or b"{}")
        except json.JSONDecodeError:
            raise ApiError(400, "JSON_PARSER_ERROR", "Unexpected character in body") from None
        values = {}
        for name, value in data.items():
            field = sobject.field(name)
            if field is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of "
                               f"type {sobject.name}")
            values[field.name] = int(value) if isinstance(value, bool) else value
        return values

    def _record(self, method: str, sobject, record_id: str, version: str) -> None:
        store = self.stub.store
        row = store.db.execute(f'SELECT * FROM "{sobject.name}" WHERE "Id" = ? AND '
                               '"IsDeleted" = 0', (record_id,)).fetchone()
        if row is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        names = [f.name for f in sobject.fields]
        current = dict(zip(names, row, strict=False))
        now = to_storage(datetime.now(UTC))
        if method == "GET":
            record = {"attributes": {"type": sobject.name, "url": f"/services/data/v{version}"
                                     f"/sobjects/{sobject.name}/{record_id}"}}
            for field in sobject.fields:
                value = current[field.name]
                record[field.name] = bool(value) if field.type == "boolean" and \
                    value is not None else value
            return self._json(200, record)
        if method == "PATCH":
            store.insert(sobject.name, [{**current, **self._fields(sobject),
                                         "LastModifiedDate": now, "SystemModstamp": now}])
        elif method == "DELETE":
            store.insert(sobject.name, [{**current, "IsDeleted": 1, "SystemModstamp": now}])
        else:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _soap_login(self) -> None:
        body = self._body().decode(errors="replace")
        if not self.stub.sessions.soap_login(body):
            payload = auth.soap_fault(*auth.LOGIN_FAULT).encode()
            return self._send(500, payload, "text/xml;charset=UTF-8")
        version = re.search(r"/services/Soap/u/(\d+\.\d)", self.path)
        server_url = (f"{self._host_url()}/services/Soap/u/"
                      f"{version.group(1) if version else VERSIONS[-1]}/{auth.ORGANIZATION_ID}")
        response = auth.soap_login_response(server_url, self.stub.sessions.open())
        self._send(200, response.encode(), "text/xml;charset=UTF-8")

    def _oauth(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
        if not self.stub.sessions.oauth(form):
            return self._json(400, {"error": "invalid_grant",
                                    "error_description": "authentication failure"})
        self._json(200, {
            "access_token": self.stub.sessions.open(), "instance_url": self._host_url(),
            "id": f"{self._host_url()}/id/{auth.ORGANIZATION_ID}/{auth.USER_ID}",
            "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)),
            "signature": "mwaa-kit-stub",
        })

    def _admin_faults(self, method: str) -> None:
        faults = self.stub.faults
        if method == "POST":
            try:
                rules = faults.replace(json.loads(self._body() or b"[]"))
            except (ValueError, TypeError) as error:
                raise ApiError(400, "INVALID_FAULT", str(error)) from None
            return self._json(200, rules)
        if method == "DELETE":
            faults.replace([])
            if "sessions" in urlsplit(self.path).query:
                self.stub.sessions.expire_all()
        self._json(200, faults.listing())


def serve(stub: Stub, host: str, port: int, cert: Path, key: Path,
          ready: threading.Event | None = None) -> ThreadingHTTPServer:
    """Bind `host:port` with TLS; the caller runs serve_forever()."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    handler = type("BoundHandler", (Handler,), {"stub": stub})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    if ready:
        ready.set()
    return server
