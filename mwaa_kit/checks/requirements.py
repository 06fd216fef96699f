"""The requirements check: a dry-run resolution of requirements.txt as MWAA installs it.

Nothing is installed. The resolution uses the contract's own rules
(contract.requirements.effective_requirements: the version's constraints unless the file
has its own `-c` line; MWAA's essential pins always) and resolves for MWAA's platform
(Linux x86_64, the version's Python), with MWAA's image (Airflow and its preinstalled
providers) in the same resolution.

An empty (or missing) requirements.txt is not resolved: the image alone, with the
version's own constraints and MWAA's essential pins, is what the catalog ships and what
the scratch environment of the other checks installs anyway, and its packages without a
wheel are built in the image, never at the user's install (see _source_builds). A file
with only option lines (`-c`, `--index-url`...) is resolved: those change the image's
resolution.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from uv import find_uv_bin

from mwaa_kit import catalog
from mwaa_kit.catalog.locks import PLATFORM
from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.contract.requirements import (
    effective_requirements,
    has_own_constraints,
    without_official_constraints,
)
from mwaa_kit.project import Project, cache_dir
from mwaa_kit.uv_settings import uv_environment

FILE = "requirements/requirements.txt"
_CONSTRAINTS_URL = re.compile(r"constraints-(\d+(?:\.\d+)+)/constraints-(\d+\.\d+)\.txt")
_COMPILED_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".f", ".f90", ".rs", ".go")
_COMPILED_FILES = ("Cargo.toml",)
# Each package without a wheel costs one more resolution: report at most this many.
MAX_SOURCE_BUILDS_REPORTED = 5
# ... and pass at most this many that MWAA's image itself builds from source (python-nvd3
# of Airflow 2): they are in the image already, so a user's install never builds them.
MAX_IMAGE_SOURCE_BUILDS = 5


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    requirement: Requirement | None


def read(project: Project) -> str:
    """The project's requirements.txt; a missing file is an empty one, as on MWAA."""
    return project.requirements_file.read_text() if project.requirements_file.exists() else ""


def parse_lines(text: str) -> list[Line]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.split(" #", 1)[0].strip()
        if not stripped or stripped.startswith("#"):
            continue
        requirement = None
        if not stripped.startswith("-"):
            try:
                requirement = Requirement(stripped)
            except InvalidRequirement:
                requirement = None
        lines.append(Line(number, stripped, requirement))
    return lines


def constraints_line(lines: list[Line]) -> Line | None:
    return next((line for line in lines if has_own_constraints(line.text)), None)


def essential_conflicts(version: catalog.AirflowVersion, lines: list[Line],
                        result: CheckResult) -> None:
    """Requirements whose version range excludes what MWAA's essential pins keep."""
    pins = {}
    for pin in version.essential_pins:
        name, _, pinned = pin.partition("==")
        pins[canonicalize_name(name)] = (name, pinned)
    for line in lines:
        requirement = line.requirement
        if requirement is None:
            continue
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned and requirement.specifier and not requirement.specifier.contains(
                pinned[1], prereleases=True):
            result.add("error", f"'{line.text}' fights MWAA's essential pin {pinned[0]}=="
                       f"{pinned[1]}: MWAA always installs that version, so this line can "
                       "never be satisfied", file=FILE, line=line.number,
                       code="requirements.essential_pin",
                       hint=f"remove the version from '{requirement.name}' (or the line)")


def check_constraints_line(version: catalog.AirflowVersion, lines: list[Line],
                           result: CheckResult) -> None:
    line = constraints_line(lines)
    if line is None:
        result.add("info", f"no constraints line: MWAA adds {version.constraints_url}",
                   file=FILE)
        return
    target = line.text.split("=", 1)[1] if line.text.startswith("--constraint=") else \
        line.text.split(None, 1)[1]
    target = target.strip().strip('"').strip("'")
    match = _CONSTRAINTS_URL.search(target)
    if match is None:
        result.add("warning", f"constraints line '{line.text}' does not say which Airflow "
                   "and Python version it is for; MWAA uses it instead of its own "
                   "constraints", file=FILE, line=line.number,
                   code="requirements.constraints_line",
                   hint=f"use {version.constraints_url}, or remove the line")
        return
    airflow, python = match.groups()
    if (airflow, python) != (version.airflow_version, version.python_version):
        result.add("error", f"constraints line is for Airflow {airflow} on Python {python}; "
                   f"this environment runs Airflow {version.airflow_version} on Python "
                   f"{version.python_version}", file=FILE, line=line.number,
                   code="requirements.constraints_line",
                   hint=f"use {version.constraints_url}, or remove the line (MWAA then "
                        "adds the right one)")


def resolve(version: catalog.AirflowVersion, requirements_text: str, workdir: Path,
            extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`uv pip compile` of MWAA's image plus the requirements, for MWAA's platform."""
    requirements_text = without_official_constraints(requirements_text, version.constraints_url)
    constraints_text, _ = catalog.constraints_text(version, cache_dir() / "constraints")
    constraints = workdir / "constraints.txt"
    constraints.write_text(constraints_text)
    essential = workdir / "essential-pins.txt"
    essential.write_text("\n".join(version.essential_pins) + "\n")
    base = workdir / "image.in"
    base.write_text("\n".join(version.base_requirements) + "\n")
    user = workdir / "requirements.txt"
    user.write_text(effective_requirements(requirements_text, constraints))
    command = [
        find_uv_bin(), "pip", "compile", str(base), str(user), "-c", str(essential),
        "--python-version", version.python_version, "--python-platform", PLATFORM,
        "--no-header", "--no-annotate", "--quiet", *extra,
    ]
    if has_own_constraints(requirements_text):
        command[5:5] = ["-c", str(constraints)]  # the image itself keeps MWAA's constraints
    return subprocess.run(command, capture_output=True, text=True, env=uv_environment(),
                          cwd=workdir, timeout=catalog.mwaa().requirements_timeout_seconds)


def uv_reason(stderr: str) -> str:
    lines = [line.strip(" ╰─▶×│") for line in stderr.strip().splitlines()]
    lines = [line.strip() for line in lines if line.strip() and not line.startswith("hint")]
    return " ".join(lines)[:1500]


# uv's words when a download fails (DNS, refused or reset connections, timeouts), as
# opposed to a resolution that fails on the requirements themselves.
_NETWORK_FAILURE = re.compile(
    r"dns error|failed to lookup address|name or service not known|temporary failure in "
    r"name resolution|connection refused|connection reset|tcp connect error|error sending "
    r"request|operation timed out|network is unreachable|failed to download|failed to fetch",
    re.IGNORECASE)


def is_network_failure(reason: str) -> bool:
    lowered = reason.lower()
    return (bool(_NETWORK_FAILURE.search(reason)) and "no solution" not in lowered
            and "status client error" not in lowered)  # a 404: a wrong URL, not the network


def _names_in(message: str, lines: list[Line]) -> list[Line]:
    lowered = message.lower().replace("_", "-")
    found = [line for line in lines if line.requirement and re.search(
        rf"(?<![\w-]){re.escape(canonicalize_name(line.requirement.name))}(?![\w-])",
        lowered)]
    return found


def pinned(resolution: str) -> dict[str, str]:
    pins = {}
    for raw in resolution.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if "==" in line:
            name, _, pinned_version = line.partition("==")
            pins[canonicalize_name(name.split("[", 1)[0])] = pinned_version.strip()
    return pins


def run(project: Project, result: CheckResult) -> None:
    version = project.version
    text = read(project)
    lines = parse_lines(text)
    if not lines:
        result.nothing_to_check("no requirements to resolve: the environment is MWAA's "
                                "image alone", file=FILE)
        return
    if not any(line.requirement for line in lines):
        result.add("info", "no requirements beyond MWAA's image", file=FILE)
    essential_conflicts(version, lines, result)
    check_constraints_line(version, lines, result)
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-requirements-") as scratch:
        workdir = Path(scratch)
        resolved = resolve(version, text, workdir)
        if resolved.returncode != 0:
            reason = uv_reason(resolved.stderr)
            if is_network_failure(reason):
                result.add("error", f"the resolution could not reach the network: {reason}",
                           file=FILE, code="requirements.network",
                           hint="nothing in requirements.txt is wrong: check the network, "
                                "the proxy (HTTPS_PROXY) or the index (UV_INDEX_URL), then run "
                                "validate again")
                return
            culprits = _names_in(reason, lines) or [None]
            for line in culprits:
                named = f"'{line.requirement.name}' " if line else ""
                result.add("error", f"{named}cannot be installed with Airflow "
                           f"{version.airflow_version}'s constraints and MWAA's essential "
                           f"pins: {reason}", file=FILE, line=line.number if line else None,
                           code="requirements.unresolvable",
                           hint="pick a version allowed by the constraints, or drop the pin")
            return
        pins = pinned(resolved.stdout)
        result.details["resolved_packages"] = len(pins)
        user_pins = {canonicalize_name(line.requirement.name): pins.get(
            canonicalize_name(line.requirement.name)) for line in lines if line.requirement}
        result.details["requirements"] = user_pins
        _source_builds(version, text, lines, workdir, result)


def image_pins(version: catalog.AirflowVersion, workdir: Path) -> dict[str, str]:
    """What MWAA's image holds before any user requirement: the image resolved alone
    (canonical name -> version); empty when that resolution fails."""
    scratch = workdir / "image-alone"
    scratch.mkdir(parents=True, exist_ok=True)
    resolved = resolve(version, "", scratch)
    return pinned(resolved.stdout) if resolved.returncode == 0 else {}


def _source_builds(version: catalog.AirflowVersion, text: str, lines: list[Line],
                   workdir: Path, result: CheckResult) -> None:
    """Packages with no wheel for MWAA's platform build from source there. uv names one at
    a time, so each one found is let build from source and the resolution runs again.
    Only what the user's requirements add is reported: a package MWAA's image already
    holds at the same version (python-nvd3 of Airflow 2) is installed there once, in the
    image, and never built at the user's install."""
    found: dict[str, tuple[str, str]] = {}  # canonical name -> (name, version)
    added: dict[str, tuple[str, str]] = {}  # those the user's requirements add
    image: dict[str, str] | None = None  # resolved when a first package has no wheel
    for _ in range(MAX_SOURCE_BUILDS_REPORTED + MAX_IMAGE_SOURCE_BUILDS):
        if len(added) >= MAX_SOURCE_BUILDS_REPORTED:
            break
        allowed = [argument for name in found for argument in ("--no-binary", name)]
        wheels_only = resolve(version, text, workdir, ("--only-binary", ":all:", *allowed))
        if wheels_only.returncode == 0:
            break
        reason = uv_reason(wheels_only.stderr)
        names = [(name, found_version) for name, found_version in _no_wheel_packages(reason)
                 if canonicalize_name(name) not in found]
        if not names:
            if not found:
                result.add("warning", f"a package has no wheel for MWAA's platform: {reason}",
                           file=FILE, code="requirements.sdist_only")
            break
        if image is None:
            image = image_pins(version, workdir)
        for name, found_version in names:
            found[canonicalize_name(name)] = (name, found_version)
            if image.get(canonicalize_name(name)) != found_version:
                added[canonicalize_name(name)] = (name, found_version)
    by_name = {canonicalize_name(line.requirement.name): line for line in lines
               if line.requirement}
    for name, found_version in added.values():
        line = by_name.get(canonicalize_name(name))
        compiled = _needs_compiler(name, found_version, workdir)
        where = {"file": FILE, "line": line.number if line else None}
        if compiled:
            result.add("error", f"{name}=={found_version} has no wheel for Linux x86_64 / "
                       f"Python {version.python_version} and its source has compiled code "
                       f"({compiled}); MWAA's image has "
                       "no compiler, so the install fails there", **where,
                       code="requirements.needs_compiler",
                       hint="choose a version with a manylinux wheel, or build the wheel "
                            "and ship it with `mwaa-kit package --wheels`")
        else:
            result.add("warning", f"{name}=={found_version} has no wheel for MWAA's "
                       "platform and is built from source at every MWAA install "
                       "(it looks pure Python, so it should build)", **where,
                       code="requirements.sdist_only",
                       hint="`mwaa-kit package --wheels` ships a built wheel instead")


def _no_wheel_packages(reason: str) -> list[tuple[str, str]]:
    return re.findall(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([\w.+!-]+) has no (?:usable )?wheels",
                      reason) or re.findall(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:==| )([\w.+!-]+)"
                                            r"[^.]*?(?:no wheels|no usable wheels)", reason)


def _needs_compiler(name: str, found_version: str, workdir: Path) -> str | None:
    """The first compiled-language source file in the package's sdist, if any."""
    download = workdir / "sdists" / canonicalize_name(name)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "-q", "-d", str(download), f"{name}=={found_version}"]
    try:
        subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    except (subprocess.SubprocessError, OSError):
        return "its source could not be inspected"
    for archive in sorted(download.glob("*")):
        for member in _members(archive):
            if member.endswith(_COMPILED_SOURCES) or member.rsplit("/", 1)[-1] in _COMPILED_FILES:
                return member.split("/", 1)[-1]
    return None


def _members(archive: Path) -> list[str]:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as opened:
            return opened.namelist()
    try:
        with tarfile.open(archive) as opened:
            return opened.getnames()
    except tarfile.TarError:
        return []
