"""Deterministic seed data: the same seed and "now" always give the same org.

Values are spread over the two years before "now", so every relative date literal and
every monthly batch of the example DAG has records to find. Opportunities, Contacts
belong to generated Accounts; every record is owned by the stub's user.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from mwaa_kit.emulators.salesforce.models.records import derived
from mwaa_kit.emulators.salesforce.schema import (
    ACCOUNT_TYPES,
    INDUSTRIES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    OPPORTUNITY_TYPES,
    STAGES,
    salesforce_id,
)
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.store import Store

USERNAME = "dev@mwaa-kit.local"
_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne",
          "Soylent", "Hooli", "Vandelay", "Wonka", "Oscorp", "Aperture", "Massive")
_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances",
          "Edsger", "Katherine", "John")
_COUNTRIES = ("United States", "France", "Germany", "Japan", "Brazil", "India", "Canada")
_CITIES = ("San Francisco", "Paris", "Berlin", "Tokyo", "Sao Paulo", "Bangalore", "Toronto")
_TITLES = ("CEO", "CTO", "VP Sales", "Data Engineer", "Buyer", "Analyst")
_TWO_YEARS = timedelta(days=730)


def ensure_org(store: Store, now: datetime) -> str:
    """The organization and its one user (owner of everything); returns the user's Id."""
    if store.count("User") == 0:
        stamp = to_storage(now - _TWO_YEARS)
        user_id = salesforce_id("005", 1)
        common = {"IsDeleted": 0, "CreatedDate": stamp, "CreatedById": user_id,
                  "LastModifiedDate": stamp, "LastModifiedById": user_id,
                  "SystemModstamp": stamp}
        store.insert("User", [{**common, "Id": user_id, "Username": USERNAME,
                               "Name": "Dev User", "Email": USERNAME, "IsActive": 1}])
        store.insert("Organization", [{**common, "Id": salesforce_id("00D", 1),
                                       "Name": "mwaa-kit Stub Org"}])
    return store.ids("User")[0]


def generate(store: Store, sobject: str, count: int, seed: int, now: datetime,
             batch: int = 20000) -> None:
    """Add `count` records of `sobject`."""
    user_id = ensure_org(store, now)
    existing = store.count(sobject)
    rng = random.Random(f"{seed}-{sobject}-{existing}")
    extra = random.Random(f"{seed}-{sobject}-{existing}-fields")
    accounts = store.ids("Account") if sobject in ("Opportunity", "Contact") else []
    start = store.next_number(sobject)
    definition = store.objects[sobject]
    prefix = definition.key_prefix
    custom = [f for f in definition.fields if f.custom]
    parents = {f.reference_to: store.ids(f.reference_to) for f in custom
               if f.type == "reference" and f.reference_to in store.objects}

    def make(index: int) -> dict:
        record = _record(sobject, prefix, start + index, rng, now, user_id, accounts)
        if index < 7 and existing == 0:
            _pin_to_month(record, index + 1, now, extra)
        if custom:
            record.update(_custom_values(custom, extra, now, parents))
        return derived(definition, record)

    records = (make(i) for i in range(count))
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= batch:
            store.insert(sobject, chunk)
            chunk = []
    if chunk:
        store.insert(sobject, chunk)


def _record(sobject, prefix, number, rng, now, user_id, accounts) -> dict:
    created = now - _TWO_YEARS * rng.random()
    modified = created + (now - created) * rng.random()
    record = {
        "Id": salesforce_id(prefix, number), "IsDeleted": int(rng.random() < 0.02),
        "CreatedDate": to_storage(created), "CreatedById": user_id,
        "LastModifiedDate": to_storage(modified), "LastModifiedById": user_id,
        "SystemModstamp": to_storage(modified), "OwnerId": user_id,
    }
    company = f"{rng.choice(_WORDS)} {rng.choice(('Inc', 'LLC', 'GmbH', 'SA', 'Ltd'))}"
    first, last = rng.choice(_NAMES), rng.choice(_WORDS) + "son"
    account = rng.choice(accounts) if accounts and rng.random() < 0.9 else None
    # Fields added after the first release derive from the record number, so a seed
    # keeps producing the very records it produced before.
    phone = f"+1 415 555 {number % 10000:04d}"
    if sobject == "Account":
        record.update(Name=f"{company} #{number}", Industry=rng.choice(INDUSTRIES),
                      AnnualRevenue=round(rng.uniform(1e5, 5e8), 2),
                      NumberOfEmployees=rng.randint(1, 100000),
                      BillingCountry=rng.choice(_COUNTRIES),
                      Type=ACCOUNT_TYPES[number % len(ACCOUNT_TYPES)],
                      BillingCity=_CITIES[number % len(_CITIES)], Phone=phone,
                      Website=f"https://www.{company.split()[0].lower()}{number}.example")
    elif sobject == "Contact":
        record.update(FirstName=first, LastName=last, AccountId=account,
                      Email=f"{first}.{last}{number}@example.com".lower(), Phone=phone,
                      Title=_TITLES[number % len(_TITLES)])
    elif sobject == "Lead":
        status = rng.choice(LEAD_STATUSES)
        record.update(FirstName=first, LastName=last, Company=company, Status=status,
                      IsConverted=int(status == "Closed - Converted"),
                      Email=f"{first}.{last}{number}@example.net".lower(),
                      LeadSource=LEAD_SOURCES[number % len(LEAD_SOURCES)])
    elif sobject == "Opportunity":
        stage = rng.choice(STAGES)
        close = (created + timedelta(days=rng.randint(0, 180))).date()
        record.update(Name=f"{company} deal {number}", StageName=stage,
                      Amount=round(rng.uniform(500, 250000), 2),
                      Probability=float(rng.choice((10, 20, 40, 60, 80, 90, 100))),
                      CloseDate=close.isoformat(), AccountId=account,
                      Type=OPPORTUNITY_TYPES[number % len(OPPORTUNITY_TYPES)],
                      LeadSource=LEAD_SOURCES[(number // 3) % len(LEAD_SOURCES)])
    else:  # custom objects: a Name and nulls
        record.update(Name=f"{sobject.removesuffix('__c')} {number}")
    return record


def _pin_to_month(record: dict, months_ago: int, now: datetime, rng: random.Random) -> None:
    """Put a record's SystemModstamp (and CloseDate) in the month `months_ago` before
    now's, so even a small seed has rows in each of the last seven months."""
    index = now.year * 12 + now.month - 1 - months_ago
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
    end = datetime((index + 1) // 12, (index + 1) % 12 + 1, 1, tzinfo=UTC)
    moment = start + (end - start) * rng.random()
    created = min(moment, datetime.fromisoformat(record["CreatedDate"].replace("+0000",
                                                                               "+00:00")))
    record.update(IsDeleted=0, CreatedDate=to_storage(created),
                  LastModifiedDate=to_storage(moment), SystemModstamp=to_storage(moment))
    if "CloseDate" in record:
        record["CloseDate"] = moment.date().isoformat()


def _custom_values(fields, rng: random.Random, now: datetime, parents: dict) -> dict:
    values = {}
    for f in fields:
        if f.nillable and rng.random() < 0.1:
            values[f.name] = None
        elif f.type == "boolean":
            values[f.name] = int(rng.random() < 0.5)
        elif f.type == "int":
            values[f.name] = rng.randint(0, 1000)
        elif f.type in ("double", "currency", "percent"):
            values[f.name] = round(rng.uniform(0, 1000), 2)
        elif f.type == "date":
            values[f.name] = (now - _TWO_YEARS * rng.random()).date().isoformat()
        elif f.type == "datetime":
            values[f.name] = to_storage(now - _TWO_YEARS * rng.random())
        elif f.type == "picklist" and f.values:
            values[f.name] = rng.choice(f.values)
        elif f.type == "multipicklist" and f.values:
            chosen = [v for v in f.values if rng.random() < 0.4]
            values[f.name] = ";".join(chosen) or None
        elif f.type == "reference":
            ids = parents.get(f.reference_to) or []
            values[f.name] = rng.choice(ids) if ids else None
        elif f.type == "email":
            values[f.name] = f"user{rng.randint(1, 99999)}@example.org"
        elif f.external_id or f.unique:
            values[f.name] = f"{f.name.removesuffix('__c').upper()}-{rng.getrandbits(48):012x}"
        else:
            values[f.name] = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"
    return values


def iter_objects(counts: dict[str, int]) -> Iterator[tuple[str, int]]:
    """Parents before children, so lookups have something to point at."""
    order = ["Account", "Contact", "Lead", "Opportunity"]
    yield from sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                      else len(order))
