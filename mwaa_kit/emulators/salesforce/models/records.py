"""The org's record rules, each written once: what a client may write (known, writable
fields holding values of their type, required fields on insert, references to existing
records), what the org fills in (Id, owner, audit fields, boolean defaults, derived
fields), soft deletes, external-Id lookups and upserts, and the replication windows of
the updated/ and deleted/ resources.
"""

from __future__ import annotations

import threading
from datetime import datetime

from mwaa_kit.emulators.salesforce.exceptions import ApiError, MultipleRecords, not_found
from mwaa_kit.emulators.salesforce.schema import Field, SObject, find_object, salesforce_id
from mwaa_kit.emulators.salesforce.soql import dates
from mwaa_kit.emulators.salesforce.store import Store

USER_ID = salesforce_id("005", 1)  # the org's one user, owner of what the API creates


def coerce(field: Field, value):
    """A JSON (or CSV text) value as the store keeps it; ValueError in Salesforce's words
    when the field cannot hold it."""
    if value is None:
        return None
    kind = field.type

    def refuse():
        raise ValueError(f"Cannot deserialize instance of {kind} from "
                         f"{type(value).__name__} value {value!r} at [{field.name}]")

    if kind == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        refuse()
    if kind in ("int", "currency", "double", "percent"):
        if isinstance(value, bool):
            refuse()
        try:
            number = float(value)
        except (TypeError, ValueError):
            refuse()
        return int(number) if kind == "int" else number
    if kind == "datetime":
        try:
            return dates.to_storage(dates.parse_datetime(str(value).replace("+0000", "Z")))
        except ValueError:
            refuse()
    if kind == "date":
        try:
            return dates.parse_date(str(value)[:10]).isoformat()
        except ValueError:
            refuse()
    if isinstance(value, (dict, list)):
        refuse()
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "multipicklist":
        return ";".join(p.strip() for p in text.split(";") if p.strip())
    return text


def derived(sobject: SObject, values: dict, current: dict | None = None) -> dict:
    """`values` with the fields the org computes from them: an Opportunity's IsClosed and
    IsWon follow its stage, a Contact's or Lead's Name is FirstName LastName (`current` is
    the stored record an update changes)."""
    if sobject.name == "Opportunity" and values.get("StageName"):
        stage = values["StageName"]
        values = {**values, "IsClosed": int(stage.startswith("Closed")),
                  "IsWon": int(stage == "Closed Won")}
    if sobject.field("LastName") is not None and (
            current is None or "FirstName" in values or "LastName" in values):
        merged = {**(current or {}), **values}
        values = {**values, "Name": " ".join(
            p for p in (merged.get("FirstName"), merged.get("LastName")) if p)}
    return values


def _coerced(field: Field, value):
    """coerce(), refusing as the REST API does: 400 JSON_PARSER_ERROR."""
    try:
        return coerce(field, value)
    except ValueError as error:
        raise ApiError(400, "JSON_PARSER_ERROR", str(error)) from None


class Records:
    """The REST API's view of the org's records: reads, writes and their checks, over the
    store (writes that mint an Id are serialized)."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()

    def sobject(self, name: str) -> SObject:
        """The object `name` names, case-insensitively as Salesforce matches; 404 NOT_FOUND
        when the org has none."""
        found = find_object(self.store.objects, name)
        if found is None:
            raise not_found()
        return found

    def get(self, sobject: SObject, record_id: str) -> dict:
        """The live record `record_id`; 404 NOT_FOUND when unknown or deleted."""
        current = self.store.get(sobject.name, record_id)
        if current is None:
            raise not_found()
        return current

    def _live(self, sobject: SObject, record_id: str) -> dict:
        """The record a write or delete targets; 404 NOT_FOUND when unknown, 404
        ENTITY_IS_DELETED once deleted, as Salesforce tells the two apart."""
        current = self.store.get(sobject.name, record_id, include_deleted=True)
        if current is None:
            raise not_found()
        if current["IsDeleted"]:
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return current

    def create(self, sobject: SObject, data, key: tuple[Field, str] | None = None) -> str:
        """Insert the record a client sent (with `key`, an upsert's external Id field and
        value, on top), checked and completed as the org completes it; returns its Id."""
        values = self._values(sobject, data, creating=True, key=key)
        stamp = dates.to_storage(self.store.now())
        defaults = {f.name: 0 for f in sobject.fields if f.type == "boolean"}
        with self._lock:
            record_id = salesforce_id(sobject.key_prefix, self.store.next_number(sobject.name))
            self.store.insert(sobject.name, [derived(sobject, {
                "OwnerId": USER_ID, **defaults, **values, "Id": record_id, "IsDeleted": 0,
                "CreatedDate": stamp, "CreatedById": USER_ID, "LastModifiedDate": stamp,
                "LastModifiedById": USER_ID, "SystemModstamp": stamp})])
        return record_id

    def update(self, sobject: SObject, record_id: str, data) -> None:
        """Apply a client's changes to a live record, stamping LastModifiedDate and
        SystemModstamp as Salesforce does."""
        self._update(sobject, self._live(sobject, record_id), data)

    def delete(self, sobject: SObject, record_id: str) -> None:
        """Soft delete: IsDeleted and a new SystemModstamp, so queryAll and deleted/ still
        see the record."""
        current = self._live(sobject, record_id)
        self.store.update(sobject.name, current["Id"],
                          {"IsDeleted": 1, "SystemModstamp": dates.to_storage(self.store.now())})

    def by_external_id(self, sobject: SObject, field_name: str, value: str) -> dict:
        """The one live record whose external Id field (or Id) holds `value`; 404 when none,
        MultipleRecords when several do."""
        _, found = self._match(sobject, field_name, value)
        if found is None:
            raise not_found()
        return found

    def upsert(self, sobject: SObject, field_name: str, value: str, data) -> tuple[str, bool]:
        """Update the record whose external Id field holds `value`, or insert one holding it:
        (its Id, whether it was created). Upserting by Id only updates."""
        field, found = self._match(sobject, field_name, value)
        if found is not None:
            self._update(sobject, found, data)
            return found["Id"], False
        if field.name == "Id":
            raise not_found()
        return self.create(sobject, data, key=(field, value)), True

    def changes(self, sobject: SObject, start: datetime, end: datetime,
                deleted: bool) -> list[tuple[str, str]]:
        """(Id, SystemModstamp) of the records updated (or deleted) in [start, end); 400
        INVALID_REPLICATION_DATE when the window ends before it starts."""
        if end < start:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "end must not be before start")
        return self.store.changed(sobject.name, start, end, deleted)

    # ------------------------------------------------------------ the rules
    def _match(self, sobject: SObject, field_name: str, value: str) -> tuple[Field, dict | None]:
        field = sobject.field(field_name)
        if field is None or not (field.external_id or field.name == "Id"):
            raise not_found("Provided external ID field does not exist or is not "
                            f"accessible: {field_name}")
        if field.name == "Id":
            found = [r for r in [self.store.get(sobject.name, value)] if r]
        else:
            found = self.store.find(sobject.name, field.name, value)
        if len(found) > 1:
            raise MultipleRecords([r["Id"] for r in found])
        return field, (found[0] if found else None)

    def _update(self, sobject: SObject, current: dict, data) -> None:
        stamp = dates.to_storage(self.store.now())
        values = {**self._values(sobject, data, creating=False),
                  "LastModifiedDate": stamp, "SystemModstamp": stamp}
        self.store.update(sobject.name, current["Id"], derived(sobject, values, current))

    def _values(self, sobject: SObject, data, creating: bool,
                key: tuple[Field, str] | None = None) -> dict:
        """A client's field values as the store keeps them, or the refusal Salesforce answers:
        not an object, an unknown field, a read-only one, a value of the wrong type, a
        required field missing on insert, a reference to no record."""
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
            values[field.name] = _coerced(field, value)
        if locked:
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update "
                           f"fields: {', '.join(locked)}. Please check the security settings "
                           "of this field and verify that it is read/write for your profile "
                           "or permission set.", locked)
        if key is not None:
            values[key[0].name] = _coerced(*key)
        missing = [f.name for f in sobject.fields if creating and f.required and
                   values.get(f.name) in (None, "")]
        if missing:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: "
                           f"[{', '.join(missing)}]", missing)
        for field_name, value in values.items():
            field = sobject.field(field_name)
            if field.type == "reference" and value:
                target = self.store.objects.get(field.reference_to)
                if target is None or self.store.get(target.name, value) is None:
                    raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross "
                                   "reference id", [field.name])
        return values
