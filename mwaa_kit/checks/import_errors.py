"""What an import error of a DAG file says, and what to do about it.

Airflow reports a DAG file that fails to import as the formatted traceback. The finding
needs the exception itself, whole (Airflow's own messages run over several lines, e.g.
"Invalid arguments were passed to EcsRegisterTaskDefinitionOperator...", then the
arguments), and a hint that names the real cause: a module that Airflow or a provider
removed or moved is not a package to add to requirements.txt, and a provider that is not
installed is named by its distribution.

Hand-written: no library turns a traceback's text back into its exception, and the
mapping from `airflow.providers.X` to a distribution is Airflow's naming convention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LONGEST = 600  # characters of an exception message kept in a finding
# Providers whose module path has two parts (airflow.providers.cncf.kubernetes is
# apache-airflow-providers-cncf-kubernetes); the others have one (amazon, google...).
_TWO_PART_PROVIDERS = ("apache", "atlassian", "alibaba", "cncf", "common", "dbt",
                       "microsoft")
_AIR_RULES = "ruff's Airflow rules name the new import: `ruff check --select AIR3 dags/`"


@dataclass(frozen=True)
class ImportFailure:
    """The exception at the end of a traceback: its type and its whole message."""

    kind: str  # "ModuleNotFoundError", "AirflowException"... without the module path
    message: str
    imported: str | None = None  # the module of the last import statement shown, if any

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind

    @property
    def module(self) -> str | None:
        """The module that is missing, or that lacks the name imported from it."""
        missing = re.search(r"No module named '([^']+)'", self.message)
        moved = re.search(r"cannot import name '[^']+' from '([^']+)'", self.message)
        module = missing.group(1) if missing else moved.group(1) if moved else None
        if missing and self.imported and self.imported.startswith(module + "."):
            return self.imported  # Python names the first missing package only
        return module


def summarize(traceback_text: str) -> ImportFailure:
    """The last exception of a formatted traceback, its continuation lines kept."""
    lines = traceback_text.strip().splitlines()
    if not lines:
        return ImportFailure("ImportError", "import failed")
    start = 0
    for index, line in enumerate(lines):  # the block after the last indented line
        if line.startswith((" ", "\t")) or line.startswith("Traceback ("):
            start = index + 1
    block = lines[start:] or lines[-1:]
    header, *rest = block
    kind, _, message = header.partition(": ")
    if " " in kind or not kind:  # not "Type: message": keep the text as it is
        kind, message = "Error", header
    message = " ".join(part.strip() for part in [message, *rest] if part.strip())
    if len(message) > _LONGEST:
        message = message[:_LONGEST - 1] + "…"
    statements = re.findall(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))",
                            traceback_text, re.MULTILINE)
    imported = next((a or b for a, b in reversed(statements)), None)
    return ImportFailure(kind.rsplit(".", 1)[-1], message, imported)


def provider_distribution(module: str) -> str | None:
    """`airflow.providers.cncf.kubernetes.operators.pod` -> the distribution that holds
    it, apache-airflow-providers-cncf-kubernetes; None outside airflow.providers."""
    parts = module.split(".")
    if parts[:2] != ["airflow", "providers"] or len(parts) < 3:
        return None
    name = parts[2:4] if parts[2] in _TWO_PART_PROVIDERS and len(parts) > 3 else parts[2:3]
    return "apache-airflow-providers-" + "-".join(name).replace("_", "-")


def hint(failure: ImportFailure, installed: Iterable[str], airflow_version: str,
         has_line: bool) -> str:
    """What to do about `failure`. `installed`: the distributions in the environment
    (MWAA's image and requirements.txt), as lower-case names."""
    installed = {name.lower().replace("_", "-") for name in installed}
    missing = re.search(r"No module named '([^']+)'", failure.message)
    moved = re.search(r"cannot import name '([^']+)' from '([^']+)'", failure.message)
    module = failure.module
    if module and module.split(".")[0] == "airflow":
        distribution = provider_distribution(module)
        if distribution is None:
            return (f"'{module}' is not in Airflow {airflow_version}: it was removed or "
                    f"moved (to a provider or to airflow.sdk); {_AIR_RULES}")
        if distribution not in installed:
            return (f"add {distribution} to requirements/requirements.txt: MWAA's image "
                    "does not include it")
        what = f"'{moved.group(1)}' from '{module}'" if moved else f"'{module}'"
        return (f"{distribution} (the version this environment installs) no longer has "
                f"{what}: it was removed or moved; {_AIR_RULES}")
    if missing:
        return (f"add the package providing '{missing.group(1).split('.')[0]}' to "
                "requirements/requirements.txt, or the module to plugins/")
    if moved:
        return f"'{moved.group(1)}' is not in '{moved.group(2)}': check the import"
    if failure.kind in ("SyntaxError", "IndentationError", "TabError"):
        return "fix the syntax at the line shown" if has_line else "fix the syntax"
    if has_line:
        return "fix the error at the line shown; the DAG is missing on MWAA until then"
    return "fix the error above; the DAG is missing on MWAA until then"
