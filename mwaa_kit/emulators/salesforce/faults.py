"""Fault injection for reliability tests: rules set through /__admin/faults or
`mwaa-kit salesforce faults`.

A rule matches requests by path substring (and optionally object name); it skips the
first `after` matches, then fires `times` times (or with a probability). Kinds:
expired_session (401 INVALID_SESSION_ID), request_limit (403 REQUEST_LIMIT_EXCEEDED),
server_error (500), unavailable (503), latency (`seconds` added), drop (connection
closed without an answer), truncate (half the body, then the connection closes).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

KINDS = ("expired_session", "request_limit", "server_error", "unavailable", "latency",
         "drop", "truncate")


@dataclass
class Rule:
    kind: str
    path: str = "/services/data/"
    after: int = 0
    times: int = 1
    probability: float | None = None
    seconds: float = 1.0
    seen: int = 0
    fired: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path, "after": self.after, "times": self.times,
                "probability": self.probability, "seconds": self.seconds, "fired": self.fired}


class Faults:
    def __init__(self, seed: int = 0):
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def replace(self, rules: list[dict]) -> list[dict]:
        parsed = []
        for entry in rules:
            if entry.get("kind") not in KINDS:
                raise ValueError(f"unknown fault kind {entry.get('kind')!r}; one of "
                                 f"{', '.join(KINDS)}")
            known = {"kind", "path", "after", "times", "probability", "seconds"}
            parsed.append(Rule(**{k: v for k, v in entry.items() if k in known}))
        with self._lock:
            self.rules = parsed
        return [r.to_dict() for r in parsed]

    def listing(self) -> list[dict]:
        with self._lock:
            return [r.to_dict() for r in self.rules]

    def pick(self, path: str) -> Rule | None:
        """The rule that fires for this request, if any (counting it)."""
        with self._lock:
            for rule in self.rules:
                if rule.path not in path:
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                if rule.probability is not None:
                    if self._random.random() < rule.probability:
                        rule.fired += 1
                        return rule
                    continue
                if rule.fired < rule.times:
                    rule.fired += 1
                    return rule
        return None
