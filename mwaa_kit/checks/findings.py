"""What a check found, and the report of a whole `mwaa-kit validate` (or `upgrade-check`)
run.

Every finding names the check, how bad it is (error: MWAA would fail; warning: it would
work, badly or not for long; info: what was checked), the file and line when there is
one, what is wrong and what to do. The report renders as a rich table, JSON or JUnit XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHECKS = ("config", "startup", "requirements", "plugins", "dags")
# upgrade-check's checks in a trial environment of the target: a DAG run, the project's tests.
TRIAL_CHECKS = ("run", "pytest")
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None
    code: str | None = None  # a stable identifier of the failure class, e.g. dags.import_error

    def __post_init__(self):
        if self.check not in CHECKS + TRIAL_CHECKS or self.severity not in SEVERITIES:
            raise ValueError(f"bad finding: {self.check}/{self.severity}")

    @property
    def location(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict:
        return {**asdict(self), "location": self.location}


@dataclass
class CheckResult:
    name: str
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None  # why the check could not run
    details: dict = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def status(self) -> str:
        if self.errors:
            return "failed"
        if self.skipped:
            return "skipped"
        return "passed with warnings" if self.warnings else "passed"

    def add(self, severity: str, message: str, **where) -> Finding:
        finding = Finding(self.name, severity, message, **where)
        self.findings.append(finding)
        return finding

    def nothing_to_check(self, reason: str, **where) -> None:
        """The project gives this check (or a part of it) no input, so it does no work and
        says so: an info finding, and the reason in details["nothing_to_check"]."""
        self.add("info", reason, **where)
        noted = self.details.get("nothing_to_check")
        self.details["nothing_to_check"] = f"{noted}; {reason}" if noted else reason


@dataclass
class Report:
    """The findings of one run of `validate` or `upgrade-check`.

    :param project: the project folder.
    :param airflow_version: the version checked against (upgrade-check: the target).
    :param results: one per check, in the order they ran.
    :param command: the command that made the report, named in its JUnit suite.
    :param from_version: upgrade-check's starting version; None for validate.
    :param extra: further top-level members of the JSON report (upgrade-check --fix: "fix").
    """

    project: str
    airflow_version: str
    results: list[CheckResult] = field(default_factory=list)
    command: str = "validate"
    from_version: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def ok(self) -> bool:
        return not any(result.errors for result in self.results)

    def to_dict(self) -> dict:
        return {
            "project": self.project,
            "command": self.command,
            **({"from_airflow_version": self.from_version} if self.from_version else {}),
            "airflow_version": self.airflow_version,
            "ok": self.ok,
            "errors": sum(len(result.errors) for result in self.results),
            "warnings": sum(len(result.warnings) for result in self.results),
            "checks": [
                {"name": result.name, "status": result.status, "seconds": round(result.seconds, 3),
                 "skipped": result.skipped, "details": result.details,
                 "findings": [finding.to_dict() for finding in result.findings]}
                for result in self.results
            ],
            **self.extra,
        }

    def junit_xml(self) -> str:
        """One test suite, one test case per check; each error a failure of its check."""
        suite = ElementTree.Element(
            "testsuite", name=f"mwaa-kit {self.command}", tests=str(len(self.results)),
            failures=str(sum(1 for result in self.results if result.errors)),
            skipped=str(sum(1 for result in self.results
                            if result.skipped and not result.errors)),
            time=f"{sum(result.seconds for result in self.results):.3f}",
        )
        for result in self.results:
            case = ElementTree.SubElement(
                suite, "testcase",
                classname=f"mwaa_kit.{self.command.replace('-', '_')}.{self.airflow_version}",
                name=result.name, time=f"{result.seconds:.3f}",
            )
            if result.errors:
                failure = ElementTree.SubElement(
                    case, "failure", message=f"{len(result.errors)} error(s)",
                    type="mwaa-kit." + result.name,
                )
                failure.text = "\n".join(_plain(finding) for finding in result.errors)
            elif result.skipped:
                ElementTree.SubElement(case, "skipped", message=result.skipped)
            if result.warnings:
                out = ElementTree.SubElement(case, "system-out")
                out.text = "\n".join(_plain(finding) for finding in result.warnings)
        ElementTree.indent(suite)
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"

    def write_junit(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.junit_xml())


def relative(project_root: Path, path: str | Path | None) -> str | None:
    """`path` as findings name it: relative to the project when it is inside it."""
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(project_root.resolve()))
    except ValueError:
        return str(path)


def _plain(finding: Finding) -> str:
    where = f"{finding.location}: " if finding.location else ""
    hint = f" -> {finding.hint}" if finding.hint else ""
    return f"[{finding.severity}] {where}{finding.message}{hint}"
