"""Deterministic seed data: the same seed and "now" always give the same org.

Values are spread over the two years before "now", so every relative date literal and
every monthly batch of the example DAG has records to find. Opportunities, Contacts
belong to generated Accounts; every record is owned by the stub's user.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from mwaa_kit.emulators.salesforce.schema import INDUSTRIES, LEAD_STATUSES, STAGES
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.store import Store, salesforce_id

USERNAME = "dev@mwaa-kit.local"
_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne",
          "Soylent", "Hooli", "Vandelay", "Wonka", "Oscorp", "Aperture", "Massive")
_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances",
          "Edsger", "Katherine", "John")
_COUNTRIES = ("United States", "France", "Germany", "Japan", "Brazil", "India", "Canada")
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
    rng = random.Random(f"{seed}-{sobject}-{store.count(sobject)}")
    accounts = store.ids("Account") if sobject in ("Opportunity", "Contact") else []
    start = store.next_number(sobject)
    prefix = store.objects[sobject].key_prefix
    records = (_record(sobject, prefix, start + i, rng, now, user_id, accounts)
               for i in range(count))
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
    if sobject == "Account":
        record.update(Name=f"{company} #{number}", Industry=rng.choice(INDUSTRIES),
                      AnnualRevenue=round(rng.uniform(1e5, 5e8), 2),
                      NumberOfEmployees=rng.randint(1, 100000),
                      BillingCountry=rng.choice(_COUNTRIES))
    elif sobject == "Contact":
        record.update(FirstName=first, LastName=last, AccountId=account,
                      Email=f"{first}.{last}{number}@example.com".lower())
    elif sobject == "Lead":
        status = rng.choice(LEAD_STATUSES)
        record.update(FirstName=first, LastName=last, Company=company, Status=status,
                      IsConverted=int(status == "Closed - Converted"),
                      Email=f"{first}.{last}{number}@example.net".lower())
    elif sobject == "Opportunity":
        stage = rng.choice(STAGES)
        close = (created + timedelta(days=rng.randint(0, 180))).date()
        record.update(Name=f"{company} deal {number}", StageName=stage,
                      Amount=round(rng.uniform(500, 250000), 2),
                      Probability=float(rng.choice((10, 20, 40, 60, 80, 90, 100))),
                      CloseDate=close.isoformat(), IsClosed=int(stage.startswith("Closed")),
                      IsWon=int(stage == "Closed Won"), AccountId=account)
    else:  # custom objects: a Name and nulls
        record.update(Name=f"{sobject.removesuffix('__c')} {number}")
    return record


def iter_objects(counts: dict[str, int]) -> Iterator[tuple[str, int]]:
    """Parents before children, so lookups have something to point at."""
    order = ["Account", "Contact", "Lead", "Opportunity"]
    yield from sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                      else len(order))
