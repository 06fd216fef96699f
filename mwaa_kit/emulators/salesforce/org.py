"""Opening a stub org from its state dir: schema, store and seeding in one place, for
the server, the CLI and the tests alike."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from mwaa_kit.emulators.salesforce import generator
from mwaa_kit.emulators.salesforce.schema import load_custom_objects, standard_objects
from mwaa_kit.emulators.salesforce.store import Store


def open_store(state_dir: Path, objects_file: Path | None = None,
               now: datetime | None = None) -> Store:
    state_dir.mkdir(parents=True, exist_ok=True)
    objects = standard_objects()
    if objects_file:
        objects.update({o.name: o for o in load_custom_objects(objects_file)})
    fixed = now
    return Store(state_dir / "data.sqlite", objects,
                 (lambda: fixed) if fixed else (lambda: datetime.now(UTC)))


def seed(store: Store, counts: dict[str, int], seed_value: int, now: datetime) -> None:
    for name, count in generator.iter_objects(counts):
        if name not in store.objects:
            raise ValueError(f"unknown object {name!r}; known: {', '.join(store.objects)}")
        generator.generate(store, name, count, seed_value, now)


def load_fixtures(store: Store, path: Path, sobject: str | None = None) -> int:
    """Records from JSON ({"Object": [records]}) or CSV (one object, named by `sobject`)."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
    else:
        if not sobject:
            raise ValueError("a CSV fixture needs the object name (--object-name)")
        with path.open(newline="") as handle:
            data = {sobject: list(csv.DictReader(handle))}
    loaded = 0
    for name, records in data.items():
        store.insert(name, ({"IsDeleted": 0, **r} for r in records))
        loaded += len(records)
    return loaded
