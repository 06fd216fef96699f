"""The startup-script check: source startup.sh in a scratch environment, as MWAA does."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.contract import environment
from mwaa_kit.contract.bundle import refuse_forced_exports, startup_environment
from mwaa_kit.contract.startup import (
    StartupResult,
    StartupScriptError,
    run_startup_script,
)
from mwaa_kit.project import Project

SCRIPT = "requirements/startup.sh"


def run_script(project: Project, component: str = "scheduler",
               timeout: float | None = None) -> tuple[StartupResult, float]:
    """Run the project's startup.sh in a throwaway AIRFLOW_HOME; raise as the contract does."""
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-startup-check-") as scratch:
        home = Path(scratch) / "airflow-home"
        (home / "startup").mkdir(parents=True)
        script = home / "startup" / "startup.sh"
        shutil.copyfile(project.startup_script, script)
        started = time.monotonic()
        try:
            base = startup_environment(project.version, project.environment_name,
                                       project.region, home)
            result = run_startup_script(script, environment.for_component(base, component),
                                        cwd=home / "startup", timeout=timeout)
            refuse_forced_exports(script, project.version, result.exported)
        except StartupScriptError as error:  # name the user's file, not the scratch copy
            raise StartupScriptError(str(error).replace(str(script), SCRIPT)) from None
        return result, time.monotonic() - started


def run(project: Project, result: CheckResult) -> dict[str, str] | None:
    """Check the script; return what it exports, or None when it fails."""
    if not project.startup_script.exists():
        result.add("info", "no startup script", file=SCRIPT)
        return {}
    raw = project.startup_script.read_bytes()
    if b"\r\n" in raw:
        result.add("error", "has Windows (CRLF) line endings; bash on MWAA fails on them "
                   "($'\\r': command not found)", file=SCRIPT, code="startup.line_endings",
                   hint="convert it to LF line endings (dos2unix requirements/startup.sh)")
        return None
    try:
        outcome, seconds = run_script(project)
    except StartupScriptError as error:
        message = str(error).split(": ", 1)[-1]
        code = "startup.protected_variable" if "reserves" in message or "manages" in message \
            else "startup.timeout" if "still running" in message else "startup.exit_status"
        result.add("error", message, file=SCRIPT, code=code, hint=_hint(code))
        return None
    result.details.update({"seconds": round(seconds, 3), "exports": outcome.exported,
                           "output": outcome.output[-4000:]})
    for name in sorted(outcome.exported):
        result.add("info", f"exports {name}", file=SCRIPT)
    return outcome.exported


def _hint(code: str) -> str:
    return {
        "startup.protected_variable": "remove the export; use a variable name of your own",
        "startup.timeout": "MWAA allows 5 minutes: move slow work out of the script",
        "startup.exit_status": "make the script succeed: MWAA does not start the environment "
                               "otherwise (run `mwaa-kit test-startup-script` to see its output)",
    }[code]
