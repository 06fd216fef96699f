"""A running stub for tests: a real separate process over HTTPS, seeded and stopped."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mwaa_kit.emulators.salesforce import auth


@dataclass(frozen=True)
class RunningStub:
    port: int
    state_dir: Path
    credentials: dict = field(default_factory=lambda: {
        "username": auth.USERNAME, "password": auth.PASSWORD,
        "security_token": auth.SECURITY_TOKEN})

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path:
        return self.state_dir / "ca.pem"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}/#"


def _cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "mwaa_kit.emulators.salesforce", *arguments]


@contextmanager
def running_stub(state_dir: Path, seed: dict[str, int] | None = None, seed_value: int = 42,
                 now: str | None = None, session_ttl: float = 7200) -> Iterator[RunningStub]:
    """Seed `state_dir` (when `seed` is given), serve it on a free port, stop on exit."""
    state_dir = Path(state_dir)
    if seed:
        objects = [arg for name, count in seed.items() for arg in ("--object",
                                                                     f"{name}={count}")]
        subprocess.run(_cli("seed", "--state-dir", str(state_dir), "--seed", str(seed_value),
                            *(["--now", now] if now else []), *objects),
                       check=True, capture_output=True)
    (state_dir / "port").unlink(missing_ok=True)
    process = subprocess.Popen(
        _cli("serve", "--port", "0", "--state-dir", str(state_dir), "--session-ttl",
             str(session_ttl)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (state_dir / "port").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Salesforce stub did not start: "
                                   + process.stderr.read().decode()[-2000:])
            time.sleep(0.1)
        yield RunningStub(int((state_dir / "port").read_text()), state_dir)
    finally:
        process.terminate()
        process.wait(timeout=10)
