"""Fault injection for reliability tests: rules set through /__admin/faults or
`mwaa-kit salesforce faults`.

A rule matches requests by path substring and, optionally, object name (`sobject`: the
object of a /sobjects/ path, of a query's FROM, of a query locator's query or of a Bulk
job); it lets the first `after` matches through (so `after: 2` breaks the 3rd request),
then fires `times` times, or, with `probability`, each match at that chance. Kinds:
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
    """One fault rule; `seen` counts the requests it matched, `fired` the faults it injected."""

    kind: str
    path: str = "/services/data/"
    sobject: str | None = None
    after: int = 0
    times: int = 1
    probability: float | None = None
    seconds: float = 1.0
    seen: int = 0
    fired: int = 0

    def to_dict(self) -> dict:
        """The rule as /__admin/faults lists it (`fired` included, `seen` not)."""
        return {"kind": self.kind, "path": self.path, "sobject": self.sobject,
                "after": self.after, "times": self.times,
                "probability": self.probability, "seconds": self.seconds, "fired": self.fired}


_FIELDS = {"kind", "path", "sobject", "after", "times", "probability", "seconds"}


def parse_rules(rules) -> list[Rule]:
    """Rules from their JSON form; ValueError naming what is wrong."""
    if not isinstance(rules, list):
        raise ValueError("send a JSON list of rules")
    parsed = []
    for entry in rules:
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
            kind = entry.get("kind") if isinstance(entry, dict) else entry
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ValueError(f"unknown rule field(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(_FIELDS))}")
        rule = Rule(**entry)
        if not isinstance(rule.path, str) or not (
                rule.sobject is None or isinstance(rule.sobject, str)):
            raise ValueError("path and sobject are strings")
        for name in ("after", "times"):
            value = getattr(rule, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} is a whole number >= 0")
        try:
            if rule.probability is not None:
                rule.probability = float(rule.probability)
            rule.seconds = float(rule.seconds)
        except (TypeError, ValueError):
            raise ValueError("probability and seconds are numbers") from None
        if rule.probability is not None and not 0 <= rule.probability <= 1:
            raise ValueError("probability is between 0 and 1")
        if rule.seconds < 0:
            raise ValueError("seconds is >= 0")
        parsed.append(rule)
    return parsed


class Faults:
    """The stub's fault rules, shared by its request threads; `seed` makes `probability` rules
    fire the same way on every run."""

    def __init__(self, seed: int = 0):
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def replace(self, rules) -> list[dict]:
        """Swap every rule for `rules` (their counters start at zero)."""
        parsed = parse_rules(rules)
        with self._lock:
            self.rules = parsed
        return self.listing()

    def add(self, rules) -> list[dict]:
        """Append `rules`; the current rules keep their counters."""
        parsed = parse_rules(rules)
        with self._lock:
            self.rules = [*self.rules, *parsed]
        return self.listing()

    def listing(self) -> list[dict]:
        """The current rules as JSON, with how often each has fired."""
        with self._lock:
            return [r.to_dict() for r in self.rules]

    def pick(self, path: str, sobject: str | None = None) -> Rule | None:
        """The rule that fires for this request, if any (counting it)."""
        with self._lock:
            for rule in self.rules:
                if rule.path not in path:
                    continue
                if rule.sobject and (sobject or "").lower() != rule.sobject.lower():
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
