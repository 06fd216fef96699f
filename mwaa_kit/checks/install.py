"""`mwaa-kit test-requirements`: really install requirements.txt as MWAA would.

The install is the contract's own (contract.requirements.ensure_virtualenv: MWAA's Python,
the image first, then requirements.txt with constraints and essential pins, the 9-minute
limit), run after the startup script as on MWAA, into a throwaway folder so nothing
cached hides a failure. uv's download cache still makes a second run quick.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name
from uv import find_uv_bin

from mwaa_kit import catalog
from mwaa_kit.checks import requirements as requirements_check
from mwaa_kit.checks.startup import run_script
from mwaa_kit.contract.requirements import RequirementsError, ensure_virtualenv
from mwaa_kit.contract.startup import StartupScriptError, inherited_environment
from mwaa_kit.project import Project, cache_dir


def install_requirements(project: Project, report: Callable[[str], None] = lambda m: None,
                         keep: Path | None = None) -> dict:
    version = project.version
    text = requirements_check.read(project)
    constraints_text, source = catalog.constraints_text(version, cache_dir() / "constraints")
    environ = dict(inherited_environment())
    if project.startup_script.exists():
        report("Sourcing startup.sh first, as MWAA does")
        try:
            environ.update(run_script(project)[0].exported)
        except StartupScriptError as error:
            return {"ok": False, "error": f"startup.sh failed before the install: {error}",
                    "seconds": 0.0, "constraints": source}
    scratch = Path(tempfile.mkdtemp(prefix="mwaa-kit-test-requirements-"))
    started = time.monotonic()
    try:
        try:
            venv = ensure_virtualenv(version, text, constraints_text, keep or scratch / "venvs",
                                     environ=environ, log_path=scratch / "install.log",
                                     report=report)
        except RequirementsError as error:
            return {"ok": False, "error": str(error), "seconds": time.monotonic() - started,
                    "constraints": source}
        seconds = time.monotonic() - started
        freeze = subprocess.run([find_uv_bin(), "pip", "freeze", "--python", str(venv.python)],
                                capture_output=True, text=True, check=True).stdout
        installed = requirements_check.pinned(freeze)
        check = subprocess.run([find_uv_bin(), "pip", "check", "--python", str(venv.python)],
                               capture_output=True, text=True)
        wanted = {canonicalize_name(line.requirement.name): installed.get(
            canonicalize_name(line.requirement.name))
            for line in requirements_check.parse_lines(text) if line.requirement}
        return {
            "ok": all(wanted.values()),
            "error": None if all(wanted.values()) else "some requirements are not installed",
            "seconds": seconds,
            "constraints": source,
            "installed_packages": len(installed),
            "requirements": wanted,
            "check": "" if check.returncode == 0 else (check.stdout + check.stderr).strip(),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
