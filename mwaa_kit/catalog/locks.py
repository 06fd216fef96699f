"""Make the constraints lock a catalog version ships: `python -m mwaa_kit.catalog.locks 3.0.6`.

The official Airflow constraints file cannot always be downloaded (its host is blocked on
many build machines), so each catalog version ships a lock that stands in for it. A lock is
resolved by `uv pip compile` for Linux x86_64 and the version's Python, from Airflow with the
extras MWAA's image installs, MWAA's preinstalled providers and essential pins, and a few
widely used providers, using only distributions uploaded before the day after the Airflow
release (`--exclude-newer`), so the resolution is what a user would have got that day.
The output is a flat `name==version` list, like the official file, under a header that
records how it was made.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.uv_settings import uv_environment

PLATFORM = "x86_64-manylinux_2_28"


def find_uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # noqa: PLC0415 — fallback when no uv is on PATH
    except ImportError as error:  # pragma: no cover - uv is a dependency of the kit
        raise SystemExit("uv is needed to resolve a lock: pip install uv") from error
    return find_uv_bin()


def lock_inputs(version: catalog.AirflowVersion) -> list[str]:
    """The requirements the lock is resolved from, in a stable order."""
    extras = f"[{','.join(version.lock_extras)}]" if version.lock_extras else ""
    airflow = f"apache-airflow{extras}=={version.airflow_version}"
    essential = [pin for pin in version.essential_pins if not pin.startswith("apache-airflow==")]
    return [airflow, *version.image_requirements, *version.preinstalled_providers, *essential,
            *version.lock_requirements]


def compile_command(version: catalog.AirflowVersion, input_path: Path, uv: str) -> list[str]:
    return [
        uv, "pip", "compile", str(input_path),
        "--python-version", version.python_version,
        "--python-platform", PLATFORM,
        "--exclude-newer", version.lock_exclude_newer.isoformat(),
        "--no-header", "--no-annotate", "--quiet",
    ]


def header(version: catalog.AirflowVersion, inputs: list[str], uv_version: str,
           generated: datetime.date) -> str:
    shown = (
        f"uv pip compile lock.in --python-version {version.python_version} "
        f"--python-platform {PLATFORM} --exclude-newer {version.lock_exclude_newer.isoformat()} "
        "--no-header --no-annotate"
    )
    lines = [
        f"mwaa-kit constraints lock for Apache Airflow {version.airflow_version}, "
        f"Python {version.python_version} (Linux x86_64).",
        "",
        "It stands in for the official constraints file, used when that cannot be downloaded:",
        f"  {version.constraints_url}",
        "It was resolved here, not copied: it pins what the inputs below need (the official",
        "file covers every provider, so some shared dependencies differ) and, unlike the",
        "official file, apache-airflow itself.",
        "",
        f"Made by:      python -m mwaa_kit.catalog.locks {version.airflow_version}",
        f"Which runs:   {shown}",
        f"With:         {uv_version}",
        f"Cut-off:      --exclude-newer {version.lock_exclude_newer.isoformat()} "
        f"(apache-airflow {version.airflow_version} was released on "
        f"{version.release_date.isoformat()})",
        f"Generated on: {generated.isoformat()}",
        "Inputs (lock.in), from mwaa_kit/catalog/versions/"
        f"{version.airflow_version}.toml:",
        *(f"  {requirement}" for requirement in inputs),
    ]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def flatten(compiled: str) -> list[str]:
    """`name==version` lines, sorted case-insensitively like the official file."""
    pins = []
    for line in compiled.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        if "==" not in line or ";" in line or "@" in line:
            raise ValueError(f"unexpected line in the resolution: {line!r}")
        pins.append(line)
    return sorted(set(pins), key=str.lower)


def make_lock(version: catalog.AirflowVersion, output: Path | None = None,
              generated: datetime.date | None = None) -> Path:
    """Resolve and write the lock of `version`; returns its path."""
    uv = find_uv()
    inputs = lock_inputs(version)
    env = uv_environment()
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-lock-") as scratch:
        input_path = Path(scratch) / "lock.in"
        input_path.write_text("\n".join(inputs) + "\n")
        result = subprocess.run(
            compile_command(version, input_path, uv), env=env, capture_output=True, text=True,
        )
    if result.returncode != 0:
        raise SystemExit(f"uv pip compile failed for Airflow {version.airflow_version}:\n"
                         f"{result.stderr}")
    uv_version = subprocess.run(
        [uv, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    output = output or version.lock_path
    text = header(version, inputs, uv_version, generated or datetime.date.today())
    text += "".join(pin + "\n" for pin in flatten(result.stdout))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mwaa_kit.catalog.locks",
        description="Resolve the constraints lock a catalog version ships.",
    )
    parser.add_argument("versions", nargs="*", metavar="VERSION",
                        help="Airflow versions of the catalog (default: all)")
    parser.add_argument("--output", type=Path, help="write here instead of catalog/locks/")
    args = parser.parse_args(argv)
    versions = args.versions or catalog.supported_versions()
    if args.output and len(versions) != 1:
        parser.error("--output needs exactly one version")
    for name in versions:
        version = catalog.get_version(name)
        path = make_lock(version, args.output)
        count = sum(1 for line in path.read_text().splitlines() if "==" in line
                    and not line.startswith("#"))
        print(f"{path}: {count} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
