"""`mwaa-kit upgrade-check`: what breaks if the project moves to a newer MWAA version.

The project is validated as if mwaa-kit.toml named the target version: validate's own
checks (configuration against the target's forced and managed options, startup.sh, the
requirements resolved against the target's constraints, ruff's Airflow rules and the
template checks for the target, plugins and DAGs imported in the target's own
virtualenv), each in a scratch environment, so neither the project's files nor its
running environment change. On top, a dependency table: each requirement's version now
and on the target, and for a line that no longer resolves, the pin that decides.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from mwaa_kit import catalog
from mwaa_kit.checks import requirements, runner
from mwaa_kit.checks.findings import CHECKS, SEVERITIES, Report
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project, cache_dir


class UpgradeTargetError(KitError, ValueError):
    """The version to check is not one the project can move to."""


@dataclass(frozen=True)
class Dependency:
    """One line of requirements.txt, before and after the move.

    :param package: the distribution name as the line writes it.
    :param line: the line's number in requirements.txt.
    :param current: the version it resolves to now (None: it does not resolve now).
    :param target: the version on the target (None: it no longer resolves there).
    :param decides: the target's pin of the package (constraints or essential pins), when
        it has one and the version changes.
    :param fails: the line cannot be installed on the target: it fights the target's pin,
        or the target's resolution names it.
    """

    package: str
    line: int
    current: str | None
    target: str | None
    decides: str | None = None
    fails: bool = False

    @property
    def status(self) -> str:
        if self.fails:
            return "no longer resolves"
        if self.target is None:
            return "not resolved (another line fails)"
        return "unchanged" if self.target == self.current else "moves"


def target_version(project: Project, to: str) -> catalog.AirflowVersion:
    """The catalog entry of `to`; an error when it is unknown or not newer."""
    current = project.version
    newer = [version for version in catalog.supported_versions()
             if catalog.get_version(version).key > current.key]
    choices = (f"choose one of {', '.join(newer)}" if newer else
               f"Airflow {current.airflow_version} is the newest version the catalog has")
    try:
        target = catalog.get_version(to)
    except catalog.UnknownVersionError as error:
        raise UpgradeTargetError(error.message, hint=choices) from None
    if target.key <= current.key:
        raise UpgradeTargetError(
            f"Airflow {target.airflow_version} is not newer than the project's "
            f"{current.airflow_version}", hint=choices)
    return target


def upgrade_check(project: Project, to: str,
                  report: Callable[[str], None] = lambda message: None) -> Report:
    """Validate `project` as it would run on Airflow `to`; the report's findings are
    ordered by severity and its requirements details carry the dependency table."""
    target = target_version(project, to)
    moved = dataclasses.replace(project, airflow_version=target.airflow_version)
    outcome = runner.validate(moved, CHECKS, report)
    outcome.command = "upgrade-check"
    outcome.from_version = project.airflow_version
    for result in outcome.results:
        result.findings.sort(key=lambda finding: SEVERITIES.index(finding.severity))
        if result.name == "requirements" and not result.skipped:
            report(f"Resolving requirements.txt for Airflow {project.airflow_version} too")
            failing = {finding.line for finding in result.errors
                       if finding.code == "requirements.unresolvable"}
            result.details["dependencies"] = [
                dataclasses.asdict(row) | {"status": row.status}
                for row in dependencies(project, target, result.details, failing)]
    return outcome


def dependencies(project: Project, target: catalog.AirflowVersion, details: dict,
                 failing: set[int | None] = frozenset()) -> list[Dependency]:
    """The table of requirements.txt's lines. `details`: the target's requirements check
    details (its resolution, under "requirements", when it resolved); `failing`: the
    lines its resolution failure names."""
    text = requirements.read(project)
    lines = [line for line in requirements.parse_lines(text) if line.requirement]
    if not lines:
        return []
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-upgrade-") as scratch:
        resolved = requirements.resolve(project.version, text, Path(scratch))
    now = requirements.pinned(resolved.stdout) if resolved.returncode == 0 else {}
    after = details.get("requirements") or {}
    pins = _target_pins(target)
    rows = []
    for line in lines:
        name = canonicalize_name(line.requirement.name)
        pin = pins.get(name)
        fights = bool(pin) and not line.requirement.specifier.contains(pin[1], prereleases=True)
        # Without a resolution of the target (another line fails), the target's pin of the
        # package is the version it would get.
        version = after.get(name) or (pin[1] if pin and not fights and not after else None)
        decides = f"{pin[0]} pins {line.requirement.name}=={pin[1]}" if pin else None
        row = Dependency(line.requirement.name, line.number, now.get(name), version,
                         decides, fights or line.number in failing)
        rows.append(row if row.status != "unchanged" else dataclasses.replace(row, decides=None))
    return rows


def _target_pins(target: catalog.AirflowVersion) -> dict[str, tuple[str, str]]:
    """Canonical name -> (who pins it, version): the target's constraints, then MWAA's
    essential pins (which win: MWAA applies them to every install)."""
    constraints, _ = catalog.constraints_text(target, cache_dir() / "constraints")
    source = f"constraints-{target.airflow_version}"
    pins = {name: (source, version) for name, version in requirements.pinned(constraints).items()}
    for name, version in requirements.pinned("\n".join(target.essential_pins)).items():
        pins[name] = (f"MWAA {target.airflow_version}'s essential pins", version)
    return pins

