"""The REST API besides queries: the API versions, a version's resources, limits,
describes, and sObject records (create, read, update, delete, get and upsert by external
Id, and the updated/ and deleted/ replication windows)."""

from __future__ import annotations

from collections.abc import Callable

from mwaa_kit.emulators.salesforce.exceptions import ApiError, MultipleRecords, not_found
from mwaa_kit.emulators.salesforce.models.backend import DAILY_API_REQUESTS
from mwaa_kit.emulators.salesforce.responses.wire import (
    Request,
    Response,
    attributes,
    json_response,
    no_content,
    record_url,
    typed,
)
from mwaa_kit.emulators.salesforce.schema import SObject
from mwaa_kit.emulators.salesforce.soql import dates

VERSIONS = [f"{major}.0" for major in range(52, 63)]


def versions(request: Request) -> Response:
    """GET /services/data: the API versions served, which clients pick theirs from."""
    return json_response(200, [{"version": v, "label": f"API {v}",
                                "url": f"/services/data/v{v}"} for v in VERSIONS])


def resources(request: Request) -> Response:
    """GET /services/data/vNN.N: the version's resources."""
    base = f"/services/data/v{request.params['version']}"
    return json_response(200, {name: f"{base}/{name}" for name in (
        "sobjects", "query", "queryAll", "limits", "jobs/query")})


def limits(request: Request) -> Response:
    """GET .../limits: the org's limits; API requests and Bulk jobs count what was used."""

    def limit(maximum: int, used: int = 0) -> dict:
        return {"Max": maximum, "Remaining": max(0, maximum - used)}

    return json_response(200, {
        "DailyApiRequests": limit(DAILY_API_REQUESTS, request.api_usage),
        "DailyBulkV2QueryJobs": limit(10000, len(request.stub.bulk2.jobs)),
        "DailyBulkV2QueryFileStorageMB": limit(976562),
        "DailyBulkApiBatches": limit(15000), "DailyAsyncApexExecutions": limit(250000),
        "DataStorageMB": limit(5120), "FileStorageMB": limit(20480),
        "ConcurrentAsyncGetReportInstances": limit(200),
        "HourlyODataCallout": limit(10000), "SingleEmail": limit(5000),
    })


def global_describe(request: Request) -> Response:
    """GET .../sobjects/: every object's summary."""
    version = request.params["version"]
    return json_response(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
        o.summary(version) for o in request.stub.store.objects.values()]})


def object_info(request: Request) -> Response:
    """GET .../sobjects/<Object>: the object's summary."""
    return json_response(200, {"objectDescribe": _sobject(request).summary(
        request.params["version"]), "recentItems": []})


def describe(request: Request) -> Response:
    """GET .../sobjects/<Object>/describe: fields, relationships, record types."""
    return json_response(200, _sobject(request).describe(request.params["version"]))


def create(request: Request) -> Response:
    """POST .../sobjects/<Object>: insert a record; 201 with its Id."""
    record_id = request.stub.records.create(_sobject(request), request.json())
    return json_response(201, {"id": record_id, "success": True, "errors": []})


def get_record(request: Request) -> Response:
    """GET .../sobjects/<Object>/<Id>[?fields=A,B]: a live record, all its fields or
    those named."""
    sobject = _sobject(request)
    current = request.stub.records.get(sobject, request.params["id"])
    fields = request.arg("fields")
    return json_response(200, _render(sobject, current, request.params["version"],
                                      fields.split(",") if fields else None))


def update_record(request: Request) -> Response:
    """PATCH .../sobjects/<Object>/<Id>: change a live record; 204."""
    request.stub.records.update(_sobject(request), request.params["id"], request.json())
    return no_content()


def delete_record(request: Request) -> Response:
    """DELETE .../sobjects/<Object>/<Id>: soft-delete a live record; 204."""
    request.stub.records.delete(_sobject(request), request.params["id"])
    return no_content()


def by_external_id(request: Request) -> Response:
    """GET or PATCH .../sobjects/<Object>/<Field>/<value>: read, or upsert, the record an
    external Id (or Id) names; 300 with the candidates' URLs when several match."""
    sobject, version = _sobject(request), request.params["version"]
    field_name, value = request.params["field"], request.params["value"]
    records = request.stub.records
    try:
        if request.method == "GET":
            return json_response(200, _render(
                sobject, records.by_external_id(sobject, field_name, value), version))
        record_id, created = records.upsert(sobject, field_name, value, request.json())
    except MultipleRecords as many:
        return json_response(300, [record_url(version, sobject.name, i) for i in many.ids])
    return json_response(201 if created else 200, {"id": record_id, "success": True,
                                                   "errors": [], "created": created})


def changes(request: Request) -> Response:
    """GET .../sobjects/<Object>/updated/ or deleted/?start=&end=: the records changed in
    the window, for replication."""
    try:
        start = dates.parse_datetime(request.query["start"][0])
        end = dates.parse_datetime(request.query["end"][0])
    except (KeyError, ValueError):
        raise ApiError(400, "INVALID_DATE_FORMAT" if "start" in request.query and "end" in
                       request.query else "MISSING_ARGUMENT", "start and end are required, "
                       "as ISO 8601 datetimes such as 2024-01-01T00:00:00+00:00") from None
    deleted = request.params["which"] == "deleted"
    rows = request.stub.records.changes(_sobject(request), start, end, deleted)
    covered = dates.to_storage(end.replace(second=0, microsecond=0))
    if not deleted:
        return json_response(200, {"ids": [r[0] for r in rows], "latestDateCovered": covered})
    return json_response(200, {
        "deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
        "earliestDateAvailable": rows[0][1] if rows else covered,
        "latestDateCovered": covered})


def not_allowed(allowed: str) -> Callable[[Request], Response]:
    """A handler answering 405 with the methods `allowed` (once the object, if the path
    names one, is known), as Salesforce answers a method a resource lacks."""

    def refuse(request: Request) -> Response:
        if "sobject" in request.params:
            _sobject(request)
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not "
                       f"allowed. Allowed are {allowed}")

    return refuse


def unknown(request: Request) -> Response:
    """Any other path: 404 NOT_FOUND."""
    raise not_found()


def _sobject(request: Request) -> SObject:
    return request.stub.records.sobject(request.params["sobject"])


def _render(sobject: SObject, current: dict, version: str,
            fields: list[str] | None = None) -> dict:
    """A stored record as GET returns it: attributes, then its fields (all, or `fields`;
    400 INVALID_FIELD for a name the object lacks)."""
    record = attributes(version, sobject.name, current["Id"])
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
