"""What replaces an Airflow 2 name that ruff's Airflow rules flag without a fix.

ruff (mwaa_kit.checks.airflow_rules) knows every removal, move and signature change of
Airflow 3 and, for most, the new name. For these it reports the removal only, because
the replacement is not a rename: days_ago (a fixed start date), SubDagOperator (task
groups), airflow.contrib (the providers), provide_context (no longer needed), and the
SLA arguments (deadline alerts).
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
