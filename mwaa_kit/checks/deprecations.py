"""Imports and DAG arguments that Airflow deprecated or removed, as data.

A rule applies from the Airflow version where the thing was deprecated (a warning: it
still works, with a DeprecationWarning) or removed (an error: the DAG no longer imports,
or the argument is refused). The DAG check sends the rules of the project's version to
the parser, which matches them against each file's syntax tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from mwaa_kit import catalog


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class ImportRule:
    module: str
    name: str | None
    use_instead: str
    deprecated_in: str | None = None
    removed_in: str | None = None


@dataclass(frozen=True)
class ArgumentRule:
    argument: str
    use_instead: str
    deprecated_in: str | None = None
    removed_in: str | None = None


_STANDARD = "airflow.providers.standard"
IMPORT_RULES: tuple[ImportRule, ...] = (
    ImportRule("airflow.utils.dates", "days_ago",
               "a fixed start_date, e.g. start_date=datetime(2024, 1, 1)", "2.3", "3.0"),
    ImportRule("airflow.operators.dummy", None,
               f"EmptyOperator ({_STANDARD}.operators.empty on 3.x, airflow.operators.empty "
               "on 2.x)", "2.4", "3.0"),
    ImportRule("airflow.operators.dummy_operator", None, "EmptyOperator", "2.0", "3.0"),
    ImportRule("airflow.operators.bash_operator", None, "airflow.operators.bash", "2.0", "3.0"),
    ImportRule("airflow.operators.python_operator", None, "airflow.operators.python",
               "2.0", "3.0"),
    ImportRule("airflow.operators.subdag", None, "TaskGroup (airflow.sdk.TaskGroup on 3.x)",
               "2.0", "3.0"),
    ImportRule("airflow.contrib", None, "the matching apache-airflow-providers-* package",
               "2.0", "3.0"),
    ImportRule("airflow.operators.bash", None, f"{_STANDARD}.operators.bash", "3.0"),
    ImportRule("airflow.operators.python", None, f"{_STANDARD}.operators.python", "3.0"),
    ImportRule("airflow.operators.empty", None, f"{_STANDARD}.operators.empty", "3.0"),
    ImportRule("airflow.operators.trigger_dagrun", None,
               f"{_STANDARD}.operators.trigger_dagrun", "3.0"),
    ImportRule("airflow.operators.branch", None, f"{_STANDARD}.operators.branch", "3.0"),
    ImportRule("airflow.operators.datetime", None, f"{_STANDARD}.operators.datetime", "3.0"),
    ImportRule("airflow.operators.latest_only", None, f"{_STANDARD}.operators.latest_only",
               "3.0"),
    ImportRule("airflow.operators.weekday", None, f"{_STANDARD}.operators.weekday", "3.0"),
    ImportRule("airflow.sensors.external_task", None, f"{_STANDARD}.sensors.external_task",
               "3.0"),
    ImportRule("airflow.sensors.time_delta", None, f"{_STANDARD}.sensors.time_delta", "3.0"),
    ImportRule("airflow.sensors.filesystem", None, f"{_STANDARD}.sensors.filesystem", "3.0"),
    ImportRule("airflow.sensors.bash", None, f"{_STANDARD}.sensors.bash", "3.0"),
    ImportRule("airflow.sensors.python", None, f"{_STANDARD}.sensors.python", "3.0"),
    ImportRule("airflow.sensors.date_time", None, f"{_STANDARD}.sensors.date_time", "3.0"),
    ImportRule("airflow.sensors.weekday", None, f"{_STANDARD}.sensors.weekday", "3.0"),
    ImportRule("airflow.datasets", None, "airflow.sdk.Asset (datasets are assets in 3.x)",
               "3.0"),
)

ARGUMENT_RULES: tuple[ArgumentRule, ...] = (
    ArgumentRule("schedule_interval", "schedule=", "2.4", "3.0"),
    ArgumentRule("timetable", "schedule=", "2.4", "3.0"),
    ArgumentRule("concurrency", "max_active_tasks=", "2.2", "3.0"),
    ArgumentRule("sla_miss_callback", "deadline alerts or task-level callbacks", None, "3.0"),
)


def _severity(airflow_version: str, deprecated_in: str | None, removed_in: str | None):
    version = _key(airflow_version)
    if removed_in and version >= _key(removed_in):
        return "error", f"removed in Airflow {removed_in}"
    if deprecated_in and version >= _key(deprecated_in):
        return "warning", f"deprecated since Airflow {deprecated_in}"
    return None, None


def rules_for(version: catalog.AirflowVersion) -> dict[str, list[dict]]:
    """The rules that apply to `version`, in the parser's request format."""
    imports = []
    for rule in IMPORT_RULES:
        severity, why = _severity(version.airflow_version, rule.deprecated_in, rule.removed_in)
        if severity:
            imports.append({"module": rule.module, "name": rule.name, "severity": severity,
                            "message": why, "hint": f"use {rule.use_instead}"})
    arguments = []
    for rule in ARGUMENT_RULES:
        severity, why = _severity(version.airflow_version, rule.deprecated_in, rule.removed_in)
        if severity:
            arguments.append({"argument": rule.argument, "severity": severity,
                              "message": why, "hint": f"use {rule.use_instead}"})
    return {"imports": imports, "dag_arguments": arguments}
