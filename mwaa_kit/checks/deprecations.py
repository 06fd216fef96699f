"""What ruff's Airflow rules do not know about the names they flag.

ruff (mwaa_kit.checks.airflow_rules) knows every removal, move and signature change of
Airflow 3 and, for most, the new name. Three things it does not:

- the replacement, where it is not a rename, so ruff reports the removal only:
  days_ago (a fixed start date), SubDagOperator (task groups), airflow.contrib (the
  providers), provide_context (no longer needed) and the SLA arguments (deadline alerts);
- modules it calls "still working in Airflow 3.0" (AIR311) that later 3.x versions
  removed: airflow.datasets, airflow.timetables.datasets and
  airflow.utils.dag_parsing_context import in MWAA's Airflow 3.0 virtualenv and fail with
  ModuleNotFoundError in its 3.2 and 3.3 ones;
- modules it does not flag at all that later 3.x versions removed:
  airflow.utils.module_loading, the same (its replacement, airflow.sdk.module_loading,
  first ships with 3.2).
"""

from __future__ import annotations

_SLA = "remove it: SLAs are gone in Airflow 3; use deadline alerts (3.1+) or callbacks"

REPLACEMENTS = {
    "airflow.utils.dates.days_ago": "a fixed start_date, e.g. start_date=datetime(2024, 1, 1)",
    "airflow.operators.subdag.SubDagOperator": "a TaskGroup (airflow.sdk.TaskGroup)",
    "provide_context": "remove it: Airflow 3 passes the context to every callable that "
                       "takes **context",
    "sla": _SLA,
    "sla_miss_callback": _SLA,
}
# Prefixes: a module ruff names, whose replacement depends on what was imported.
PREFIXES = {
    "airflow.contrib.": "the same class from its apache-airflow-providers-* package "
                        "(airflow.providers.*)",
}


def replacement(name: str) -> str | None:
    """`use ...` for a name ruff quoted, or None when the table does not know it."""
    found = REPLACEMENTS.get(name) or next(
        (use for prefix, use in PREFIXES.items() if name.startswith(prefix)), None)
    return f"use {found}" if found and not found.startswith("remove") else found


REMOVED_LATER = {"airflow.datasets": (3, 2), "airflow.timetables.datasets": (3, 2),
                 "airflow.utils.dag_parsing_context": (3, 2)}
# Modules ruff's rules do not flag, with the version that removed them and what replaces it.
UNKNOWN_TO_RUFF = {
    "airflow.utils.module_loading": ((3, 2), "airflow.sdk.module_loading (Airflow 3.2 on)"),
}


def removed_in(name: str) -> tuple[int, ...] | None:
    """The Airflow version that removed `name`, for names ruff says still work."""
    return next((version for module, version in REMOVED_LATER.items()
                 if _within(name, module)), None)


def unknown_to_ruff(module: str) -> tuple[str, tuple[int, ...], str] | None:
    """(removed module, version that removed it, replacement) for an imported `module`
    ruff does not flag, or None."""
    return next(((removed, version, use) for removed, (version, use)
                 in UNKNOWN_TO_RUFF.items() if _within(module, removed)), None)


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")
