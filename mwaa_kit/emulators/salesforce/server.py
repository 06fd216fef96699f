"""The stub's HTTPS front: Salesforce's wire format over the store, auth, Bulk 2.0 and
faults. A threaded stdlib http.server with TLS: no framework between the socket and the
JSON, which keeps query_all_iter well above 20,000 records/s.

Routes (API versions v52.0 to v62.0):
  POST /  and /services/Soap/u/<v>      SOAP login (a `host:port/#` domain posts to "/")
  POST /services/oauth2/token (or "/")  OAuth2 password, JWT bearer, client credentials
  GET  /services/data/                  API versions; /services/data/vNN.N/ resources
  GET  .../query?q=  .../queryAll?q=    SOQL; .../query/<locator> for the next pages
  GET  .../sobjects/                    global describe; .../sobjects/<Object>/describe
  GET|PATCH|DELETE .../sobjects/<Object>/<Id>; POST .../sobjects/<Object>
  GET|PATCH .../sobjects/<Object>/<ExternalIdField>/<value>   get / upsert by external id
  GET  .../sobjects/<Object>/updated/?start=&end=  and  .../deleted/?start=&end=
  GET  .../limits
  POST|GET .../jobs/query; GET|PATCH|DELETE .../jobs/query/<id>; GET .../results
  GET|POST|PUT|DELETE /__admin/faults   fault rules (POST appends, PUT replaces);
  DELETE /__admin/sessions              expire every session; GET /health
Errors are JSON lists `[{"message", "errorCode"}]` with Salesforce's status codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from mwaa_kit.emulators.salesforce import auth
from mwaa_kit.emulators.salesforce.bulk2 import Bulk2, BulkError
from mwaa_kit.emulators.salesforce.faults import Faults
from mwaa_kit.emulators.salesforce.schema import SObject
from mwaa_kit.emulators.salesforce.soql import dates
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError
from mwaa_kit.emulators.salesforce.store import (
    InvalidQueryLocator,
    Store,
    coerce,
    salesforce_id,
    typed,
)

VERSIONS = [f"{major}.0" for major in range(52, 63)]
DAILY_API_REQUESTS = 100000
_DATA = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_FROM = re.compile(r"\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_NOT_FOUND = (404, "NOT_FOUND", "The requested resource does not exist")


class ApiError(Exception):
    """An error answer: the HTTP `status`, Salesforce's errorCode and message, and the fields
    concerned."""

    def __init__(self, status: int, code: str, message: str, fields: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


class Stub:
    """Everything the handler needs, shared by its threads."""

    def __init__(self, store: Store, sessions: auth.Sessions, faults: Faults):
        self.store, self.sessions, self.faults = store, sessions, faults
        self.bulk2 = Bulk2(store, salesforce_id("005", 1))
        self._requests = 0
        self._lock = threading.Lock()

    def count_request(self) -> int:
        """Count one authenticated API request; the total is the api-usage of Sforce-Limit-Info
        and of /limits."""
        with self._lock:
            self._requests += 1
            return self._requests


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

    # ------------------------------------------------------------- plumbing
    def _body(self) -> bytes:
        if getattr(self, "_read", None) is not None:
            return self._read
        length = int(self.headers.get("Content-Length") or 0)
        self._read = self.rfile.read(length) if length else b""
        return self._read

    def _json_body(self):
        try:
            return json.loads(self._body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "JSON_PARSER_ERROR", "Unexpected character in the request "
                           "body: it is not JSON") from None

    def _send(self, status: int, payload: bytes, content_type: str,
              headers: dict | None = None) -> None:
        self._body()  # never leave a request body unread on a kept-alive connection
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self._api_usage:
            self.send_header("Sforce-Limit-Info", f"api-usage={self._api_usage}/"
                             f"{DAILY_API_REQUESTS}")
        self.end_headers()
        if self._truncate:
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def _json(self, status: int, data, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json;charset=UTF-8",
                   headers)

    def _no_content(self) -> None:
        self._send(204, b"", "application/json;charset=UTF-8")

    def _error(self, error: ApiError) -> None:
        body = {"message": error.message, "errorCode": error.code}
        if error.fields is not None:
            body["fields"] = error.fields
        self._json(error.status, [body])

    def _host_url(self) -> str:
        return f"https://{self.headers.get('Host', 'localhost')}"

    def _dispatch(self, method: str) -> None:
        self._truncate, self._api_usage, self._read = False, 0, None
        path = urlsplit(self.path).path
        try:
            if not path.startswith("/__admin") and path != "/health" and \
                    self._inject_fault(path):
                return
            self._route(method, path)
        except ApiError as error:
            self._error(error)
        except BulkError as error:
            self._error(ApiError(error.status, error.code, error.message))
        except SoqlError as error:
            self._error(ApiError(400, error.code, error.message))
        except InvalidQueryLocator:
            self._error(ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator"))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception:  # a stub bug: say so as Salesforce would, and log it
            traceback.print_exc()
            try:
                self._error(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred "
                                     "in the mwaa-kit Salesforce stub (see its log)."))
            except OSError:
                self.close_connection = True

    def _request_object(self, path: str) -> str | None:
        """The object a request is about, for fault rules that name one."""
        match = _DATA.match(path)
        if not match:
            return None
        parts = [unquote(p) for p in (match.group(2) or "").split("/") if p]
        if parts[:1] == ["sobjects"] and len(parts) > 1:
            return parts[1]
        if parts[:1] in (["query"], ["queryAll"]):
            if len(parts) > 1:
                cursor = self.stub.store.cursor(parts[1].partition("-")[0])
                return cursor.compiled.sobject.name if cursor else None
            found = _FROM.search(parse_qs(urlsplit(self.path).query).get("q", [""])[0])
            return found.group(1) if found else None
        if parts[:2] == ["jobs", "query"]:
            if len(parts) > 2:
                job = self.stub.bulk2.jobs.get(parts[2])
                return job.sobject if job else None
            if self.command == "POST":
                try:
                    found = _FROM.search(str(json.loads(self._body() or b"{}").get("query")))
                except (ValueError, AttributeError):
                    found = None
                return found.group(1) if found else None
        return None

    def _inject_fault(self, path: str) -> bool:
        rule = self.stub.faults.pick(path, self._request_object(path))
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
            self._truncate = True
            return False
        errors = {
            "expired_session": (401, "INVALID_SESSION_ID", "Session expired or invalid"),
            "request_limit": (403, "REQUEST_LIMIT_EXCEEDED",
                              "TotalRequests Limit exceeded."),
            "server_error": (500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. "
                             "Please include this ErrorId if you contact support: "
                             "1234567890-12345 (-1234567890)"),
            "unavailable": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. "
                            "Please try again later."),
        }
        self._error(ApiError(*errors[rule.kind]))
        return True

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

    # --------------------------------------------------------------- routes
    def _route(self, method: str, path: str) -> None:
        if path == "/health":
            return self._json(200, {"status": "ok", "objects": len(self.stub.store.objects)})
        if path.startswith("/__admin/"):
            return self._admin(method, path)
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
        if not match or match.group(1) not in VERSIONS:
            raise ApiError(*_NOT_FOUND)
        version, rest = match.group(1), (match.group(2) or "/")
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not self.stub.sessions.valid(token):
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self._api_usage = self.stub.count_request()
        return self._data(method, version, rest)

    def _data(self, method: str, version: str, rest: str) -> None:
        query = parse_qs(urlsplit(self.path).query)
        parts = [unquote(p) for p in rest.split("/") if p]
        base = f"/services/data/v{version}"
        if not parts and method == "GET":
            return self._json(200, {name: f"{base}/{name}" for name in (
                "sobjects", "query", "queryAll", "limits", "jobs/query")})
        if parts[:1] in (["query"], ["queryAll"]) and method == "GET":
            if len(parts) == 2:
                return self._json(200, self.stub.store.query_more(parts[1]))
            if len(parts) > 2:
                raise ApiError(*_NOT_FOUND)
            if not query.get("q", [""])[0].strip():
                raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
            return self._json(200, self.stub.store.query(
                query["q"][0], version, parts[0] == "queryAll", self._batch_size()))
        if parts[:1] == ["sobjects"]:
            return self._sobjects(method, version, parts[1:], query)
        if parts == ["limits"] and method == "GET":
            return self._json(200, self._limits())
        if parts[:2] == ["jobs", "query"]:
            return self._bulk(method, version, parts[2:], query)
        raise ApiError(*_NOT_FOUND)

    def _batch_size(self) -> int:
        options = self.headers.get("Sforce-Query-Options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options)
        return min(2000, max(200, int(match.group(1)))) if match else 2000

    def _limits(self) -> dict:
        used = self._api_usage

        def limit(maximum: int, used_now: int = 0) -> dict:
            return {"Max": maximum, "Remaining": max(0, maximum - used_now)}

        return {
            "DailyApiRequests": limit(DAILY_API_REQUESTS, used),
            "DailyBulkV2QueryJobs": limit(10000, len(self.stub.bulk2.jobs)),
            "DailyBulkV2QueryFileStorageMB": limit(976562),
            "DailyBulkApiBatches": limit(15000), "DailyAsyncApexExecutions": limit(250000),
            "DataStorageMB": limit(5120), "FileStorageMB": limit(20480),
            "ConcurrentAsyncGetReportInstances": limit(200),
            "HourlyODataCallout": limit(10000), "SingleEmail": limit(5000),
        }

    # ------------------------------------------------------------- sobjects
    def _object(self, name: str) -> SObject:
        found = next((o for o in self.stub.store.objects.values()
                      if o.name.lower() == name.lower()), None)
        if found is None:
            raise ApiError(*_NOT_FOUND)
        return found

    def _sobjects(self, method: str, version: str, parts: list[str], query: dict) -> None:
        objects = self.stub.store.objects
        if not parts:
            if method != "GET":
                raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not "
                               "allowed. Allowed are GET,HEAD")
            return self._json(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                o.summary(version) for o in objects.values()]})
        sobject = self._object(parts[0])
        rest = parts[1:]
        if not rest:
            if method == "POST":
                return self._create(sobject)
            if method == "GET":
                return self._json(200, {"objectDescribe": sobject.summary(version),
                                         "recentItems": []})
        elif rest == ["describe"] and method == "GET":
            return self._json(200, sobject.describe(version))
        elif rest[0] in ("updated", "deleted") and len(rest) == 1 and method == "GET":
            return self._changes(sobject, rest[0], query)
        elif len(rest) == 1:
            return self._record(method, sobject, rest[0], version, query)
        elif len(rest) == 2:
            return self._by_external_id(method, sobject, rest[0], rest[1], version)
        raise ApiError(*_NOT_FOUND)

    def _fields(self, sobject: SObject, creating: bool) -> dict:
        data = self._json_body()
        if not isinstance(data, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of "
                           f"{sobject.name} from a non-object value")
        values, locked = {}, []
        for name, value in data.items():
            if name == "attributes":
                continue
            field = sobject.field(name)
            if field is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of "
                               f"type {sobject.name}")
            if field.system or field.type == "id":
                locked.append(field.name)
                continue
            values[field.name] = _coerce(field, value)
        if locked:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update "
                           f"fields: {', '.join(locked)}. Please check the security settings "
                           "of this field and verify that it is read/write for your profile "
                           "or permission set.", locked)
        if creating:
            missing = [f.name for f in sobject.fields if f.required and
                       values.get(f.name) in (None, "")]
            if missing:
                raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: "
                               f"[{', '.join(missing)}]", missing)
        for field_name, value in values.items():
            field = sobject.field(field_name)
            if field.type == "reference" and value:
                target = self.stub.store.objects.get(field.reference_to)
                if target is None or self.stub.store.get(target.name, value) is None:
                    raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross "
                                   "reference id", [field.name])
        return values

    def _create(self, sobject: SObject) -> None:
        record_id = self.stub.store.create(sobject.name, self._fields(sobject, creating=True))
        self._json(201, {"id": record_id, "success": True, "errors": []})

    def _live(self, sobject: SObject, record_id: str) -> dict:
        current = self.stub.store.get(sobject.name, record_id, include_deleted=True)
        if current is None:
            raise ApiError(*_NOT_FOUND)
        if current["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return current

    def _render(self, sobject: SObject, current: dict, version: str,
                fields: list[str] | None = None) -> dict:
        record = {"attributes": {"type": sobject.name, "url": f"/services/data/v{version}"
                                 f"/sobjects/{sobject.name}/{current['Id']}"}}
        chosen = sobject.fields
        if fields:
            chosen = []
            for name in fields:
                field = sobject.field(name.strip())
                if field is None:
                    raise ApiError(400, "INVALID_FIELD", f"No such column '{name.strip()}' on "
                                   f"entity '{sobject.name}'.")
                chosen.append(field)
        for field in chosen:
            record[field.name] = typed(field.type, current[field.name])
        return record

    def _record(self, method: str, sobject: SObject, record_id: str, version: str,
                query: dict) -> None:
        if method == "GET":
            current = self.stub.store.get(sobject.name, record_id)
            if current is None:
                raise ApiError(*_NOT_FOUND)
            fields = query.get("fields", [""])[0]
            return self._json(200, self._render(sobject, current, version,
                                                fields.split(",") if fields else None))
        if method == "PATCH":
            current = self._live(sobject, record_id)
            self.stub.store.update(sobject.name, current, self._fields(sobject, False))
            return self._no_content()
        if method == "DELETE":
            self.stub.store.delete(sobject.name, self._live(sobject, record_id))
            return self._no_content()
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                       "Allowed are HEAD,GET,PATCH,DELETE")

    def _by_external_id(self, method: str, sobject: SObject, field_name: str, value: str,
                        version: str) -> None:
        field = sobject.field(field_name)
        if field is None or not (field.external_id or field.name == "Id"):
            raise ApiError(404, "NOT_FOUND", f"Provided external ID field does not exist or "
                           f"is not accessible: {field_name}")
        found = ([r for r in [self.stub.store.get(sobject.name, value)] if r]
                 if field.name == "Id" else self.stub.store.find(sobject.name, field.name,
                                                                 value))
        if len(found) > 1:
            urls = [f"/services/data/v{version}/sobjects/{sobject.name}/{r['Id']}"
                    for r in found]
            return self._json(300, urls)
        if method == "GET":
            if not found:
                raise ApiError(*_NOT_FOUND)
            return self._json(200, self._render(sobject, found[0], version))
        if method != "PATCH":
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                           "Allowed are HEAD,GET,PATCH")
        if found:
            values = self._fields(sobject, creating=False)
            self.stub.store.update(sobject.name, found[0], values)
            return self._json(200, {"id": found[0]["Id"], "success": True, "errors": [],
                                    "created": False})
        if field.name == "Id":
            raise ApiError(*_NOT_FOUND)
        values = self._fields(sobject, creating=False)
        values[field.name] = _coerce(field, value)
        missing = [f.name for f in sobject.fields if f.required and
                   values.get(f.name) in (None, "")]
        if missing:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: "
                           f"[{', '.join(missing)}]", missing)
        record_id = self.stub.store.create(sobject.name, values)
        self._json(201, {"id": record_id, "success": True, "errors": [], "created": True})

    def _changes(self, sobject: SObject, which: str, query: dict) -> None:
        try:
            start = dates.parse_datetime(query["start"][0])
            end = dates.parse_datetime(query["end"][0])
        except (KeyError, ValueError):
            raise ApiError(400, "INVALID_DATE_FORMAT" if "start" in query and "end" in query
                           else "MISSING_ARGUMENT", "start and end are required, as ISO 8601 "
                           "datetimes such as 2024-01-01T00:00:00+00:00") from None
        if end < start:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "end must not be before start")
        rows = self.stub.store.changed(sobject.name, start, end, which == "deleted")
        covered = dates.to_storage(end.replace(second=0, microsecond=0))
        if which == "updated":
            return self._json(200, {"ids": [r[0] for r in rows], "latestDateCovered": covered})
        self._json(200, {"deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
                         "earliestDateAvailable": rows[0][1] if rows else covered,
                         "latestDateCovered": covered})

    # ----------------------------------------------------------------- bulk
    def _bulk(self, method: str, version: str, parts: list[str], query: dict) -> None:
        bulk = self.stub.bulk2
        user = salesforce_id("005", 1)
        if not parts:
            if method == "POST":
                body = self._json_body()
                if not isinstance(body, dict):
                    raise ApiError(400, "INVALIDJOB", "Send the job as a JSON object")
                return self._json(200, bulk.create(body, version).info(user))
            if method == "GET":
                return self._json(200, {"done": True, "records": [
                    j.info(user) for j in bulk.listing()], "nextRecordsUrl": None})
        elif len(parts) == 1:
            if method == "GET":
                return self._json(200, bulk.status(parts[0]).info(user))
            if method == "PATCH":
                body = self._json_body()
                if not isinstance(body, dict) or body.get("state") != "Aborted":
                    raise ApiError(400, "INVALIDJOBSTATE", "A query job can only be set to "
                                   "Aborted")
                return self._json(200, bulk.abort(parts[0]).info(user))
            if method == "DELETE":
                bulk.delete(parts[0])
                return self._no_content()
        elif parts[1:] == ["results"] and method == "GET":
            try:
                max_records = int(query["maxRecords"][0]) if "maxRecords" in query else None
            except ValueError:
                raise ApiError(400, "INVALID_MAX_RECORDS", "maxRecords must be a positive "
                               "integer") from None
            if max_records is not None and max_records < 1:
                raise ApiError(400, "INVALID_MAX_RECORDS", "maxRecords must be positive")
            try:
                body, locator, count = bulk.results(parts[0], query.get("locator", [""])[0],
                                                    max_records)
            except InvalidQueryLocator:
                raise ApiError(400, "INVALID_LOCATOR", "Invalid locator") from None
            return self._send(200, body, "text/csv", {"Sforce-Locator": locator,
                                                      "Sforce-NumberOfRecords": str(count)})
        raise ApiError(*_NOT_FOUND)

    # ---------------------------------------------------------------- login
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
        form = {k: v[0] for k, v in parse_qs(self._body().decode(errors="replace")).items()}
        basic = None
        authorization = self.headers.get("Authorization") or ""
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
            basic = (client_id, secret)
        refusal = self.stub.sessions.oauth(form, basic, audiences=(self._host_url(),))
        if refusal is not None:
            return self._json(400, refusal.to_dict())
        issued = str(int(time.time() * 1000))
        answer = {
            "access_token": self.stub.sessions.open(), "instance_url": self._host_url(),
            "id": f"{self._host_url()}/id/{auth.ORGANIZATION_ID}/{auth.USER_ID}",
            "token_type": "Bearer", "issued_at": issued, "scope": "api",
        }
        # Salesforce signs id + issued_at with the consumer secret (HMAC-SHA256, base64).
        digest = hmac.new(self.stub.sessions.credentials.client_secret.encode(),
                          (answer["id"] + issued).encode(), hashlib.sha256).digest()
        answer["signature"] = base64.b64encode(digest).decode()
        self._json(200, answer)

    # ---------------------------------------------------------------- admin
    def _admin(self, method: str, path: str) -> None:
        faults = self.stub.faults
        if path.rstrip("/") == "/__admin/sessions" and method == "DELETE":
            self.stub.sessions.expire_all()
            return self._json(200, {"expired": True})
        if path.rstrip("/") != "/__admin/faults":
            raise ApiError(*_NOT_FOUND)
        if method in ("POST", "PUT"):
            try:
                rules = json.loads(self._body() or b"[]")
                if isinstance(rules, dict):
                    rules = [rules]
                listing = faults.add(rules) if method == "POST" else faults.replace(rules)
            except (ValueError, TypeError) as error:
                raise ApiError(400, "INVALID_FAULT", str(error)) from None
            return self._json(200, listing)
        if method == "DELETE":
            faults.replace([])
            if "sessions" in urlsplit(self.path).query:
                self.stub.sessions.expire_all()
        self._json(200, faults.listing())


def _coerce(field, value):
    """A JSON value as the store keeps it, or 400 as Salesforce answers a bad value."""
    try:
        return coerce(field, value)
    except ValueError as error:
        raise ApiError(400, "JSON_PARSER_ERROR", str(error)) from None


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

