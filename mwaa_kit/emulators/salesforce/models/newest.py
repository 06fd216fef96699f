"""A bounded registry: an org keeps only so many query cursors and Bulk jobs, dropping
the oldest, and its request threads share them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class Newest(Generic[V]):
    """The newest `limit` entries put, by key, safe across threads."""

    def __init__(self, limit: int):
        self._entries: OrderedDict[str, V] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def put(self, key: str, value: V) -> None:
        """Keep `value` under `key`, dropping the oldest entry beyond the limit."""
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def get(self, key: str) -> V | None:
        """The entry `key`; None when unknown or dropped."""
        with self._lock:
            return self._entries.get(key)

    def pop(self, key: str) -> None:
        """Forget the entry `key`, if kept."""
        with self._lock:
            self._entries.pop(key, None)

    def values(self) -> list[V]:
        """Every entry kept, oldest first."""
        with self._lock:
            return list(self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
