"""Airflow configuration as MWAA applies it: forced options, defaults, then the user's.

MWAA refuses configuration options it manages itself (the executor, the broker, the
metadata database...). Everything reaches Airflow as AIRFLOW__SECTION__KEY variables,
which outrank airflow.cfg, so a stale airflow.cfg can never undo the contract.
"""

from __future__ import annotations

import json

from mwaa_kit import catalog
from mwaa_kit.errors import KitError


class ForcedConfigError(KitError, ValueError):
    """The project tries to set an option MWAA manages itself."""


def env_var_name(section: str, key: str) -> str:
    return f"AIRFLOW__{section.upper()}__{key.upper()}"


def forced_options(version: catalog.AirflowVersion) -> dict[str, str]:
    """MWAA's forced options as "section.key" -> value."""
    return _flatten(version.forced_config)


def refused_options(version: catalog.AirflowVersion) -> set[str]:
    """Every option an environment may not set: forced ones, and those MWAA manages with
    values that exist only inside MWAA (its own modules, queues and keys)."""
    return set(forced_options(version)) | set(version.managed_options)


def _flatten(table: dict[str, dict[str, str]]) -> dict[str, str]:
    return {f"{section}.{key}": value for section, options in table.items()
            for key, value in options.items()}


def default_options(version: catalog.AirflowVersion) -> dict[str, str]:
    """Options MWAA sets that users may change: its defaults and the Secrets Manager
    backend with MWAA's prefixes."""
    facts = catalog.mwaa()
    return {
        **_flatten(version.default_config),
        "secrets.backend": facts.secrets_backend,
        "secrets.backend_kwargs": json.dumps(facts.secrets_backend_kwargs),
    }


def refuse_forced_overrides(version: catalog.AirflowVersion, user_options: dict[str, str]):
    """Raise, naming every offending option, when the user sets one MWAA forces."""
    refused = refused_options(version)
    clashes = sorted(option for option in user_options if option in refused)
    if clashes:
        raise ForcedConfigError(
            f"MWAA manages {', '.join(clashes)} itself and refuses to let an environment "
            f"change {'it' if len(clashes) == 1 else 'them'}. Remove "
            f"{'it' if len(clashes) == 1 else 'them'} from [airflow_config] in mwaa-kit.toml."
        )


def forced_env_var_names(version: catalog.AirflowVersion) -> set[str]:
    """AIRFLOW__... names of forced options: a startup script may not export these either."""
    return {env_var_name(*option.split(".", 1)) for option in refused_options(version)}


def airflow_config_env(
    version: catalog.AirflowVersion,
    user_options: dict[str, str],
    runtime_options: dict[str, str],
) -> dict[str, str]:
    """AIRFLOW__* variables: defaults < user options < forced < what the runtime must set.

    `runtime_options` are the few values only the launcher knows (the database URL, the
    ports, and natively the LocalExecutor in place of Celery on SQS).
    """
    refuse_forced_overrides(version, user_options)
    merged = {
        **default_options(version), **user_options, **forced_options(version), **runtime_options
    }
    return {env_var_name(*option.split(".", 1)): value for option, value in merged.items()}
