"""The data plane's short-lived tokens: CreateCliToken's CliToken and CreateWebLoginToken's
WebToken, each good for one environment and for 60 seconds, as on MWAA.

The tokens are opaque random strings kept in memory only: one outlives no restart of the
emulator, as MWAA's outlive their minute. A test must not wait a minute to see one expire, so
the clock the lifetimes are read against can be moved on (`advance_clock`, and the admin
endpoint POST /_mwaa_kit/state-manager/advance-token-clock), as moto's state manager moves
its models on. Hand-written: no library keeps MWAA's tokens.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LIFETIME_SECONDS = 60.0
KINDS = ("cli", "web")


class TokenRefused(Exception):
    """A token that opens nothing: unknown, of another kind, or older than its lifetime."""


@dataclass(frozen=True)
class Grant:
    """What a token opens: the environment (`region`, `name`) it was issued for."""

    kind: str
    region: str
    name: str
    issued_at: float


class TokenStore:
    """Issues and checks tokens against `clock` (monotonic seconds) plus any advance.

    :param clock: the time source; a test may give its own.
    :param lifetime: the seconds a token stays good.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 lifetime: float = LIFETIME_SECONDS):
        self._clock = clock
        self._offset = 0.0
        self.lifetime = lifetime
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def now(self) -> float:
        """The store's time: the clock, moved on by every `advance_clock`."""
        return self._clock() + self._offset

    def issue(self, kind: str, region: str, name: str) -> str:
        """A new token of `kind` (cli or web) for the environment; expired ones are forgotten."""
        if kind not in KINDS:
            raise ValueError(f"unknown token kind {kind!r}")
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = self.now()
            self._grants = {key: grant for key, grant in self._grants.items()
                            if now - grant.issued_at <= self.lifetime}
            self._grants[token] = Grant(kind, region, name, now)
        return token

    def redeem(self, kind: str, token: str) -> Grant:
        """The grant `token` carries; TokenRefused when it is unknown, of another kind, or
        expired (its minute is over). A token stays good for its whole minute, however
        often it is shown."""
        with self._lock:
            grant = self._grants.get(token or "")
            if grant is None or grant.kind != kind:
                raise TokenRefused("unknown token")
            if self.now() - grant.issued_at > self.lifetime:
                del self._grants[token]
                raise TokenRefused("expired token")
            return grant

    def advance_clock(self, seconds: float) -> float:
        """Move the store's time on by `seconds` (not back): tokens age without a wait.
        Returns the total advance."""
        if seconds < 0:
            raise ValueError("the token clock only moves on")
        with self._lock:
            self._offset += seconds
            return self._offset
