"""Opening a stub org from its state dir: schema, store and seeding in one place, for
the server, the CLI and the tests alike."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from mwaa_kit.emulators.salesforce import generator
from mwaa_kit.emulators.salesforce.models.records import coerce, derived
from mwaa_kit.emulators.salesforce.schema import (
    apply_objects_file,
    find_object,
    salesforce_id,
    standard_objects,
)
from mwaa_kit.emulators.salesforce.soql.dates import to_storage
from mwaa_kit.emulators.salesforce.store import Store


def open_store(state_dir: Path, objects_file: Path | None = None,
               now: datetime | None = None) -> Store:
    """The store of the org in `state_dir` (data.sqlite, created empty when missing) with the
    objects file's custom objects; `now` fixes the org's clock."""
    state_dir.mkdir(parents=True, exist_ok=True)
    objects = standard_objects()
    if objects_file:
        objects = apply_objects_file(objects, objects_file)
    fixed = now
    return Store(state_dir / "data.sqlite", objects,
                 (lambda: fixed) if fixed else (lambda: datetime.now(UTC)))


def seed_arguments(counts: dict[str, int], seed_value: int) -> list[str]:
    """The options of `mwaa-kit salesforce seed` and `serve` that generate `counts` records
    from `seed_value`: the one encoding of a seed on a command line, for the compose stack
    and the test helpers alike."""
    objects = [arg for name, count in counts.items() for arg in ("--object", f"{name}={count}")]
    return ["--seed", str(seed_value), *objects]


def seed(store: Store, counts: dict[str, int], seed_value: int, now: datetime) -> None:
    """Add `counts` generated records per object, parents first, the same for the same
    `seed_value` and `now`; ValueError naming an unknown object."""
    for name, count in generator.iter_objects(counts):
        if name not in store.objects:
            raise ValueError(f"unknown object {name!r}; known: {', '.join(store.objects)}")
        generator.generate(store, name, count, seed_value, now)


def seed_new_org(state_dir: Path, counts: dict[str, int], seed_value: int,
                 now: datetime | None = None) -> None:
    """Create `state_dir`/data.sqlite holding a freshly seeded org, all or nothing.

    The org is built in a side file and moved into place only once complete: a seed that
    fails half-way leaves no half-empty org that a later `up` would take for a seeded one.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    partial = state_dir / "data.sqlite.partial"
    partial.unlink(missing_ok=True)
    try:
        store = Store(partial, standard_objects(), lambda: now or datetime.now(UTC))
        seed(store, counts, seed_value, now or datetime.now(UTC))
        store.db.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(state_dir / "data.sqlite")


def load_fixtures(store: Store, path: Path, sobject: str | None = None,
                  now: datetime | None = None) -> int:
    """Records from JSON (`{"Object": [records]}` or `[{"attributes": {"type": ...}, ...}]`)
    or CSV (one object: `sobject`, or the file's stem such as Opportunity.csv).

    Values are checked and converted per the object's describe (CSV's text included);
    a record without an Id gets one, and missing system fields (CreatedDate,
    SystemModstamp, IsDeleted, owners) are filled as a create would fill them."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text())
        if isinstance(data, list):  # records as a query returns them
            grouped: dict[str, list] = {}
            for record in data:
                name = (record.get("attributes") or {}).get("type") or sobject
                if not name:
                    raise ValueError(f"{path}: a record has no attributes.type; pass the "
                                     "object name")
                grouped.setdefault(name, []).append(record)
            data = grouped
    elif path.suffix.lower() == ".csv":
        name = sobject or path.stem
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [{k: (v if v != "" else None) for k, v in row.items()}
                    for row in csv.DictReader(handle)]
        data = {name: rows}
    else:
        raise ValueError(f"{path}: fixtures are .json or .csv files")
    moment = now or datetime.now(UTC)
    user_id = generator.ensure_org(store, moment)
    stamp = to_storage(moment)
    loaded = 0
    for name, records in data.items():
        sobject_def = find_object(store.objects, name)
        if sobject_def is None:
            raise ValueError(f"{path}: unknown object {name!r}; known: "
                             f"{', '.join(store.objects)}")
        prepared = []
        number = store.next_number(sobject_def.name)
        for index, record in enumerate(records, 1):
            row = {"IsDeleted": 0, "CreatedDate": stamp, "LastModifiedDate": stamp,
                   "SystemModstamp": stamp, "CreatedById": user_id,
                   "LastModifiedById": user_id}
            if sobject_def.field("OwnerId"):
                row["OwnerId"] = user_id
            for key, value in record.items():
                if key == "attributes" or isinstance(value, dict):
                    continue  # nested parent records of a query result
                field = sobject_def.field(key)
                if field is None:
                    raise ValueError(f"{path}: record {index} of {sobject_def.name}: no "
                                     f"field {key!r}")
                if value is None:
                    continue
                try:
                    row[field.name] = coerce(field, value)
                except ValueError as error:
                    raise ValueError(f"{path}: record {index} of {sobject_def.name}: "
                                     f"{error}") from None
            if not row.get("Id"):
                row["Id"] = salesforce_id(sobject_def.key_prefix, number)
                number += 1
            prepared.append(derived(sobject_def, row))
        store.insert(sobject_def.name, prepared)
        loaded += len(prepared)
    return loaded
