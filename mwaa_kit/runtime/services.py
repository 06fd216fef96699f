"""Starting the kit's service processes: the AWS emulator (moto server or LocalStack), the
MWAA API and the Salesforce stub, each in its own process group with its own log.

The emulators themselves (`mwaa_kit.emulators`) only serve; starting, waiting for health
and recording the process is the runtime's, here, so that the emulators import nothing of
the runtime (the layers in pyproject's import-linter contract).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

from mwaa_kit.contract.python import find_python
from mwaa_kit.emulators.mwaa.server import HEALTH_PATH
from mwaa_kit.runtime import processes

# LocalStack needs Python 3.13 and a resolution dated before its release (DESIGN.md).
LOCALSTACK_REQUIREMENT = "localstack-core[runtime]==2026.3.0"
LOCALSTACK_EXCLUDE_NEWER = "2026-03-25"
LOCALSTACK_SERVICES = "s3,sqs,secretsmanager,ssm,sts,iam"


def host_env() -> dict[str, str]:
    """The little of the caller's environment a service process needs."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}


def start_moto(log: Path, port: int, state: Path | None = None) -> processes.ProcessRecord:
    """moto server on 127.0.0.1:`port`; with `state`, one that keeps the emulated account
    in that file across restarts and crashes (persistent_moto)."""
    command = ([sys.executable, "-m", "mwaa_kit.emulators.aws.persistent_moto", "--port",
                str(port), "--state", str(state)] if state else
               [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    record = processes.start("aws", command, env=host_env(), log=log, port=port)
    processes.wait_for_http(f"http://127.0.0.1:{port}/moto-api/", 60, record)
    return record


def start_localstack(
    state_dir: Path, cache_dir: Path, log: Path, port: int
) -> processes.ProcessRecord:
    """LocalStack (run natively, in its own virtualenv) on 127.0.0.1:`port`."""
    python = ensure_localstack(cache_dir / "localstack-venv", log)
    env = {
        **host_env(),
        "RUNTIME_COMPONENTS": "aws",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": LOCALSTACK_SERVICES,
        "LOCALSTACK_VOLUME_DIR": str(state_dir / "localstack-data"),
    }
    if os.environ.get("LOCALSTACK_AUTH_TOKEN"):
        env["LOCALSTACK_AUTH_TOKEN"] = os.environ["LOCALSTACK_AUTH_TOKEN"]
    record = processes.start(
        "aws", [str(python), "-m", "localstack.runtime.main"], env=env, log=log, port=port
    )
    processes.wait_for_http(f"http://127.0.0.1:{port}/_localstack/health", 180, record)
    return record


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
                           env={**os.environ, "UV_SYSTEM_CERTS": "true"})
    (venv / ".complete").write_text("")
    return python


def start_mwaa_api(log: Path, port: int, s3_endpoint: str, state_dir: Path,
                   create_delay: float = 5.0, update_delay: float = 5.0,
                   env: dict[str, str] | None = None, apply: str = "none",
                   project_dir: Path | None = None,
                   webserver_hostname: str | None = None) -> processes.ProcessRecord:
    """The MWAA API emulator process. `apply="contract"` prepares each update's bundle with
    the MWAA contract; `apply="native"` re-applies it to `project_dir`'s running native
    environment (see mwaa_kit.runtime.mwaa_api)."""
    command = [sys.executable, "-m", "mwaa_kit.runtime.mwaa_api", "--port", str(port),
               "--s3-endpoint", s3_endpoint, "--state-dir", str(state_dir),
               "--create-delay", str(create_delay), "--update-delay", str(update_delay),
               "--apply", apply]
    if project_dir is not None:
        command += ["--project", str(project_dir)]
    if webserver_hostname:
        command += ["--webserver-hostname", webserver_hostname]
    record = processes.start("mwaa", command, env={**host_env(), **(env or {})}, log=log,
                             port=port)
    processes.wait_for_http(f"http://127.0.0.1:{port}{HEALTH_PATH}", 30, record)
    return record


def start_salesforce_stub(log: Path, port: int, state_dir: Path) -> processes.ProcessRecord:
    """The HTTPS Salesforce stub on 127.0.0.1:`port`, its org kept in `state_dir`."""
    record = processes.start(
        "salesforce",
        [sys.executable, "-m", "mwaa_kit", "salesforce", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--state-dir", str(state_dir)],
        env=host_env(), log=log, port=port,
    )
    processes.wait_for_port(port, record, timeout=60)
    return record
