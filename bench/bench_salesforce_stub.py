"""Records per second the Salesforce stub serves to simple-salesforce's query_all_iter,
beside the raw SQLite read rate of the same rows, in one run.

    python bench/bench_salesforce_stub.py [--rows 1000000] [--state-dir DIR]

The stub runs as its own process over HTTPS, as in every other use; the raw rate is a
plain `SELECT` of the same columns and rows from the stub's own database file.
--state-dir keeps the seeded org for the next run (seeding a million rows takes a
while); without it a temporary one is used. Goal: at least 20,000 records/s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simple_salesforce import Salesforce  # noqa: E402

from mwaa_kit.emulators.salesforce.testing import running_stub  # noqa: E402

FIELDS = "Id, Name, StageName, Amount, CloseDate, AccountId, SystemModstamp"
GOAL = 20_000


def _seeded_rows(state: Path) -> int:
    database = state / "data.sqlite"
    if not database.exists():
        return 0
    with sqlite3.connect(database) as db:
        try:
            return db.execute('SELECT COUNT(*) FROM "Opportunity"').fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def run(state: Path, rows: int, batch_size: int) -> dict:
    missing = rows - _seeded_rows(state)
    seed = {"Account": 1000, "Opportunity": missing} if missing > 0 else None
    if seed and _seeded_rows(state):
        seed.pop("Account")
    started = time.monotonic()
    with running_stub(state, seed=seed) as stub:
        seeded = time.monotonic() - started
        os.environ["REQUESTS_CA_BUNDLE"] = str(stub.ca_path)
        sf = Salesforce(domain=stub.domain, **stub.credentials)
        soql = f"SELECT {FIELDS} FROM Opportunity"
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"}
        start = time.monotonic()
        served = sum(1 for _ in sf.query_all_iter(soql, headers=headers))
        stub_seconds = time.monotonic() - start
    with sqlite3.connect(state / "data.sqlite") as db:
        start = time.monotonic()
        raw = sum(1 for _ in db.execute(f'SELECT {FIELDS} FROM "Opportunity" '
                                        'WHERE "IsDeleted" = 0'))
        raw_seconds = time.monotonic() - start
    assert served == raw, (served, raw)
    return {"rows": _seeded_rows(state), "live": served, "seeded_s": seeded,
            "stub_rate": served / stub_seconds, "stub_s": stub_seconds,
            "raw_rate": raw / raw_seconds, "raw_s": raw_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="Opportunity rows in the org (default 1,000,000)")
    parser.add_argument("--batch-size", type=int, default=2000,
                        help="Sforce-Query-Options batchSize (200..2000)")
    parser.add_argument("--state-dir", type=Path,
                        help="Keep the seeded org here and reuse it next time")
    arguments = parser.parse_args()
    if arguments.state_dir:
        result = run(arguments.state_dir, arguments.rows, arguments.batch_size)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-stub-") as scratch:
            result = run(Path(scratch), arguments.rows, arguments.batch_size)
    print(f"{result['rows']:,} Opportunity rows, {result['live']:,} live "
          f"(seeding and start: {result['seeded_s']:.0f} s)")
    print(f"{'':<42}{'records/s':>12}{'seconds':>10}")
    print(f"{'stub -> query_all_iter (HTTPS, JSON)':<42}{result['stub_rate']:>12,.0f}"
          f"{result['stub_s']:>10.1f}")
    print(f"{'raw SQLite read of the same rows':<42}{result['raw_rate']:>12,.0f}"
          f"{result['raw_s']:>10.1f}")
    verdict = "met" if result["stub_rate"] >= GOAL else "NOT met"
    print(f"goal: stub >= {GOAL:,} records/s: {verdict}")


if __name__ == "__main__":
    main()
