"""The objects the stub knows, with describe metadata close to a real org's.

Standard objects are declared here; custom objects (`Thing__c`) come from a project
file with the same shape (see `load_custom_objects`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# Describe type -> SOAP type, as Salesforce pairs them.
_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "string": "xsd:string", "picklist": "xsd:string",
    "textarea": "xsd:string", "email": "xsd:string", "phone": "xsd:string", "url": "xsd:string",
    "boolean": "xsd:boolean", "currency": "xsd:double", "double": "xsd:double",
    "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date", "datetime": "xsd:dateTime",
    "multipicklist": "xsd:string",
}
_LENGTHS = {"id": 18, "reference": 18, "string": 255, "picklist": 255, "textarea": 32000,
            "email": 80, "phone": 40, "url": 255, "multipicklist": 4099}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    nillable: bool = True
    reference_to: str | None = None
    relationship_name: str | None = None
    custom: bool = False
    values: tuple[str, ...] = ()  # picklist values

    def describe(self) -> dict:
        return {
            "name": self.name, "label": self.name.removesuffix("__c").replace("_", " "),
            "type": self.type, "soapType": _SOAP_TYPES[self.type],
            "length": _LENGTHS.get(self.type, 0), "nillable": self.nillable,
            "custom": self.custom, "referenceTo": [self.reference_to] if self.reference_to
            else [], "relationshipName": self.relationship_name,
            "filterable": self.type != "textarea", "sortable": self.type != "textarea",
            "updateable": self.name not in _SYSTEM_FIELDS, "createable": self.name not in
            _SYSTEM_FIELDS, "externalId": False, "unique": self.name == "Id",
            "picklistValues": [{"active": True, "value": v, "label": v} for v in self.values],
            "precision": 18 if self.type in ("currency", "double") else 0,
            "scale": 2 if self.type in ("currency", "double") else 0,
        }


@dataclass(frozen=True)
class SObject:
    name: str
    key_prefix: str
    fields: tuple[Field, ...]
    custom: bool = False
    children: list = field(default_factory=list)  # (child object, field, relationship name)

    def field(self, name: str) -> Field | None:
        lowered = name.lower()
        return next((f for f in self.fields if f.name.lower() == lowered), None)

    def relationship(self, name: str) -> Field | None:
        lowered = name.lower()
        return next((f for f in self.fields if f.relationship_name and
                     f.relationship_name.lower() == lowered), None)

    def describe(self, version: str) -> dict:
        return {
            "name": self.name, "label": self.name.removesuffix("__c"), "custom": self.custom,
            "keyPrefix": self.key_prefix, "queryable": True, "createable": True,
            "updateable": True, "deletable": True, "retrieveable": True, "searchable": True,
            "fields": [f.describe() for f in self.fields],
            "childRelationships": [
                {"childSObject": child, "field": fld, "relationshipName": rel,
                 "cascadeDelete": False}
                for child, fld, rel in self.children
            ],
            "urls": {"sobject": f"/services/data/v{version}/sobjects/{self.name}",
                     "describe": f"/services/data/v{version}/sobjects/{self.name}/describe"},
        }


_SYSTEM_FIELDS = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                  "LastModifiedById", "SystemModstamp"}


def _system_fields() -> tuple[Field, ...]:
    return (
        Field("Id", "id", nillable=False),
        Field("IsDeleted", "boolean", nillable=False),
        Field("CreatedDate", "datetime", nillable=False),
        Field("CreatedById", "reference", False, "User", "CreatedBy"),
        Field("LastModifiedDate", "datetime", nillable=False),
        Field("LastModifiedById", "reference", False, "User", "LastModifiedBy"),
        Field("SystemModstamp", "datetime", nillable=False),
    )


def _object(name: str, prefix: str, *fields: Field, custom: bool = False) -> SObject:
    return SObject(name, prefix, (*_system_fields(), *fields), custom=custom)


STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost")
INDUSTRIES = ("Agriculture", "Banking", "Biotechnology", "Education", "Energy",
              "Manufacturing", "Media", "Retail", "Technology", "Transportation")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted")


def standard_objects() -> dict[str, SObject]:
    objects = [
        _object("Organization", "00D", Field("Name", "string", False)),
        _object("User", "005", Field("Username", "string", False),
                Field("Name", "string", False), Field("Email", "email", False),
                Field("IsActive", "boolean", False)),
        _object("Account", "001", Field("Name", "string", False),
                Field("Industry", "picklist", values=INDUSTRIES),
                Field("AnnualRevenue", "currency"), Field("NumberOfEmployees", "int"),
                Field("BillingCountry", "string"),
                Field("OwnerId", "reference", False, "User", "Owner"),
                Field("ParentId", "reference", True, "Account", "Parent")),
        _object("Contact", "003", Field("FirstName", "string"), Field("LastName", "string",
                False), Field("Email", "email"),
                Field("AccountId", "reference", True, "Account", "Account"),
                Field("OwnerId", "reference", False, "User", "Owner")),
        _object("Lead", "00Q", Field("FirstName", "string"), Field("LastName", "string", False),
                Field("Company", "string", False), Field("Email", "email"),
                Field("Status", "picklist", False, values=LEAD_STATUSES),
                Field("IsConverted", "boolean", False),
                Field("OwnerId", "reference", False, "User", "Owner")),
        _object("Opportunity", "006", Field("Name", "string", False),
                Field("StageName", "picklist", False, values=STAGES),
                Field("Amount", "currency"), Field("Probability", "percent"),
                Field("CloseDate", "date", False), Field("IsClosed", "boolean", False),
                Field("IsWon", "boolean", False),
                Field("AccountId", "reference", True, "Account", "Account"),
                Field("OwnerId", "reference", False, "User", "Owner")),
    ]
    return _link_children({o.name: o for o in objects})


def _link_children(objects: dict[str, SObject]) -> dict[str, SObject]:
    plural = {"Opportunity": "Opportunities", "Contact": "Contacts", "Account": "ChildAccounts"}
    for sobject in objects.values():
        for fld in sobject.fields:
            parent = objects.get(fld.reference_to or "")
            if parent and fld.relationship_name in ("Account", "Parent"):
                name = plural.get(sobject.name, sobject.name + "s")
                parent.children.append((sobject.name, fld.name, name))
    return objects


def load_custom_objects(path: Path) -> list[SObject]:
    """Custom objects from a JSON file: [{"name": "Thing__c", "keyPrefix": "a01",
    "fields": [{"name": "Size__c", "type": "double"}, ...]}]."""
    objects = []
    for entry in json.loads(path.read_text()):
        if not entry["name"].endswith("__c"):
            raise ValueError(f"{path}: custom object {entry['name']!r} must end with __c")
        fields = [Field(f["name"], f["type"], f.get("nillable", True), f.get("referenceTo"),
                        f.get("relationshipName"), custom=f["name"].endswith("__c"))
                  for f in entry["fields"]]
        objects.append(_object(entry["name"], entry.get("keyPrefix", "a00"),
                               Field("Name", "string", False), *fields, custom=True))
    return objects
