"""Starting the AWS emulator: moto server (light, embedded) or LocalStack (run natively).

Neither implements MWAA's own API; the kit's MWAA emulator covers that. Both answer S3
(versioned), SQS and Secrets Manager on one HTTP endpoint that boto3 reaches through
AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

from mwaa_kit.contract.python import find_python
from mwaa_kit.runtime import processes

# Credentials the emulators accept; never real ones, so a mistaken endpoint cannot
# touch a real account.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# LocalStack needs Python 3.13 and a resolution dated before its release (DESIGN.md).
LOCALSTACK_REQUIREMENT = "localstack-core[runtime]==2026.3.0"
LOCALSTACK_EXCLUDE_NEWER = "2026-03-25"
LOCALSTACK_SERVICES = "s3,sqs,secretsmanager,ssm,sts,iam"


def client_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What a boto3 client needs to talk to the emulator instead of AWS."""
    return {"AWS_ENDPOINT_URL": endpoint_url, "AWS_DEFAULT_REGION": region,
            **EMULATOR_CREDENTIALS}


def start_moto(log: Path, port: int, state: Path | None = None) -> processes.ProcessRecord:
    """moto server on 127.0.0.1:`port`; with `state`, one that keeps the emulated account
    in that file across restarts and crashes (persistent_moto)."""
    command = ([sys.executable, "-m", "mwaa_kit.emulators.aws.persistent_moto", "--port",
                str(port), "--state", str(state)] if state else
               [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    record = processes.start("aws", command, env=_host_env(), log=log, port=port)
    processes.wait_for_http(f"http://127.0.0.1:{port}/moto-api/", 60, record)
    return record


def start_localstack(
    state_dir: Path, cache_dir: Path, log: Path, port: int
) -> processes.ProcessRecord:
    python = ensure_localstack(cache_dir / "localstack-venv", log)
    env = {
        **_host_env(),
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


def _host_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {name: os.environ[name] for name in keep if name in os.environ}
