"""The stub's backend: every piece of state its request threads share, in one object that
the server is started with and every response reads."""

from __future__ import annotations

import threading

from mwaa_kit.emulators.salesforce.auth import Sessions
from mwaa_kit.emulators.salesforce.faults import Faults
from mwaa_kit.emulators.salesforce.models.bulk2 import Bulk2
from mwaa_kit.emulators.salesforce.models.queries import Queries
from mwaa_kit.emulators.salesforce.models.records import Records
from mwaa_kit.emulators.salesforce.store import Store

DAILY_API_REQUESTS = 100000


class Stub:
    """The org (store, records, queries, Bulk jobs), its sessions and fault rules, and the
    count of API requests served."""

    def __init__(self, store: Store, sessions: Sessions, faults: Faults):
        self.store, self.sessions, self.faults = store, sessions, faults
        self.records = Records(store)
        self.queries = Queries(store)
        self.bulk2 = Bulk2(self.queries)
        self._requests = 0
        self._lock = threading.Lock()

    def count_request(self) -> int:
        """Count one authenticated API request; the total is the api-usage of
        Sforce-Limit-Info and of /limits."""
        with self._lock:
            self._requests += 1
            return self._requests
