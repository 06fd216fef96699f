"""ruff's Airflow rules (AIR3xx) over dags/ and plugins/, as findings for one target version.

The rules are maintained with the Airflow project and know every removal, move to a
provider and changed signature of Airflow 3 (3.0 and 3.1). The kit pins ruff as a
dependency and runs its binary; nothing here restates what the rules know.
`deprecations` only adds the replacement where ruff flags something without a fix.

How bad a rule's finding is depends on the target version:

- AIR301/302/303 (removed, moved to a provider, signature changed in 3.0): the DAG fails
  on 3.x, an error there; on 2.x a removal is a warning (it still works, until 3.0) and a
  move or signature change is information (the new home does not exist on 2.x yet).
- AIR311/312 (still works in 3.x, to be removed): a warning on 3.x, information on 2.x;
  an error where `deprecations` knows a later 3.x removed the name after all.
- AIR321 (moved in 3.1): a warning from 3.1 on, information before.

Imports of the modules a later 3.x removed that the rules do not flag at all
(`deprecations.UNKNOWN_TO_RUFF`) are found by reading each file's imports: an error from
the version that removed them on, a warning on 3.x before it, information on 2.x.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

from ruff.__main__ import find_ruff_bin

from mwaa_kit import catalog
from mwaa_kit.checks import deprecations
from mwaa_kit.checks.findings import CheckResult, relative
from mwaa_kit.errors import KitError

RULES = ("AIR301", "AIR302", "AIR303", "AIR311", "AIR312", "AIR321")
_ON_3 = {"AIR301": "error", "AIR302": "error", "AIR303": "error", "AIR311": "warning",
         "AIR312": "warning", "AIR321": "warning"}
_ON_2 = {"AIR301": "warning"}
_QUOTED = re.compile(r"`([^`]+)`")
REMOVED_MODULE = "removed_module"  # the code of an import `deprecations` knows is gone


class RuffError(KitError, RuntimeError):
    """ruff itself failed (not a finding: the check could not run)."""

    hint = "run `ruff check --select AIR3 --preview dags/ plugins/` to see its own error"


def severity(rule: str, version: catalog.AirflowVersion) -> str:
    """How bad a finding of `rule` is on `version` (see the module docstring)."""
    if version.major < 3:
        return _ON_2.get(rule, "info")
    if rule == "AIR321" and version.key < (3, 1):
        return "info"
    return _ON_3[rule]


def run_ruff(paths: list[Path], rules: tuple[str, ...] = RULES, fix: bool = False) -> list[dict]:
    """ruff's JSON diagnostics for `rules` (default: the AIR3 rules) over `paths`.

    `--isolated`: the project's own ruff settings may not switch the rules off (nor turn
    unsafe fixes on); `--preview`: AIR321 is a preview rule in the pinned ruff.

    :param paths: folders or files; those that do not exist are left out.
    :param rules: the rule codes to select.
    :param fix: apply ruff's safe fixes to the files first (upgrade-check --fix runs it on
        a copy); the diagnostics are then those left.
    """
    existing = [str(path) for path in paths if path.exists()]
    if not existing:
        return []
    command = [find_ruff_bin(), "check", "--isolated", "--no-cache", "--preview",
               "--exit-zero", "--output-format", "json", "--select", ",".join(rules),
               *(["--fix"] if fix else []), *existing]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuffError(f"ruff failed (exit status {completed.returncode}): "
                        f"{completed.stderr.strip()[-800:]}")
    return json.loads(completed.stdout or "[]")


def add_findings(root: Path, diagnostics: list[dict], version: catalog.AirflowVersion,
                 result: CheckResult) -> None:
    """One finding per diagnostic, `file:line`, ruff's fix (or the table's) as the hint."""
    for item in diagnostics:
        rule = item["code"]
        if rule not in RULES:  # a syntax error: the DAG import reports it, with its line
            continue
        fix = (item.get("fix") or {}).get("message")
        names = _QUOTED.findall(item["message"])
        hint = fix or deprecations.replacement(names[0] if names else "") or (
            f"see {item['url']}" if item.get("url") else None)
        level, message = severity(rule, version), f"{rule}: {item['message']}"
        gone = deprecations.removed_in(names[0]) if names else None
        if gone and version.key >= gone:
            level = "error"
            message += (f" (and gone from Airflow {'.'.join(map(str, gone))} on: the import "
                        "fails)")
        result.add(level, message, file=relative(root, item["filename"]),
                   line=item["location"]["row"], hint=hint, code=f"{result.name}.{rule}")


def flagged_modules(result: CheckResult, file: str) -> set[str]:
    """The `airflow.*` names the rules flagged as errors in `file`: an import error of one
    of them repeats the finding, which already says what replaces it."""
    return {name for finding in result.errors if finding.file == file
            and finding.code and finding.code.split(".")[-1] in (*RULES, REMOVED_MODULE)
            for name in _QUOTED.findall(finding.message) if name.startswith("airflow.")}


def check(root: Path, folder: Path, version: catalog.AirflowVersion,
          result: CheckResult) -> None:
    """Run the rules over `folder` (dags/ or plugins/) and add their findings, then those
    of the removed modules the rules do not know."""
    add_findings(root, run_ruff([folder]), version, result)
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else ():
        known = {(line, deprecations.unknown_to_ruff(module))
                 for line, module in _imported_modules(path)}
        for line, (removed, gone, use) in sorted(item for item in known if item[1]):
            since = ".".join(map(str, gone))
            if version.key >= gone:
                level, what = "error", f"is gone from Airflow {since} on: the import fails"
            else:
                level = "warning" if version.major >= 3 else "info"
                what = f"is removed in Airflow {since} (ruff's Airflow rules do not flag it)"
            result.add(level, f"`{removed}` {what}", file=relative(root, path), line=line,
                       hint=f"use {use}", code=f"{result.name}.{REMOVED_MODULE}")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for each absolute import in `path`; `from a import b` gives both
    a and a.b (b may be a module). Empty when the file does not parse: the import check
    reports that."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, node.module),
                      *((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)]
    return found
