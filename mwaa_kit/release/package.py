"""`mwaa-kit package`: the artifacts MWAA consumes, in dist/.

- plugins.zip: the contract's deterministic build (sorted entries, fixed timestamps and
  modes), so the same plugins/ gives the same bytes in any checkout at any time;
- requirements.txt: the project's, with the constraints line MWAA would add (the official
  constraints URL of the version) unless it has its own;
- startup.sh: the project's, byte for byte.

With `wheels=True`, every package the requirements add to MWAA's image is downloaded as a
wheel for MWAA's platform (manylinux x86_64, the version's Python) into plugins.zip's
wheels/, and requirements.txt installs from /usr/local/airflow/plugins/wheels with
--no-index: for environments without internet access.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.checks import requirements as requirements_check
from mwaa_kit.contract.plugins import build_plugins_zip
from mwaa_kit.contract.requirements import effective_requirements, has_own_constraints
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project, cache_dir

MWAA_PLUGINS = "/usr/local/airflow/plugins"
WHEELS_DIR = "wheels"
# Platform tags MWAA's Linux x86_64 image (glibc 2.34 and newer) installs.
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_24_x86_64",
             "manylinux_2_28_x86_64", "manylinux_2_31_x86_64", "manylinux_2_34_x86_64")


class PackageError(KitError, RuntimeError):
    """The artifacts could not be built; the message says why and what to do."""


@dataclass
class Packaged:
    """What `package` built in `dist`: each artifact's sha256, the wheels shipped in
    plugins.zip, and the constraints line requirements.txt carries."""

    dist: Path
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256
    wheels: list[str] = field(default_factory=list)
    constraints_line: str | None = None

    def to_dict(self) -> dict:
        """The JSON `mwaa-kit package --json` prints."""
        return {"dist": str(self.dist), "files": self.files, "wheels": self.wheels,
                "constraints_line": self.constraints_line}


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file: how `package` reports each artifact, so builds compare byte for
    byte."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def requirements_for_mwaa(version: catalog.AirflowVersion, requirements_text: str) -> str:
    """requirements.txt with the constraints line MWAA would add (contract's rule)."""
    return effective_requirements(requirements_text, version.constraints_url)


def package(project: Project, dist: Path, wheels: bool = False,
            report: Callable[[str], None] = lambda message: None) -> Packaged:
    """Build MWAA's artifacts in `dist`, replacing earlier ones: plugins.zip (when there are
    plugins or wheels), requirements.txt (always) and startup.sh (when the project has one).
    `wheels=True` also ships the added packages as wheels, for environments without internet."""
    dist.mkdir(parents=True, exist_ok=True)
    version = project.version
    text = project.requirements_file.read_text() if project.requirements_file.exists() else ""
    result = Packaged(dist=dist)
    for stale in ("plugins.zip", "requirements.txt", "startup.sh"):
        (dist / stale).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-package-") as scratch:
        staging = Path(scratch) / "plugins"
        if project.plugins_dir.is_dir():
            shutil.copytree(project.plugins_dir, staging, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if wheels:
            report("Resolving what requirements.txt adds to MWAA's image")
            names = wheel_requirements(version, text, Path(scratch))
            report(f"Downloading {len(names)} wheel(s) for manylinux x86_64, "
                   f"Python {version.python_version}")
            result.wheels = download_wheels(version, names, staging / WHEELS_DIR)
            constraints_text, _ = catalog.constraints_text(version, cache_dir() / "constraints")
            (staging / WHEELS_DIR / "constraints.txt").write_text(constraints_text)
            requirements = offline_requirements(text)
        else:
            requirements = requirements_for_mwaa(version, text) if text.strip() else text
        if staging.is_dir():
            report("Building plugins.zip (deterministic)")
            build_plugins_zip(staging, dist / "plugins.zip")
    (dist / "requirements.txt").write_text(requirements)
    if project.startup_script.exists():
        shutil.copyfile(project.startup_script, dist / "startup.sh")
    result.constraints_line = next(
        (line.strip() for line in requirements.splitlines() if has_own_constraints(line)), None)
    for name in ("plugins.zip", "requirements.txt", "startup.sh"):
        if (dist / name).exists():
            result.files[name] = sha256(dist / name)
    return result


def offline_requirements(requirements_text: str) -> str:
    """requirements.txt that installs only from the wheels shipped in plugins.zip."""
    kept = [line for line in requirements_text.splitlines()
            if not has_own_constraints(line) and not line.strip().startswith(
                ("--index-url", "-i ", "--extra-index-url", "--find-links", "-f ",
                 "--no-index"))]
    header = [
        "# Installs offline from the wheels mwaa-kit shipped in plugins.zip.",
        "--no-index",
        f"--find-links {MWAA_PLUGINS}/{WHEELS_DIR}",
        f"-c {MWAA_PLUGINS}/{WHEELS_DIR}/constraints.txt",
    ]
    return "\n".join(header + kept).rstrip("\n") + "\n"


def wheel_requirements(version: catalog.AirflowVersion, requirements_text: str,
                       workdir: Path) -> list[str]:
    """`name==version` of every package the requirements add to (or change in) the image."""
    image_dir = workdir / "image"
    full_dir = workdir / "full"
    image_dir.mkdir()
    full_dir.mkdir()
    image = requirements_check.resolve(version, "", image_dir)
    full = requirements_check.resolve(version, requirements_text, full_dir)
    for outcome in (image, full):
        if outcome.returncode != 0:
            raise PackageError("requirements.txt does not resolve for MWAA's platform: "
                               + requirements_check.uv_reason(outcome.stderr)
                               + " (run `mwaa-kit validate --only requirements`)")
    in_image = requirements_check.pinned(image.stdout)
    return sorted(f"{name}=={pinned}" for name, pinned in
                  requirements_check.pinned(full.stdout).items()
                  if in_image.get(name) != pinned)


def download_wheels(version: catalog.AirflowVersion, names: list[str], target: Path) -> list[str]:
    """Download wheels (never sdists) for MWAA's platform with pip; return the file names."""
    target.mkdir(parents=True, exist_ok=True)
    if not names:
        return []
    python_tag = "cp" + version.python_version.replace(".", "")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", version.python_version, "--implementation", "cp",
               "--abi", python_tag, "--abi", "abi3", "--abi", "none", "-d", str(target),
               "--disable-pip-version-check", "-q"]
    for platform in PLATFORMS:
        command += ["--platform", platform]
    try:
        result = subprocess.run(command + names, capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        raise PackageError("pip is needed for --wheels (python -m pip)") from None
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise PackageError(f"a wheel for MWAA's platform is missing:\n{tail}\nBuild it for "
                           "manylinux x86_64 and put it in plugins/wheels/, or pick a version "
                           "that publishes one.")
    return sorted(path.name for path in target.glob("*.whl"))
