"""Checking object and field names against the org's describe before any query.

The describe results are cached per object, so a parent path such as
`Account.Owner.Name` costs one describe per object it crosses, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from salesforce_ingest.soql import UnsafeSoqlError, check_field_path, check_name


@dataclass(frozen=True)
class ResolvedField:
    path: str  # with the org's own spelling, e.g. "Account.Name"
    type: str  # the describe type of the leaf field: string, datetime, date, double...


class Schema:
    """The org's objects as describe reports them."""

    def __init__(self, describe: Callable[[str], dict]):
        self._describe = describe
        self._cache: dict[str, dict] = {}

    def describe(self, sobject: str) -> dict:
        check_name("object", sobject)
        key = sobject.lower()
        if key not in self._cache:
            self._cache[key] = self._describe(sobject)
        return self._cache[key]

    def object_name(self, sobject: str) -> str:
        return self.describe(sobject)["name"]

    def all_fields(self, sobject: str) -> list[ResolvedField]:
        return [ResolvedField(f["name"], f["type"]) for f in self.describe(sobject)["fields"]]

    def relationship_fields(self, sobject: str, relationship: str) -> list[ResolvedField]:
        """Every field of the parent object reached through `relationship`."""
        reference = self._reference(sobject, relationship)
        parent = reference["referenceTo"][0]
        return [
            ResolvedField(f"{reference['relationshipName']}.{field.path}", field.type)
            for field in self.all_fields(parent)
        ]

    def resolve(self, sobject: str, path: str) -> ResolvedField:
        """Check `path` (with parent hops) exists; return its canonical spelling and type."""
        parts = check_field_path(path)
        current, spelled = sobject, []
        for relationship in parts[:-1]:
            reference = self._reference(current, relationship)
            spelled.append(reference["relationshipName"])
            current = reference["referenceTo"][0]
        field = self._field(current, parts[-1])
        return ResolvedField(".".join([*spelled, field["name"]]), field["type"])

    def _field(self, sobject: str, name: str) -> dict:
        for field in self.describe(sobject)["fields"]:
            if field["name"].lower() == name.lower():
                return field
        raise UnsafeSoqlError(f"No such column '{name}' on entity '{sobject}' "
                              "(checked against its describe).")

    def _reference(self, sobject: str, relationship: str) -> dict:
        for field in self.describe(sobject)["fields"]:
            name = field.get("relationshipName")
            if name and name.lower() == relationship.lower() and field.get("referenceTo"):
                return field
        raise UnsafeSoqlError(f"'{relationship}' is not a parent relationship of "
                              f"'{sobject}' (checked against its describe).")
