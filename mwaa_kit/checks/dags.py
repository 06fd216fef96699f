"""The DAG check: parse dags/ in the environment's own Python, as MWAA's DAG processor does.

The parsing itself happens in `in_airflow/parse_dags.py` (Airflow's DagBag, one forked
process per core); this module turns its report into findings that name the file, the
line and what to do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from mwaa_kit.checks import airflow_rules, import_errors
from mwaa_kit.checks.findings import CheckResult, relative
from mwaa_kit.checks.scratch import Scratch, Step, processes

DEFAULT_PARSE_BUDGET = 5.0  # seconds: above this a file parses slowly enough to warn
_CALL_ADVICE = {
    "variable": ("reads an Airflow Variable at parse time (every parse queries the secrets "
                 "backend or the database)",
                 "read it inside a task, or use a template such as {{ var.value.NAME }}"),
    "hook": ("uses a hook or connection at parse time",
             "create hooks inside the task (execute() or a @task function)"),
    "network": ("opens a network connection at parse time",
                "move the call into a task; MWAA re-parses each file every 30 s or so"),
}


def run(scratch: Scratch, result: CheckResult, parse_budget: float = DEFAULT_PARSE_BUDGET,
        workers: int | None = None) -> dict:
    """Parse the project's DAGs; add findings to `result`; return the raw parse report."""
    parsed = scratch.run_script(parse_step(scratch, workers))
    parse_findings(scratch, parsed, result, parse_budget)
    return parsed


def parse_step(scratch: Scratch, workers: int | None = None) -> Step:
    """The script that parses dags/ on `workers` processes (default: every core)."""
    request = scratch.root / "parse-request.json"
    request.write_text(json.dumps({
        "dags_folder": str(scratch.project.dags_dir),
        "processes": workers or processes(),
    }))
    return Step("parse_dags.py", (str(request),))


def parse_findings(scratch: Scratch, parsed: dict, result: CheckResult,
                   parse_budget: float = DEFAULT_PARSE_BUDGET) -> None:
    """Findings from parse_step's report `parsed`."""
    project = scratch.project
    add_findings(project.root, parsed, result, parse_budget, installed=_installed(project),
                 airflow_version=project.version.airflow_version)


def _installed(project) -> list[str]:
    """The distributions a DAG can import from: MWAA's image, then requirements.txt."""
    lines = [*project.version.base_requirements]
    if project.requirements_file.is_file():
        lines += project.requirements_file.read_text().splitlines()
    names = []
    for line in lines:
        try:
            names.append(Requirement(line.split("#")[0].strip()).name)
        except InvalidRequirement:  # blank lines, -c/-r options, URLs
            continue
    return names


def add_findings(root: Path, parsed: dict, result: CheckResult, parse_budget: float,
                 installed: Iterable[str] = (), airflow_version: str = "") -> None:
    """Findings from parse_dags.py's report. `installed` (distribution names) and
    `airflow_version` let an import error's hint name its real cause."""
    installed = list(installed)
    limits = parsed["limits"]
    limit = min(limits["dagbag_import_timeout"], limits["dag_file_processor_timeout"])
    owners: dict[str, str] = {}
    dag_count = 0
    for entry in parsed["files"]:
        file = relative(root, entry["file"])
        # A name ruff's Airflow rules flagged (a removed or moved import) is one cause: its
        # finding says what replaces it, the import error it raises would repeat it.
        explained = airflow_rules.flagged_modules(result, file)
        for error in entry["errors"]:
            if error["kind"] == "import_error" and _explained(error, explained):
                continue
            _import_error(root, result, file, error, limit, installed, airflow_version)
        if entry["seconds"] > limit and not any(e["kind"] == "timeout" for e in entry["errors"]):
            result.add("error", f"took {entry['seconds']:.1f} s to parse, over MWAA's "
                       f"{limit:.0f} s limit (core.dagbag_import_timeout / "
                       "dag_file_processor_timeout)", file=file, code="dags.parse_time",
                       hint="move heavy work out of module level into tasks")
        elif entry["seconds"] > parse_budget:
            result.add("warning", f"took {entry['seconds']:.1f} s to parse (budget "
                       f"{parse_budget:.0f} s; MWAA's limit is {limit:.0f} s and its "
                       "containers are slower than a laptop)", file=file,
                       code="dags.parse_time", hint="move heavy work out of module level")
        for dag_id in entry["duplicates_in_file"]:
            result.add("error", f"defines dag_id '{dag_id}' twice; MWAA keeps only one",
                       file=file, code="dags.duplicate_dag_id", hint="give each DAG its own id")
        for dag in entry["dags"]:
            dag_count += 1
            first = owners.setdefault(dag["dag_id"], file)
            if first != file:
                result.add("error", f"dag_id '{dag['dag_id']}' is also defined in {first}; "
                           "MWAA would show only one of them and flip between the two",
                           file=file, code="dags.duplicate_dag_id",
                           hint="rename one of the DAGs")
        _parse_time_calls(result, file, entry)
        _deprecation_warnings(result, file, entry)
    result.details.update({
        "files": len(parsed["files"]),
        "dags": dag_count,
        "processes": parsed["processes"],
        "parse_seconds": parsed["seconds"],
        "limit_seconds": limit,
        "parse_budget_seconds": parse_budget,
        "slowest": sorted(
            ({"file": relative(root, e["file"]), "seconds": e["seconds"]}
             for e in parsed["files"]), key=lambda item: -item["seconds"])[:5],
    })


def _import_error(root: Path, result: CheckResult, file: str, error: dict, limit: float,
                  installed: list[str], airflow_version: str) -> None:
    failure = import_errors.summarize(error["message"])
    where = relative(root, error["file"]) or file
    raised = error.get("raised_at")
    if error["kind"] == "cycle":
        result.add("error", failure.message, file=where, code="dags.cycle",
                   hint="remove the dependency (>> or set_downstream) that closes the loop")
    elif error["kind"] == "timeout":
        result.add("error", f"parsing timed out after {limit:.0f} s (MWAA's limit)",
                   file=where, line=error.get("line"), code="dags.parse_time",
                   hint="move heavy work out of module level into tasks")
    else:
        detail = str(failure)
        if raised:
            raised_file, _, raised_line = raised.rpartition(":")
            raised_rel = relative(root, raised_file)
            if raised_rel != where:
                detail += f" (raised in {raised_rel}:{raised_line})"
        result.add("error", f"import error: {detail}", file=where, line=error.get("line"),
                   code="dags.import_error",
                   hint=import_errors.hint(failure, installed, airflow_version,
                                           has_line=error.get("line") is not None))


def _parse_time_calls(result: CheckResult, file: str, entry: dict) -> None:
    seen = set()
    for call in [*entry["calls"], *(s for s in entry["static"]
                                    if s["kind"] in _CALL_ADVICE)]:
        key = (call["kind"], call.get("line"))
        if key in seen:
            continue
        seen.add(key)
        what, hint = _CALL_ADVICE[call["kind"]]
        result.add("warning", f"{call['name']} {what}", file=file, line=call.get("line"),
                   code=f"dags.parse_time_{call['kind']}", hint=hint)


def _explained(error: dict, flagged: set[str]) -> bool:
    imported = import_errors.summarize(error["message"]).module
    return bool(imported) and any(name == imported or name.startswith(imported + ".")
                                  for name in flagged)


def _deprecation_warnings(result: CheckResult, file: str, entry: dict) -> None:
    """Airflow's own DeprecationWarnings while the file imported, unless ruff's rules
    already flagged that line."""
    lines = {finding.line for finding in result.findings
             if finding.file == file and (finding.code or "").split(".")[-1].startswith("AIR")}
    for text in entry["warnings"]:
        match = re.match(r"(.*?):(\d+): ([\w.]+): (.*)", text, re.S)
        if not match:
            continue
        line = int(match.group(2))
        if line in lines or "Deprecat" not in match.group(3) + match.group(4):
            continue
        result.add("warning", f"{match.group(3).rsplit('.', 1)[-1]}: "
                   f"{match.group(4).strip()}", file=file, line=line,
                   code="dags.deprecated_import",
                   hint="import it from where the warning says; the old path goes away")
