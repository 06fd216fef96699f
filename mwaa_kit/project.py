"""The user's project: where its bundle lives and what its `mwaa-kit.toml` asks for.

Every command starts from a `Project`. The file is optional: without it the defaults
describe an MWAA environment on the catalog's default Airflow version, so a folder with
only `dags/` in it already runs.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.catalog import api_model
from mwaa_kit.errors import KitError

CONFIG_FILE = "mwaa-kit.toml"
STATE_DIR = ".mwaa-kit"
AWS_EMULATORS = ("moto", "localstack")
# MWAA environment names: letters first, then letters, digits, '-' and '_', up to 80.
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_CONFIG_OPTION = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")


class ProjectConfigError(KitError, ValueError):
    """`mwaa-kit.toml` says something the kit cannot honour; the message says what to fix."""


@dataclass(frozen=True)
class PromotionTarget:
    """A real MWAA environment that `mwaa-kit promote --target NAME` may update."""

    name: str
    environment_name: str
    region: str
    profile: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class Project:
    """A project folder and its validated settings."""

    root: Path
    environment_name: str = "MwaaEnvironment"
    airflow_version: str = catalog.DEFAULT_VERSION
    environment_class: str = "mw1.small"
    region: str = "us-east-1"
    airflow_config: dict[str, str] = field(default_factory=dict)
    aws_emulator: str = "moto"
    targets: dict[str, PromotionTarget] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def dags_dir(self) -> Path:
        return self.root / "dags"

    @property
    def plugins_dir(self) -> Path:
        return self.root / "plugins"

    @property
    def requirements_file(self) -> Path:
        return self.root / "requirements" / "requirements.txt"

    @property
    def startup_script(self) -> Path:
        return self.root / "requirements" / "startup.sh"

    @property
    def seed_file(self) -> Path:
        return self.root / "seed.toml"

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def version(self) -> catalog.AirflowVersion:
        return catalog.get_version(self.airflow_version)


def cache_dir() -> Path:
    """Where virtualenvs and downloaded constraints are kept, shared by every project:
    $MWAA_KIT_CACHE_DIR, else $XDG_CACHE_HOME/mwaa-kit, else ~/.cache/mwaa-kit."""
    if os.environ.get("MWAA_KIT_CACHE_DIR"):
        return Path(os.environ["MWAA_KIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mwaa-kit"


def load_project(root: Path | str = ".") -> Project:
    """Read and validate `mwaa-kit.toml` under `root` (defaults when the file is absent)."""
    root = Path(root).resolve()
    path = root / CONFIG_FILE
    if not path.exists():
        return Project(root=root)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ProjectConfigError(f"{path}: not valid TOML: {error}") from None
    return _project_from_toml(root, path, data)


def _project_from_toml(root: Path, path: Path, data: dict) -> Project:
    _refuse_unknown(path, "", data, {"environment", "airflow_config", "aws", "targets"})
    env = _table(path, data, "environment")
    _refuse_unknown(
        path, "environment", env, {"name", "airflow_version", "environment_class", "region"}
    )
    settings: dict = {}
    if "name" in env:
        settings["environment_name"] = _environment_name(path, "environment.name", env["name"])
    if "airflow_version" in env:
        version = str(env["airflow_version"])
        try:
            catalog.get_version(version)
        except catalog.UnknownVersionError as error:
            raise ProjectConfigError(f"{path}: environment.airflow_version: {error}") from None
        settings["airflow_version"] = version
    if "environment_class" in env:
        classes = catalog.mwaa().environment_classes
        if env["environment_class"] not in classes:
            raise ProjectConfigError(
                f"{path}: environment.environment_class = {env['environment_class']!r} is not an "
                f"MWAA environment class. Choose one of: {', '.join(classes)}."
            )
        settings["environment_class"] = env["environment_class"]
    if "region" in env:
        settings["region"] = _match(path, "environment.region", env["region"], _REGION)

    settings["airflow_config"] = _airflow_config(path, _table(path, data, "airflow_config"))

    aws = _table(path, data, "aws")
    _refuse_unknown(path, "aws", aws, {"emulator"})
    if "emulator" in aws:
        if aws["emulator"] not in AWS_EMULATORS:
            raise ProjectConfigError(
                f"{path}: aws.emulator = {aws['emulator']!r}; choose one of: "
                f"{', '.join(AWS_EMULATORS)}."
            )
        settings["aws_emulator"] = aws["emulator"]

    settings["targets"] = {
        name: _target(path, name, table) for name, table in _table(path, data, "targets").items()
    }
    return Project(root=root, **settings)


def _airflow_config(path: Path, options: dict) -> dict[str, str]:
    """Airflow configuration options as MWAA takes them: "section.key" = "value" strings."""
    result = {}
    for key, value in options.items():
        if not _CONFIG_OPTION.match(key):
            raise ProjectConfigError(
                f'{path}: airflow_config: "{key}" is not a "section.key" option name '
                '(write it quoted, e.g. "core.default_task_retries" = "2").'
            )
        if isinstance(value, (bool, int | float)):
            value = str(value)
        elif not isinstance(value, str):
            raise ProjectConfigError(
                f'{path}: airflow_config: "{key}" must be a string, number or boolean.'
            )
        result[key] = value
    return result


def _target(path: Path, name: str, table: object) -> PromotionTarget:
    where = f"targets.{name}"
    if not isinstance(table, dict):
        raise ProjectConfigError(f"{path}: [{where}] must be a table.")
    _refuse_unknown(path, where, table, {"environment_name", "region", "profile", "role_arn"})
    for required in ("environment_name", "region"):
        if required not in table:
            raise ProjectConfigError(f"{path}: [{where}] needs {required}.")
    return PromotionTarget(
        name=name,
        environment_name=_environment_name(
            path, f"{where}.environment_name", table["environment_name"]
        ),
        region=_match(path, f"{where}.region", table["region"], _REGION),
        profile=table.get("profile"),
        role_arn=table.get("role_arn"),
    )


def _table(path: Path, data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ProjectConfigError(f"{path}: [{name}] must be a table.")
    return value


def _match(path: Path, where: str, value: object, pattern: re.Pattern) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ProjectConfigError(f"{path}: {where} = {value!r} is not valid.")
    return value


def _environment_name(path: Path, where: str, value: object) -> str:
    if not isinstance(value, str) or not api_model.accepts("EnvironmentName", value):
        raise ProjectConfigError(
            f"{path}: {where} = {value!r} is not a valid MWAA environment name.",
            hint="A letter, then letters, digits, '-' or '_'; 80 characters at most.")
    return value


def _refuse_unknown(path: Path, where: str, table: dict, known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        prefix = f"[{where}] " if where else ""
        raise ProjectConfigError(
            f"{path}: {prefix}has unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}."
        )
