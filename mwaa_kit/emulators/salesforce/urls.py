"""The stub's routing table, as moto's urls.py is: method and path pattern -> the response
that answers (API versions v52.0 to v62.0).

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
  /__admin/faults, /__admin/sessions, /health: the stub's own API (responses.admin)

The first route whose method and pattern match answers. `api` routes (under
/services/data/vNN.N) need a session and count against the API limit; `subject` names the
object a request is about, which fault rules may select on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from mwaa_kit.emulators.salesforce.exceptions import ApiError, not_found
from mwaa_kit.emulators.salesforce.responses import admin, auth, bulk2, query, rest
from mwaa_kit.emulators.salesforce.responses.wire import Request, Response

_FROM = re.compile(r"\bfrom\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def _named(request: Request) -> str | None:
    """The object the path names (.../sobjects/<Object>/...)."""
    return request.params.get("sobject")


def _queried(request: Request) -> str | None:
    """The object in the FROM of the query string's q."""
    found = _FROM.search(request.arg("q"))
    return found.group(1) if found else None


def _located(request: Request) -> str | None:
    """The object of the query a nextRecordsUrl continues."""
    cursor = request.stub.queries.cursor(request.params["locator"].partition("-")[0])
    return cursor.compiled.sobject.name if cursor else None


def _job_query(request: Request) -> str | None:
    """The object in the FROM of a job request's query."""
    try:
        found = _FROM.search(str(json.loads(request.body or b"{}").get("query")))
    except (ValueError, AttributeError):
        found = None
    return found.group(1) if found else None


def _job(request: Request) -> str | None:
    """The object of the Bulk job the path names."""
    job = request.stub.bulk2.jobs.get(request.params["job"])
    return job.sobject if job else None


@dataclass(frozen=True)
class Route:
    """One row of the table: the methods it answers (None: any), its path pattern, the
    response, whether it is a versioned API resource, and its fault subject."""

    methods: frozenset[str] | None
    pattern: re.Pattern
    handler: Callable[[Request], Response]
    api: bool
    subject: Callable[[Request], str | None]


def _route(methods: str, path: str, handler: Callable[[Request], Response],
           subject: Callable[[Request], str | None] = _named) -> Route:
    api = path.startswith(_V)
    return Route(None if methods == "*" else frozenset(methods.split("|")),
                 re.compile(path + "/?"), handler, api, subject)


_V = r"/services/data/v(?P<version>\d+\.\d)"
_S = _V + r"/sobjects/(?P<sobject>[^/]+)"
_JOBS = _V + "/jobs/query"
_JOB = _JOBS + "/(?P<job>[^/]+)"
_FAULTS = "/__admin/faults"

ROUTES = [
    _route("*", "/health", admin.health),
    _route("DELETE", "/__admin/sessions", admin.expire_sessions),
    _route("POST", "/__admin/sessions", admin.advance_sessions),
    _route("POST", _FAULTS, admin.add_faults),
    _route("PUT", _FAULTS, admin.replace_faults),
    _route("DELETE", _FAULTS, admin.clear_faults),
    _route("*", _FAULTS, admin.list_faults),
    _route("POST", "/services/oauth2/token", auth.oauth_token),
    _route("POST", "", auth.login),
    _route("POST", "/services/Soap/u/.*", auth.soap_login),
    _route("*", "/services/data", rest.versions),
    _route("GET", _V, rest.resources),
    _route("GET", _V + "/(?P<api>query|queryAll)", query.query, _queried),
    _route("GET", _V + "/(?:query|queryAll)/(?P<locator>[^/]+)", query.query_more,
           _located),
    _route("GET", _V + "/limits", rest.limits),
    _route("GET", _V + "/sobjects", rest.global_describe),
    _route("*", _V + "/sobjects", rest.not_allowed("GET,HEAD")),
    _route("POST", _S, rest.create),
    _route("GET", _S, rest.object_info),
    _route("GET", _S + "/describe", rest.describe),
    _route("GET", _S + "/(?P<which>updated|deleted)", rest.changes),
    _route("GET", _S + "/(?P<id>[^/]+)", rest.get_record),
    _route("PATCH", _S + "/(?P<id>[^/]+)", rest.update_record),
    _route("DELETE", _S + "/(?P<id>[^/]+)", rest.delete_record),
    _route("*", _S + "/[^/]+", rest.not_allowed("HEAD,GET,PATCH,DELETE")),
    _route("GET|PATCH", _S + "/(?P<field>[^/]+)/(?P<value>[^/]+)", rest.by_external_id),
    _route("*", _S + "/[^/]+/[^/]+", rest.not_allowed("HEAD,GET,PATCH")),
    _route("POST", _JOBS, bulk2.create_job, _job_query),
    _route("GET", _JOBS, bulk2.list_jobs),
    _route("GET", _JOB, bulk2.job_status, _job),
    _route("PATCH", _JOB, bulk2.abort_job, _job),
    _route("DELETE", _JOB, bulk2.delete_job, _job),
    _route("GET", _JOB + "/results", bulk2.results, _job),
    _route("*", _V + r"(?:/sobjects/(?P<sobject>[^/]+))?(?:/.*)?", rest.unknown),
    _route("*", ".*", rest.unknown),  # matches every path: resolve() always finds a route
]


def resolve(request: Request) -> Route:
    """The route that answers `request`, its captured path segments (unquoted) put in
    request.params."""
    path = re.sub("/{2,}", "/", request.path)
    route, match = next((route, match) for route in ROUTES
                        if (route.methods is None or request.method in route.methods)
                        and (match := route.pattern.fullmatch(path)))
    request.params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
    return route


def answer(route: Route, request: Request) -> Response:
    """The route's response; an `api` route first checks the version (404), the session
    (401 INVALID_SESSION_ID) and counts the request."""
    if route.api:
        if request.params["version"] not in rest.VERSIONS:
            raise not_found()
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not request.stub.sessions.valid(token):
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        request.api_usage = request.stub.count_request()
    return route.handler(request)
