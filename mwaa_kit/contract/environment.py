"""The environment variables MWAA gives every Airflow process."""

from __future__ import annotations

from pathlib import Path

from mwaa_kit import catalog

COMPONENTS = ("scheduler", "worker", "webserver")


def mwaa_variables(
    version: catalog.AirflowVersion,
    environment_name: str,
    region: str,
    airflow_home: Path,
) -> dict[str, str]:
    """Variables MWAA sets itself (the component is added per process)."""
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW_VERSION": version.airflow_version,
        "AIRFLOW_ENV_NAME": environment_name,
        "AIRFLOW_ENV_ID": f"local-{environment_name}",
        "AWS_EXECUTION_ENV": version.execution_env,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(airflow_home / "plugins"),
    }


def overridable_defaults() -> dict[str, str]:
    """Variables MWAA sets that a startup script may replace."""
    return {"AIRFLOW_CONN_AWS_DEFAULT": "aws://"}


def for_component(base: dict[str, str], component: str) -> dict[str, str]:
    """`base` plus MWAA_AIRFLOW_COMPONENT, which tells a process which container it is."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown MWAA component {component!r}; one of {', '.join(COMPONENTS)}")
    return {**base, "MWAA_AIRFLOW_COMPONENT": component}
