"""Starting the kit's service processes: the AWS emulator (moto server or LocalStack), the
MWAA API, the Salesforce stub and the DAG sync, each in its own process group with its own
log.

Every service is described the same way, by a `ServiceSpec` (its command, environment,
health check, start timeout and log), and started by the one `launch`: how a service is
started, waited for and reported when it fails is then the same for all of them, and a new
service is a new spec, not a new way of starting one.

The emulators themselves (`mwaa_kit.emulators`) only serve; starting, waiting for health
and recording the process is the runtime's, here, so that the emulators import nothing of
the runtime (the layers in pyproject's import-linter contract).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

from mwaa_kit.contract.python import find_python
from mwaa_kit.emulators.mwaa.server import HEALTH_PATH
from mwaa_kit.runtime import processes
from mwaa_kit.uv_settings import uv_environment

# LocalStack needs Python 3.13 and a resolution dated before its release (DESIGN.md).
LOCALSTACK_REQUIREMENT = "localstack-core[runtime]==2026.3.0"
LOCALSTACK_EXCLUDE_NEWER = "2026-03-25"
LOCALSTACK_SERVICES = "s3,sqs,secretsmanager,ssm,sts,iam"


@dataclass(frozen=True)
class ServiceSpec:
    """One service process, as `launch` starts it.

    `health` says when it is ready: an HTTP URL that answers, a TCP port on 127.0.0.1 that
    accepts connections, or None for a process with nothing to ask (started is ready).
    `port` is the port recorded with the process (status shows it, stop frees it).
    """

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    health: str | int | None
    start_timeout: float
    log: Path
    port: int | None = None


def launch(spec: ServiceSpec) -> processes.ProcessRecord:
    """Start `spec`'s process and wait until its health check passes: its record.

    Raises ProcessStartError (with the tail of its log) when the process exits while
    starting, StartTimeoutError when it is not healthy within `start_timeout`. A service
    that fails to start (or whose wait is interrupted) is stopped, its whole process group,
    never left running without a record to stop it by.
    """
    record = processes.start(spec.name, list(spec.argv), env=dict(spec.env), log=spec.log,
                             port=spec.port)
    try:
        if isinstance(spec.health, int):
            processes.wait_for_port(spec.health, record, timeout=spec.start_timeout)
        elif spec.health is not None:
            processes.wait_for_http(spec.health, spec.start_timeout, record)
    except BaseException:
        processes.stop(record)
        raise
    return record


def host_env() -> dict[str, str]:
    """The little of the caller's environment a service process needs."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


def moto_spec(log: Path, port: int, state: Path | None = None) -> ServiceSpec:
    """moto server on 127.0.0.1:`port`; with `state`, one that keeps the emulated account
    in that file across restarts and crashes (persistent_moto)."""
    argv = ((sys.executable, "-m", "mwaa_kit.emulators.aws.persistent_moto", "--port",
             str(port), "--state", str(state)) if state else
            (sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)))
    return ServiceSpec("aws", argv, host_env(), f"http://127.0.0.1:{port}/moto-api/", 60,
                       log, port)


def start_moto(log: Path, port: int, state: Path | None = None) -> processes.ProcessRecord:
    """Launch `moto_spec(log, port, state)`: its record once it answers."""
    return launch(moto_spec(log, port, state))


def localstack_spec(python: Path, state_dir: Path, log: Path, port: int) -> ServiceSpec:
    """LocalStack, run natively by `python` (its virtualenv's), on 127.0.0.1:`port`, its
    data kept in `state_dir`."""
    env = {
        **host_env(),
        "RUNTIME_COMPONENTS": "aws",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": LOCALSTACK_SERVICES,
        "LOCALSTACK_VOLUME_DIR": str(state_dir / "localstack-data"),
    }
    if os.environ.get("LOCALSTACK_AUTH_TOKEN"):
        env["LOCALSTACK_AUTH_TOKEN"] = os.environ["LOCALSTACK_AUTH_TOKEN"]
    return ServiceSpec("aws", (str(python), "-m", "localstack.runtime.main"), env,
                       f"http://127.0.0.1:{port}/_localstack/health", 180, log, port)


def start_localstack(
    state_dir: Path, cache_dir: Path, log: Path, port: int
) -> processes.ProcessRecord:
    """LocalStack on 127.0.0.1:`port`, installed first in the cache if it is not yet."""
    python = ensure_localstack(cache_dir / "localstack-venv", log)
    return launch(localstack_spec(python, state_dir, log, port))


def ensure_localstack(venv: Path, log: Path) -> Path:
    """A Python 3.13 virtualenv holding LocalStack, installed once."""
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    with log.open("a") as output:
        for command in (
            [find_uv_bin(), "venv", "--quiet", "--python", str(find_python("3.13")), str(venv)],
            [find_uv_bin(), "pip", "install", "--python", str(python), "--exclude-newer",
             LOCALSTACK_EXCLUDE_NEWER, LOCALSTACK_REQUIREMENT],
        ):
            subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, check=True,
                           env=uv_environment())
    (venv / ".complete").write_text("")
    return python


def mwaa_api_spec(log: Path, port: int, s3_endpoint: str, state_dir: Path,
                  create_delay: float = 5.0, update_delay: float = 5.0,
                  env: dict[str, str] | None = None, apply: str = "none",
                  project_dir: Path | None = None,
                  webserver_hostname: str | None = None, web_port: int | None = None,
                  web_upstream: str | None = None,
                  tls_dir: Path | None = None) -> ServiceSpec:
    """The MWAA API emulator process. `apply="contract"` prepares each update's bundle with
    the MWAA contract; `apply="native"` re-applies it to `project_dir`'s running native
    environment (see mwaa_kit.runtime.mwaa_api). With `web_port`, the process also serves
    the environment's HTTPS web server origin there, in front of the UI at `web_upstream`,
    its certificate from the CA in `tls_dir`."""
    argv = (sys.executable, "-m", "mwaa_kit.runtime.mwaa_api", "--port", str(port),
            "--s3-endpoint", s3_endpoint, "--state-dir", str(state_dir),
            "--create-delay", str(create_delay), "--update-delay", str(update_delay),
            "--apply", apply)
    if project_dir is not None:
        argv += ("--project", str(project_dir))
    if webserver_hostname:
        argv += ("--webserver-hostname", webserver_hostname)
    if web_port:
        argv += ("--web-port", str(web_port), "--web-upstream", str(web_upstream))
    if tls_dir is not None:
        argv += ("--tls-dir", str(tls_dir))
    return ServiceSpec("mwaa", argv, {**host_env(), **(env or {})},
                       f"http://127.0.0.1:{port}{HEALTH_PATH}", 30, log, port)


def start_mwaa_api(log: Path, port: int, s3_endpoint: str, state_dir: Path,
                   **options) -> processes.ProcessRecord:
    """Launch `mwaa_api_spec(...)` (same arguments): its record once it answers."""
    return launch(mwaa_api_spec(log, port, s3_endpoint, state_dir, **options))


def salesforce_stub_spec(log: Path, port: int, state_dir: Path) -> ServiceSpec:
    """The HTTPS Salesforce stub on 127.0.0.1:`port`, its org kept in `state_dir`. Its
    health is its port: its certificate is its own CA's, which urllib would refuse."""
    return ServiceSpec(
        "salesforce",
        (sys.executable, "-m", "mwaa_kit", "salesforce", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--state-dir", str(state_dir)),
        host_env(), port, 60, log, port,
    )


def start_salesforce_stub(log: Path, port: int, state_dir: Path) -> processes.ProcessRecord:
    """Launch `salesforce_stub_spec(log, port, state_dir)`: its record once it listens."""
    return launch(salesforce_stub_spec(log, port, state_dir))


def dags_sync_spec(log: Path, s3_endpoint: str, bucket: str, prefix: str, destination: Path,
                   interval: float, env: Mapping[str, str]) -> ServiceSpec:
    """The DAG sync: mirrors s3://`bucket`/`prefix` into `destination` every `interval`
    seconds, as MWAA's scheduler does. It serves nothing, so has no health to wait for;
    the first sync is the caller's, before it starts."""
    return ServiceSpec(
        "dags-sync",
        (sys.executable, "-m", "mwaa_kit.emulators.mwaa", "sync-dags",
         "--s3-endpoint", s3_endpoint, "--bucket", bucket, "--prefix", prefix,
         "--destination", str(destination), "--interval", str(interval)),
        env, None, 0, log,
    )
