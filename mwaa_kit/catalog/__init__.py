"""The MWAA version catalog: what MWAA runs for each Airflow version, read from TOML data.

`mwaa.toml` holds the facts shared by every version (protected environment variables,
environment classes, the secrets backend, time limits) and those shared by the versions of
one Airflow major (health path, REST API prefix, DAG-folder rescan option: each
AirflowVersion carries its major's, so the runtimes read them instead of branching on the
major number); `versions/<airflow>.toml` holds one Airflow version each;
`cli_commands.toml` the Airflow CLI commands MWAA's CLI endpoint runs, per major (read by
`cli_commands`); `locks/` holds the constraints locks that stand in for the official
Airflow constraints files when those cannot be downloaded. Supporting a new MWAA version
means adding a TOML file and a lock (`python -m mwaa_kit.catalog.locks <version>`), and for
a new Airflow major a [majors.N] table in mwaa.toml and in cli_commands.toml: no code.
"""

from __future__ import annotations

import datetime
import re
import tomllib
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from mwaa_kit.errors import KitError

__all__ = [
    "DEFAULT_VERSION",
    "AirflowMajor",
    "AirflowVersion",
    "CatalogError",
    "EnvironmentClass",
    "MwaaFacts",
    "UnknownVersionError",
    "constraints_text",
    "get_version",
    "is_protected_env_var",
    "mwaa",
    "supported_versions",
]

CATALOG_DIR = Path(__file__).parent
VERSIONS_DIR = CATALOG_DIR / "versions"
LOCKS_DIR = CATALOG_DIR / "locks"

WEBSERVER_COMPONENTS = ("webserver", "api-server")
COMPONENTS = ("scheduler", "webserver", "worker")


class CatalogError(KitError, ValueError):
    """A catalog data file is missing a fact or states it in the wrong shape."""


class UnknownVersionError(KitError, ValueError):
    """The Airflow version is not one the catalog (and so the kit) supports."""


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class EnvironmentClass:
    """One MWAA environment class (mw1.small, ...) as MWAA's documentation sizes it."""

    name: str
    concurrency: int  # default concurrent tasks per worker (celery.worker_autoscale)
    vcpu: int
    memory_gb: int
    dag_capacity: int
    schedulers: int  # default number of schedulers


@dataclass(frozen=True)
class AirflowMajor:
    """What every Airflow version of one major shares, as the runtimes meet it."""

    health_path: str  # the UI's health endpoint, e.g. /api/v2/monitor/health
    rest_api_prefix: str  # where the stable REST API is served, e.g. /api/v2
    rescan_option: str  # "section.key" setting how often the DAG folder is listed


@dataclass(frozen=True)
class MwaaFacts:
    """Facts about MWAA that do not depend on the Airflow version, and (`majors`) those
    that depend only on its major."""

    default_version: str
    protected_env_vars: tuple[str, ...]
    protected_prefixes: tuple[str, ...]
    environment_classes: dict[str, int]  # name -> default concurrent tasks per worker
    environment_class_details: dict[str, EnvironmentClass]
    secrets_backend: str
    secrets_backend_kwargs: dict[str, str]
    startup_timeout_seconds: int
    requirements_timeout_seconds: int
    # WebserverAccessMode -> the oldest Airflow version ("3.2") an environment may use it on
    webserver_access_modes: dict[str, str] = field(default_factory=dict)
    majors: dict[int, AirflowMajor] = field(default_factory=dict)  # Airflow major -> its facts

    def is_protected_env_var(self, name: str) -> bool:
        return name in self.protected_env_vars or name.startswith(self.protected_prefixes)

    def access_mode_allowed(self, mode: str, airflow_version: str) -> bool:
        """True when MWAA lets an environment on `airflow_version` use WebserverAccessMode
        `mode` (False for a mode MWAA does not have)."""
        since = self.webserver_access_modes.get(mode)
        return since is not None and _version_key(airflow_version) >= _version_key(since)


@dataclass(frozen=True)
class AirflowVersion:
    """One Airflow version as MWAA runs it."""

    airflow_version: str
    python_version: str
    release_date: datetime.date
    constraints_url: str
    lock_path: Path
    essential_pins: tuple[str, ...]
    preinstalled_providers: tuple[str, ...]
    forced_config: dict[str, dict[str, str]]  # section -> key -> value; users may not set
    webserver_component: str
    # from mwaa.toml's [majors.N] of this version's major (see AirflowMajor)
    health_path: str
    rest_api_prefix: str
    rescan_option: str
    default_config: dict[str, dict[str, str]] = field(default_factory=dict)  # users may override
    managed_options: tuple[str, ...] = ()  # "section.key" MWAA sets to values internal to it
    runtime_supplied: tuple[str, ...] = ()  # "section.key" in forced_config a runtime replaces
    components: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    lock_extras: tuple[str, ...] = ()
    lock_requirements: tuple[str, ...] = ()
    image_requirements: tuple[str, ...] = ()  # other packages the image installs with Airflow

    @property
    def base_requirements(self) -> tuple[str, ...]:
        """What MWAA's image installs before any user requirement: Airflow, the packages
        its bootstrap adds (apache-airflow-core[gunicorn] from 3.2) and its providers."""
        return (f"apache-airflow=={self.airflow_version}", *self.image_requirements,
                *self.preinstalled_providers)

    @property
    def key(self) -> tuple[int, ...]:
        """The version as numbers, for comparisons: (3, 1) <= version.key."""
        return _version_key(self.airflow_version)

    @property
    def major(self) -> int:
        return self.key[0]

    @property
    def execution_env(self) -> str:
        """AWS_EXECUTION_ENV as MWAA sets it, e.g. Amazon_MWAA_306."""
        return "Amazon_MWAA_" + self.airflow_version.replace(".", "")

    def locked_version(self, package: str) -> str | None:
        """The version of `package` the shipped lock pins (what MWAA's image installs,
        within the lock's resolution), or None when the lock has none."""
        prefix = f"{package.lower()}=="
        for line in self.lock_path.read_text().splitlines():
            if line.lower().startswith(prefix):
                return line[len(prefix):].split(";")[0].strip()
        return None

    @property
    def lock_exclude_newer(self) -> datetime.date:
        """The cut-off date of the shipped lock's resolution: the day after the release."""
        return self.release_date + datetime.timedelta(days=1)


def _require(data: dict, key: str, kind: type | tuple[type, ...], where: str):
    if key not in data:
        raise CatalogError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _string_tuple(data: dict, key: str, where: str, required: bool = True) -> tuple[str, ...]:
    if not required and key not in data:
        return ()
    values = _require(data, key, list, where)
    if not all(isinstance(value, str) for value in values):
        raise CatalogError(f"{where}: every entry of '{key}' must be a string")
    return tuple(values)


def _config_table(data: dict, key: str, where: str) -> dict[str, dict[str, str]]:
    table = data.get(key, {})
    result: dict[str, dict[str, str]] = {}
    for section, options in table.items():
        if not isinstance(options, dict) or not all(
            isinstance(value, str) for value in options.values()
        ):
            raise CatalogError(f"{where}: [{key}.{section}] values must be strings")
        result[section] = dict(options)
    return result


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path.name}: {error}") from error


def _load_version(path: Path) -> AirflowVersion:
    data = _load_toml(path)
    where = f"versions/{path.name}"
    version = _require(data, "airflow_version", str, where)
    if path.stem != version:
        raise CatalogError(f"{where}: airflow_version is {version}, the file name says otherwise")
    python = _require(data, "python_version", str, where)
    if not re.fullmatch(r"3\.\d+", python):
        raise CatalogError(f"{where}: python_version must look like 3.12, not {python!r}")
    release = _require(data, "release_date", datetime.date, where)
    webserver = _require(data, "webserver_component", str, where)
    if webserver not in WEBSERVER_COMPONENTS:
        raise CatalogError(f"{where}: webserver_component must be one of {WEBSERVER_COMPONENTS}")
    forced = _config_table(data, "forced_config", where)
    if not forced:
        raise CatalogError(f"{where}: missing [forced_config]")
    runtime_supplied = _string_tuple(data, "runtime_supplied", where, required=False)
    forced_keys = {f"{section}.{key}" for section, options in forced.items() for key in options}
    if not set(runtime_supplied) <= forced_keys:
        raise CatalogError(f"{where}: runtime_supplied names options not in forced_config")
    components: dict[str, tuple[tuple[str, ...], ...]] = {}
    for name, commands in _require(data, "components", dict, where).items():
        if name not in COMPONENTS or not all(
            isinstance(command, list) and command for command in commands
        ):
            raise CatalogError(f"{where}: [components] {name} must be a list of commands")
        components[name] = tuple(tuple(command) for command in commands)
    lock_inputs = data.get("lock_inputs", {})
    major = _version_key(version)[0]
    if major not in mwaa().majors:
        raise CatalogError(f"{where}: Airflow {major} has no [majors.{major}] in mwaa.toml")
    return AirflowVersion(
        airflow_version=version,
        python_version=python,
        release_date=release,
        constraints_url=_require(data, "constraints_url", str, where),
        lock_path=LOCKS_DIR / _require(data, "lock", str, where),
        essential_pins=_string_tuple(data, "essential_pins", where),
        preinstalled_providers=_string_tuple(data, "preinstalled_providers", where),
        image_requirements=_string_tuple(data, "image_requirements", where, required=False),
        forced_config=forced,
        webserver_component=webserver,
        **asdict(mwaa().majors[major]),
        default_config=_config_table(data, "default_config", where),
        managed_options=_string_tuple(data.get("managed", {}), "options", where, required=False),
        runtime_supplied=runtime_supplied,
        components=components,
        notes=_string_tuple(data, "notes", where, required=False),
        lock_extras=_string_tuple(lock_inputs, "extras", where, required=False),
        lock_requirements=_string_tuple(lock_inputs, "requirements", where, required=False),
    )


@cache
def _versions() -> dict[str, AirflowVersion]:
    versions = {}
    for path in sorted(VERSIONS_DIR.glob("*.toml")):
        version = _load_version(path)
        versions[version.airflow_version] = version
    return versions


def supported_versions() -> list[str]:
    """The Airflow versions in the catalog, oldest first."""
    return sorted(_versions(), key=_version_key)


def get_version(version: str) -> AirflowVersion:
    """The catalog entry of one Airflow version; UnknownVersionError if there is none."""
    try:
        return _versions()[version.strip()]
    except KeyError:
        raise UnknownVersionError(
            f"Airflow {version} is not in the MWAA catalog. "
            f"Supported versions: {', '.join(supported_versions())}."
        ) from None


@cache
def mwaa() -> MwaaFacts:
    """Facts about MWAA shared by every Airflow version."""
    where = "mwaa.toml"
    data = _load_toml(CATALOG_DIR / where)
    classes: dict[str, EnvironmentClass] = {}
    for name, values in _require(data, "environment_classes", dict, where).items():
        try:
            classes[name] = EnvironmentClass(name=name, **values)
        except TypeError as error:
            raise CatalogError(f"{where}: environment class {name}: {error}") from error
    secrets = _require(data, "secrets", dict, where)
    access_modes = _require(data, "webserver_access_modes", dict, where)
    for mode, since in access_modes.items():
        if not isinstance(since, str) or not re.fullmatch(r"\d+(\.\d+)*", since):
            raise CatalogError(f"{where}: webserver_access_modes.{mode} must be an Airflow "
                               f"version such as \"3.2\", not {since!r}")
    return MwaaFacts(
        default_version=_require(data, "default_version", str, where),
        protected_env_vars=_string_tuple(data, "protected_env_vars", where),
        protected_prefixes=_string_tuple(data, "protected_prefixes", where),
        environment_classes={name: spec.concurrency for name, spec in classes.items()},
        environment_class_details=classes,
        secrets_backend=_require(secrets, "backend", str, where),
        secrets_backend_kwargs=dict(_require(secrets, "kwargs", dict, where)),
        startup_timeout_seconds=_require(data, "startup_timeout_seconds", int, where),
        requirements_timeout_seconds=_require(data, "requirements_timeout_seconds", int, where),
        webserver_access_modes=dict(access_modes),
        majors=_majors(_require(data, "majors", dict, where), where),
    )


# The shape of each [majors.N] fact in mwaa.toml.
_MAJOR_FACT_PATTERNS = {
    "health_path": r"/\S*",
    "rest_api_prefix": r"/api/v\d+",
    "rescan_option": r"[a-z_]+\.[a-z_]+",
}


def _majors(table: dict, where: str) -> dict[int, AirflowMajor]:
    majors = {}
    for major, facts in table.items():
        if not major.isdigit() or not isinstance(facts, dict):
            raise CatalogError(f"{where}: [majors.{major}] must be a table named by an "
                               "Airflow major version such as [majors.3]")
        place = f"{where} [majors.{major}]"
        if set(facts) != set(_MAJOR_FACT_PATTERNS):
            raise CatalogError(f"{place}: holds {sorted(facts)}, not "
                               f"{sorted(_MAJOR_FACT_PATTERNS)}")
        for name, pattern in _MAJOR_FACT_PATTERNS.items():
            if not re.fullmatch(pattern, _require(facts, name, str, place)):
                raise CatalogError(f"{place}: {name} {facts[name]!r} does not look like "
                                   f"{pattern}")
        majors[int(major)] = AirflowMajor(**facts)
    return majors


def is_protected_env_var(name: str) -> bool:
    """True when MWAA does not let a startup script change the variable `name`."""
    return mwaa().is_protected_env_var(name)


_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+", re.MULTILINE)


def _looks_like_constraints(text: str) -> bool:
    return len(_PIN.findall(text)) >= 10 and "<html" not in text[:2000].lower()


def constraints_text(
    version: AirflowVersion, cache_dir: Path, timeout: float = 5
) -> tuple[str, str]:
    """The Airflow constraints for `version` and where they came from.

    The official file is downloaded once and cached in `cache_dir`; when it cannot be had
    (no network, a proxy that refuses the host, a timeout), the lock shipped in the catalog
    is used instead. Never raises for network trouble.
    """
    cache_dir = Path(cache_dir)
    cached = cache_dir / f"constraints-{version.airflow_version}-{version.python_version}.txt"
    if cached.is_file():
        text = cached.read_text()
        if _looks_like_constraints(text):
            return text, "official (cached)"
    try:
        with urllib.request.urlopen(version.constraints_url, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except (OSError, urllib.error.URLError, ValueError, UnicodeDecodeError):
        text = ""
    if _looks_like_constraints(text):
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.write_text(text)
        partial.replace(cached)
        return text, "official (downloaded)"
    return version.lock_path.read_text(), (
        f"lock shipped in the catalog ({version.lock_path.name}, resolved with uv "
        f"--exclude-newer {version.lock_exclude_newer.isoformat()}; the official file "
        f"could not be downloaded)"
    )


DEFAULT_VERSION: str = mwaa().default_version
if DEFAULT_VERSION not in _versions():  # pragma: no cover - a broken catalog
    raise CatalogError(f"mwaa.toml: default_version {DEFAULT_VERSION} has no versions/ file")
