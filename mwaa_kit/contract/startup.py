"""startup.sh as MWAA runs it: sourced by bash before the requirements install.

Whatever the script leaves in its environment is captured and merged into every
Airflow process. MWAA reserves some variables; a script that sets one of them is
refused, naming the variable, rather than silently ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.errors import KitError

# Variables bash itself changes on every run: never part of what a script exports.
_SHELL_NOISE = {"SHLVL", "_", "PWD", "OLDPWD", "BASH_EXECUTION_STRING", "_MWAA_KIT_ENV_DUMP"}
_RUNNER = 'trap \'env -0 > "$_MWAA_KIT_ENV_DUMP"\' EXIT; source "$0"'


class StartupScriptError(KitError, RuntimeError):
    """The startup script failed, timed out or touched a variable MWAA reserves."""


@dataclass(frozen=True)
class StartupResult:
    """What the script exported (new or changed variables) and what it printed."""

    exported: dict[str, str]
    output: str


def run_startup_script(
    script: Path, base_env: dict[str, str], cwd: Path, timeout: float | None = None
) -> StartupResult:
    """Source `script` with `base_env`; return the variables it set or changed."""
    timeout = timeout or catalog.mwaa().startup_timeout_seconds
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-startup-") as scratch:
        dump = Path(scratch) / "env"
        env = {**base_env, "_MWAA_KIT_ENV_DUMP": str(dump)}
        # Its own session, so that at the time limit the script's children (a `sleep`, a
        # download) are stopped with it rather than left running.
        with subprocess.Popen(
            ["bash", "-c", _RUNNER, str(script)], env=env, cwd=cwd, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ) as process:
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                raise StartupScriptError(
                    f"{script}: still running after MWAA's {int(timeout)} s limit. "
                    "Move slow work out of the startup script."
                ) from None
        if process.returncode != 0:
            raise StartupScriptError(
                f"{script}: exited with status {process.returncode}; MWAA would not start "
                f"the environment. Its output:\n{output.strip()}"
            )
        after = _parse_env_dump(dump.read_bytes()) if dump.exists() else {}
    exported = {
        name: value
        for name, value in after.items()
        if name not in _SHELL_NOISE and base_env.get(name) != value
    }
    refuse_protected(script, exported)
    return StartupResult(exported=exported, output=output)


def refuse_protected(script: Path, exported: dict[str, str]) -> None:
    """Raise when the script set a variable MWAA reserves for itself."""
    protected = sorted(name for name in exported if catalog.is_protected_env_var(name))
    if protected:
        raise StartupScriptError(
            f"{script}: sets {', '.join(protected)}, which MWAA reserves; MWAA would not "
            "apply it. Remove the export (use another variable name for your own value)."
        )


def _parse_env_dump(raw: bytes) -> dict[str, str]:
    variables = {}
    for entry in raw.decode(errors="replace").split("\0"):
        name, separator, value = entry.partition("=")
        if separator and name:
            variables[name] = value
    return variables


def inherited_environment() -> dict[str, str]:
    """The host variables a startup script and the install may rely on: PATH, HOME,
    locale, proxies, and a corporate proxy's CA and package index settings."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "TMPDIR", "SSL_CERT_FILE",
            "SSL_CERT_DIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update({k: v for k, v in os.environ.items()
                if k.lower().endswith("_proxy") or k.startswith(("PIP_", "UV_"))})
    return env
