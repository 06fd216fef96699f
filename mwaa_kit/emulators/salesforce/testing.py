"""A running stub for tests and the runtime: a real separate process over HTTPS, seeded,
then stopped.

    with running_stub(tmp_path, seed={"Opportunity": 500, "Account": 50}) as stub:
        os.environ["REQUESTS_CA_BUNDLE"] = str(stub.ca_path)
        sf = Salesforce(domain=stub.domain, **stub.credentials)
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mwaa_kit.emulators.salesforce import auth, org


@dataclass(frozen=True)
class RunningStub:
    """A stub running_stub() started: its port, its state dir, and the default credentials it
    accepts."""

    port: int
    state_dir: Path
    credentials: dict = field(default_factory=lambda: {
        "username": auth.USERNAME, "password": auth.PASSWORD,
        "security_token": auth.SECURITY_TOKEN})
    consumer_key: str = auth.CLIENT_ID
    consumer_secret: str = auth.CLIENT_SECRET

    @property
    def base_url(self) -> str:
        """The stub's HTTPS URL; its certificate is signed by the CA at ca_path."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_path(self) -> Path:
        """The CA that signs the stub's certificate: point REQUESTS_CA_BUNDLE at it."""
        return self.state_dir / "ca.pem"

    @property
    def domain(self) -> str:
        """simple-salesforce's `domain`: https://{domain}.salesforce.com/... then lands on
        this stub, the rest of the URL becoming a fragment."""
        return f"127.0.0.1:{self.port}/#"

    @property
    def jwt_key_path(self) -> Path:
        """The private key that the stub's default connected app trusts (JWT bearer)."""
        return self.state_dir / "jwt-key.pem"

    @property
    def log_path(self) -> Path:
        """The stub process's output; running_stub() quotes it when the stub does not start."""
        return self.state_dir / "stub.log"

    def admin(self, path: str, method: str = "GET", data=None):
        """Call the stub's /__admin API (fault rules, sessions); returns its JSON."""
        context = ssl.create_default_context(cafile=str(self.ca_path))
        body = json.dumps(data).encode() if data is not None else None
        request = urllib.request.Request(f"{self.base_url}/__admin/{path}", data=body,
                                         method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return json.loads(response.read())

    def set_faults(self, rules: list[dict]) -> list[dict]:
        """Replace the fault rules (see mwaa_kit.emulators.salesforce.faults)."""
        return self.admin("faults", "PUT", rules)

    def clear_faults(self) -> None:
        """Remove every fault rule; sessions stay valid."""
        self.admin("faults", "DELETE")


def _cli(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "mwaa_kit", "salesforce", *arguments]


@contextmanager
def running_stub(state_dir: Path, seed: dict[str, int] | None = None, seed_value: int = 42,
                 now: str | None = None, session_ttl: float = 7200,
                 objects_file: Path | None = None,
                 fixtures: list[Path] | tuple[Path, ...] = ()) -> Iterator[RunningStub]:
    """Seed `state_dir` (when `seed` or `fixtures` are given), serve it on a free port
    in its own process, and stop it (SIGTERM) on exit. Its log is state_dir/stub.log."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    schema = ["--objects-file", str(objects_file)] if objects_file else []
    if seed or fixtures:
        files = [arg for path in fixtures for arg in ("--from-file", str(path))]
        done = subprocess.run(_cli("seed", "--state-dir", str(state_dir),
                                   *org.seed_arguments(seed or {}, seed_value),
                                   *(["--now", now] if now else []), *schema, *files),
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"seeding the Salesforce stub failed: {done.stdout}"
                               f"{done.stderr}")
    (state_dir / "port").unlink(missing_ok=True)
    log = (state_dir / "stub.log").open("ab")
    process = subprocess.Popen(
        _cli("serve", "--port", "0", "--state-dir", str(state_dir), "--session-ttl",
             str(session_ttl), "--quiet", *schema), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (state_dir / "port").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Salesforce stub did not start: "
                                   + (state_dir / "stub.log").read_text()[-2000:])
            time.sleep(0.05)
        yield RunningStub(int((state_dir / "port").read_text()), state_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
