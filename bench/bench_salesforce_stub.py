"""Records per second the stub serves to simple-salesforce's query_all_iter, beside
the raw SQLite read rate of the same rows, in one run.

    python bench/bench_salesforce_stub.py [--rows 1000000]

The stub runs as its own process over HTTPS, as in every other use; the raw rate is a
plain `SELECT` of the same columns from the stub's own database file.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stub-") as scratch:
        state = Path(scratch)
        started = time.monotonic()
        with running_stub(state, seed={"Account": 1000, "Opportunity": arguments.rows}) as stub:
            seeded = time.monotonic() - started
            os.environ["REQUESTS_CA_BUNDLE"] = str(stub.ca_path)
            sf = Salesforce(domain=stub.domain, **stub.credentials)
            soql = f"SELECT {FIELDS} FROM Opportunity"
            start = time.monotonic()
            served = sum(1 for _ in sf.query_all_iter(soql))
            stub_seconds = time.monotonic() - start
        with sqlite3.connect(state / "data.sqlite") as db:
            start = time.monotonic()
            raw = sum(1 for _ in db.execute(f'SELECT {FIELDS} FROM "Opportunity" '
                                            'WHERE "IsDeleted" = 0'))
            raw_seconds = time.monotonic() - start
    print(f"{arguments.rows:,} Opportunity rows (seeded in {seeded:.0f} s)")
    print(f"{'stub -> query_all_iter (HTTPS, JSON)':<40}{served / stub_seconds:>12,.0f} rec/s")
    print(f"{'raw SQLite read of the same rows':<40}{raw / raw_seconds:>12,.0f} rec/s")
    print("goal: stub >= 20,000 rec/s")


if __name__ == "__main__":
    main()
