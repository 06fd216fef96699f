"""The objects the stub knows, with describe metadata close to a real org's.

Standard objects (Organization, User, Account, Contact, Lead, Opportunity) are declared
here. A project's objects file (JSON, `serve --objects-file`) adds custom objects
(`Thing__c`) and custom fields on standard objects:

    [{"name": "Thing__c", "keyPrefix": "a01", "label": "Thing",
      "fields": [{"name": "Size__c", "type": "double"},
                 {"name": "Code__c", "type": "string", "externalId": true},
                 {"name": "Colors__c", "type": "multipicklist", "values": ["Red", "Blue"]},
                 {"name": "Account__c", "type": "reference", "referenceTo": "Account",
                  "relationshipName": "Account__r"}]},
     {"name": "Account", "fields": [{"name": "External_Id__c", "type": "string",
                                     "externalId": true}]}]
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
TYPES = tuple(_SOAP_TYPES)
_LENGTHS = {"id": 18, "reference": 18, "string": 255, "picklist": 255, "textarea": 32000,
            "email": 80, "phone": 40, "url": 255, "multipicklist": 4099}
_TEXT = {"id", "reference", "string", "picklist", "textarea", "email", "phone", "url",
         "multipicklist"}
_SYSTEM_FIELDS = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate",
                  "LastModifiedById", "SystemModstamp"}
_LABELS = {"Id": "Record ID", "IsDeleted": "Deleted", "CreatedDate": "Created Date",
           "CreatedById": "Created By ID", "LastModifiedDate": "Last Modified Date",
           "LastModifiedById": "Last Modified By ID", "SystemModstamp": "System Modstamp",
           "OwnerId": "Owner ID", "AccountId": "Account ID", "ParentId": "Parent Account ID",
           "StageName": "Stage", "CloseDate": "Close Date", "IsClosed": "Closed",
           "IsWon": "Won", "NumberOfEmployees": "Employees", "IsConverted": "Converted",
           "IsActive": "Active"}


_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Id: an object's key prefix, base-62 number, and the case-safe suffix,
    so clients that check or shorten Ids accept the stub's."""
    body = ""
    for _ in range(12):
        number, digit = divmod(number, 62)
        body = _BASE62[digit] + body
    short = prefix + body
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(short[chunk * 5:chunk * 5 + 5]) if c.isupper())
        suffix += _SUFFIX_CHARS[bits]
    return short + suffix


def _label(name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    base = name.removesuffix("__c").replace("_", " ")
    spaced = "".join(" " + c if c.isupper() and i and not base[i - 1].isupper() and
                     base[i - 1] != " " else c for i, c in enumerate(base))
    return spaced.strip()


@dataclass(frozen=True)
class Field:
    """A field as describe reports it; `calculated` fields are the org's to set, never a
    client's."""

    name: str
    type: str
    nillable: bool = True
    reference_to: str | None = None
    relationship_name: str | None = None
    custom: bool = False
    values: tuple[str, ...] = ()  # picklist values
    external_id: bool = False
    unique: bool = False
    label: str | None = None
    name_field: bool = False
    calculated: bool = False  # derived by the org (compound Name, IsClosed): read-only

    @property
    def system(self) -> bool:
        """Set by the org, never by a client: the audit fields and the calculated ones."""
        return self.name in _SYSTEM_FIELDS or self.calculated

    @property
    def required(self) -> bool:
        """Needed on create (not nillable, not set by the system, no default)."""
        return not self.nillable and not self.system and self.type != "boolean" and \
            self.name != "OwnerId"

    def describe(self) -> dict:
        """The field's entry in its object's describe, with the flags clients read
        (createable, nillable, picklistValues...)."""
        numeric = self.type in ("currency", "double", "percent")
        text = self.type in _TEXT
        length = _LENGTHS.get(self.type, 0)
        return {
            "aggregatable": self.type not in ("textarea", "multipicklist"),
            "autoNumber": False, "byteLength": length * 3 if text else 0,
            "calculated": self.calculated,
            "cascadeDelete": False, "caseSensitive": False,
            "createable": not self.system, "custom": self.custom,
            "defaultValue": False if self.type == "boolean" else None,
            "defaultedOnCreate": self.system or self.type == "boolean" or self.name == "OwnerId",
            "deprecatedAndHidden": False, "digits": 9 if self.type == "int" else 0,
            "externalId": self.external_id,
            "filterable": self.type != "textarea", "groupable": self.type not in (
                "textarea", "multipicklist", "currency", "double", "percent", "datetime"),
            "htmlFormatted": False, "idLookup": self.name == "Id" or self.external_id,
            "label": self.label or _label(self.name), "length": length,
            "name": self.name, "nameField": self.name_field, "nillable": self.nillable,
            "permissionable": self.nillable and not self.system,
            "picklistValues": [{"active": True, "defaultValue": False, "label": v,
                                "validFor": None, "value": v} for v in self.values],
            "polymorphicForeignKey": False,
            "precision": 18 if numeric else 0,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name, "relationshipOrder": None,
            "restrictedPicklist": False, "scale": 2 if numeric else 0,
            "soapType": _SOAP_TYPES[self.type], "sortable": self.type not in (
                "textarea", "multipicklist"),
            "type": self.type, "unique": self.unique or self.name == "Id",
            "updateable": not self.system,
        }


@dataclass(frozen=True)
class SObject:
    """An object as describe reports it; `children` are the child relationships
    link_children() fills."""

    name: str
    key_prefix: str
    fields: tuple[Field, ...]
    custom: bool = False
    children: list = field(default_factory=list)  # (child object, field, relationship name)
    label: str | None = None
    label_plural: str | None = None

    def field(self, name: str) -> Field | None:
        """The field `name`, case-insensitively as Salesforce matches names; None when there is
        none."""
        lowered = name.lower()
        return next((f for f in self.fields if f.name.lower() == lowered), None)

    def relationship(self, name: str) -> Field | None:
        """The lookup field whose relationship name (Account, Owner, Account__r) is `name`,
        case-insensitively; None when there is none."""
        lowered = name.lower()
        return next((f for f in self.fields if f.relationship_name and
                     f.relationship_name.lower() == lowered), None)

    def urls(self, version: str) -> dict:
        """The object's REST URLs in API version `version`, as describe lists them."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"sobject": base, "describe": f"{base}/describe",
                "rowTemplate": f"{base}/{{ID}}"}

    def summary(self, version: str) -> dict:
        """The global-describe entry of this object."""
        label = self.label or _label(self.name)
        return {
            "activateable": False, "createable": True, "custom": self.custom,
            "customSetting": False, "deletable": True, "deprecatedAndHidden": False,
            "feedEnabled": False, "hasSubtypes": False, "isSubtype": False,
            "keyPrefix": self.key_prefix, "label": label,
            "labelPlural": self.label_plural or label + "s", "layoutable": True,
            "mergeable": self.name in ("Account", "Contact", "Lead"), "mruEnabled": True,
            "name": self.name, "queryable": True, "replicateable": True,
            "retrieveable": True, "searchable": True, "triggerable": True,
            "undeletable": True, "updateable": self.name != "Organization",
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict:
        """The object's describe: its summary plus fields, child relationships and the Master
        record type."""
        return {
            **self.summary(version),
            "fields": [f.describe() for f in self.fields],
            "childRelationships": [
                {"cascadeDelete": False, "childSObject": child, "deprecatedAndHidden": False,
                 "field": fld, "junctionIdListNames": [], "junctionReferenceTo": [],
                 "relationshipName": rel, "restrictedDelete": False}
                for child, fld, rel in self.children
            ],
            "recordTypeInfos": [{"active": True, "available": True, "defaultRecordTypeMapping":
                                 True, "master": True, "name": "Master",
                                 "recordTypeId": "012000000000000AAA"}],
            "supportedScopes": [{"label": "All " + (self.label_plural or self.name),
                                 "name": "everything"}],
        }


def find_object(objects: dict[str, SObject], name: str) -> SObject | None:
    """The object `name` names, case-insensitively as Salesforce matches object names in
    URLs, SOQL and fixtures; None when there is none."""
    lowered = name.lower()
    return next((o for o in objects.values() if o.name.lower() == lowered), None)


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


def _object(name: str, prefix: str, *fields: Field, custom: bool = False,
            label: str | None = None, plural: str | None = None) -> SObject:
    return SObject(name, prefix, (*_system_fields(), *fields), custom=custom, label=label,
                   label_plural=plural)


STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost")
INDUSTRIES = ("Agriculture", "Banking", "Biotechnology", "Education", "Energy",
              "Manufacturing", "Media", "Retail", "Technology", "Transportation")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                 "Closed - Not Converted")
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")
OPPORTUNITY_TYPES = ("New Customer", "Existing Customer - Upgrade",
                     "Existing Customer - Replacement", "Existing Customer - Downgrade")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")


def standard_objects() -> dict[str, SObject]:
    """Organization, User, Account, Contact, Lead and Opportunity, children linked; a new dict
    on each call, so a caller may add custom objects to it."""
    owner = Field("OwnerId", "reference", False, "User", "Owner")
    objects = [
        _object("Organization", "00D", Field("Name", "string", False, name_field=True),
                Field("Country", "string"), Field("OrganizationType", "string"),
                Field("IsSandbox", "boolean", False)),
        _object("User", "005", Field("Username", "string", False, unique=True),
                Field("Name", "string", False, name_field=True),
                Field("Email", "email", False), Field("IsActive", "boolean", False)),
        _object("Account", "001", Field("Name", "string", False, name_field=True),
                Field("Type", "picklist", values=ACCOUNT_TYPES),
                Field("Industry", "picklist", values=INDUSTRIES),
                Field("AnnualRevenue", "currency"), Field("NumberOfEmployees", "int"),
                Field("BillingCity", "string"), Field("BillingCountry", "string"),
                Field("Phone", "phone"), Field("Website", "url"),
                Field("Description", "textarea"), owner,
                Field("ParentId", "reference", True, "Account", "Parent")),
        _object("Contact", "003", Field("FirstName", "string"), Field("LastName", "string",
                False), Field("Name", "string", False, name_field=True, calculated=True),
                Field("Title", "string"), Field("Email", "email"), Field("Phone", "phone"),
                Field("Birthdate", "date"),
                Field("AccountId", "reference", True, "Account", "Account"), owner),
        _object("Lead", "00Q", Field("FirstName", "string"), Field("LastName", "string", False),
                Field("Name", "string", False, name_field=True, calculated=True),
                Field("Company", "string", False), Field("Email", "email"),
                Field("Status", "picklist", False, values=LEAD_STATUSES),
                Field("LeadSource", "picklist", values=LEAD_SOURCES),
                Field("IsConverted", "boolean", False), owner),
        _object("Opportunity", "006", Field("Name", "string", False, name_field=True),
                Field("StageName", "picklist", False, values=STAGES),
                Field("Amount", "currency"), Field("Probability", "percent"),
                Field("CloseDate", "date", False),
                Field("Type", "picklist", values=OPPORTUNITY_TYPES),
                Field("LeadSource", "picklist", values=LEAD_SOURCES),
                Field("IsClosed", "boolean", False, calculated=True),
                Field("IsWon", "boolean", False, calculated=True),
                Field("Description", "textarea"),
                Field("AccountId", "reference", True, "Account", "Account"), owner,
                plural="Opportunities"),
    ]
    return link_children({o.name: o for o in objects})


_PLURALS = {"Opportunity": "Opportunities", "Contact": "Contacts", "Account": "ChildAccounts",
            "Lead": "Leads"}


def link_children(objects: dict[str, SObject]) -> dict[str, SObject]:
    """Fill each object's childRelationships from the lookups pointing at it."""
    for sobject in objects.values():
        sobject.children.clear()
    for sobject in objects.values():
        for fld in sobject.fields:
            parent = objects.get(fld.reference_to or "")
            if parent is None or fld.reference_to == "User":
                continue
            if fld.custom:  # Thing__c.Account__c (Account__r) -> Account.Things__r
                name = sobject.name.removesuffix("__c") + "s__r"
            else:
                name = _PLURALS.get(sobject.name, sobject.name + "s")
            parent.children.append((sobject.name, fld.name, name))
    return objects


def _custom_field(entry: dict, where: str) -> Field:
    name, kind = entry.get("name", ""), entry.get("type", "")
    if not name.endswith("__c"):
        raise ValueError(f"{where}: custom field {name!r} must end with __c")
    if kind not in _SOAP_TYPES or kind == "id":
        raise ValueError(f"{where}: field {name} has type {kind!r}; one of "
                         f"{', '.join(t for t in TYPES if t != 'id')}")
    relationship = entry.get("relationshipName")
    if kind == "reference":
        if not entry.get("referenceTo"):
            raise ValueError(f"{where}: reference field {name} needs referenceTo")
        relationship = relationship or name.removesuffix("__c") + "__r"
    return Field(name, kind, bool(entry.get("nillable", True)), entry.get("referenceTo"),
                 relationship, custom=True, values=tuple(entry.get("values", ())),
                 external_id=bool(entry.get("externalId", False)),
                 unique=bool(entry.get("unique", False)), label=entry.get("label"))


def apply_objects_file(objects: dict[str, SObject], path: Path) -> dict[str, SObject]:
    """`objects` plus the custom objects and fields that `path` declares."""
    try:
        entries = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error})") from None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of objects")
    result = dict(objects)
    for entry in entries:
        name = entry.get("name", "")
        fields = tuple(_custom_field(f, f"{path}: {name}") for f in entry.get("fields", []))
        if name in result:  # custom fields on a standard object
            base = result[name]
            result[name] = SObject(base.name, base.key_prefix, (*base.fields, *fields),
                                   base.custom, [], base.label, base.label_plural)
            continue
        if not name.endswith("__c"):
            raise ValueError(f"{path}: custom object {name!r} must end with __c")
        prefix = entry.get("keyPrefix") or f"a{len(result):02d}"
        if len(prefix) != 3 or any(o.key_prefix == prefix for o in result.values()):
            raise ValueError(f"{path}: {name} needs a unique 3-character keyPrefix")
        result[name] = _object(name, prefix, Field("Name", "string", False, name_field=True),
                               Field("OwnerId", "reference", False, "User", "Owner"),
                               *fields, custom=True, label=entry.get("label"),
                               plural=entry.get("labelPlural"))
    for sobject in result.values():
        for fld in sobject.fields:
            if fld.reference_to and fld.reference_to not in result:
                raise ValueError(f"{path}: {sobject.name}.{fld.name} refers to unknown "
                                 f"object {fld.reference_to}")
    return link_children(result)

