"""Every catalog version holds every fact the contract reads (issue #18's acceptance line:
"a unit test fails if a catalog version lacks any fact the contract reads").

Which facts are read is not listed by hand: the code outside mwaa_kit/catalog (and the
CDK app) is scanned for uses of AirflowVersion / MwaaFacts attributes, plus what the
catalog's own properties and functions it calls read in turn (base_requirements reads
image_requirements, constraints_text reads lock_path...). Each read fact needs a check
below; a fact the contract starts reading without one fails
test_every_read_fact_has_a_check until one is written.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from mwaa_kit import catalog
from mwaa_kit.project import Project

REPO = Path(__file__).resolve().parents[2]
CATALOG_SOURCE = REPO / "mwaa_kit" / "catalog" / "__init__.py"
READERS = [path for root in ("mwaa_kit", "infra/mwaa_infra") for path in (REPO / root).rglob("*.py")
           if "catalog" not in path.relative_to(REPO).parts]


def _members(cls: type) -> set[str]:
    names = {field.name for field in dataclasses.fields(cls)}
    return names | {name for name, value in vars(cls).items() if not name.startswith("_")
                    and (isinstance(value, property) or callable(value))}


VERSION_MEMBERS = _members(catalog.AirflowVersion)
MWAA_MEMBERS = _members(catalog.MwaaFacts)


def _attributes(tree: ast.AST) -> set[str]:
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def _catalog_definitions() -> dict[str, ast.AST]:
    """The catalog's functions, methods, properties and module constants, by name."""
    tree = ast.parse(CATALOG_SOURCE.read_text())
    found: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    found[target.id] = node.value
    return found


def read_facts() -> tuple[set[str], set[str]]:
    """(AirflowVersion members, MwaaFacts members) that code outside the catalog reads,
    directly or through the catalog's own properties and functions."""
    used: set[str] = set()
    for path in READERS:
        used |= _attributes(ast.parse(path.read_text(), filename=str(path)))
    definitions = _catalog_definitions()
    pending = [name for name in used if name in definitions]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        # facts are read as attributes (version.x, self.x); the loader's keyword
        # arguments and local names are not reads
        attributes = _attributes(definitions[name])
        used |= attributes & (VERSION_MEMBERS | MWAA_MEMBERS)
        called = attributes | {node.id for node in ast.walk(definitions[name])
                               if isinstance(node, ast.Name)}
        pending += [other for other in called if other in definitions and other not in seen]
    return used & VERSION_MEMBERS, used & MWAA_MEMBERS


READ_VERSION_FACTS, READ_MWAA_FACTS = read_facts()


# -- what "present" means for each fact ----------------------------------------------

def _pinned(spec: str) -> str:
    requirement = Requirement(spec)
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", spec
    return specifier.version


def _lock_header(version: catalog.AirflowVersion) -> str:
    assert version.lock_path.is_file(), f"no lock {version.lock_path.name}"
    return "\n".join(line for line in version.lock_path.read_text().splitlines()
                     if line.startswith("#"))


def check_airflow_version(v: catalog.AirflowVersion) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", v.airflow_version)
    assert (catalog.VERSIONS_DIR / f"{v.airflow_version}.toml").is_file()


def check_python_version(v: catalog.AirflowVersion) -> None:
    assert re.fullmatch(r"3\.\d+", v.python_version)


def check_release_date(v: catalog.AirflowVersion) -> None:
    assert isinstance(v.release_date, datetime.date)
    assert datetime.date(2020, 1, 1) < v.release_date < datetime.date.today()


def check_constraints_url(v: catalog.AirflowVersion) -> None:
    assert v.constraints_url.startswith("https://")
    assert v.constraints_url.endswith(
        f"/constraints-{v.airflow_version}/constraints-{v.python_version}.txt")


def check_lock_path(v: catalog.AirflowVersion) -> None:
    header = _lock_header(v)
    assert f"Apache Airflow {v.airflow_version}, Python {v.python_version}" in header
    assert f"python -m mwaa_kit.catalog.locks {v.airflow_version}" in header
    pins = re.findall(r"^apache-airflow==(\S+)$", v.lock_path.read_text(), re.MULTILINE)
    assert pins == [v.airflow_version]


def check_locked_version(v: catalog.AirflowVersion) -> None:
    assert v.locked_version("apache-airflow") == v.airflow_version
    assert re.fullmatch(r"\d+\.\d+\.\d+", v.locked_version("botocore") or "")
    assert v.locked_version("no-such-package") is None


def check_lock_exclude_newer(v: catalog.AirflowVersion) -> None:
    assert f"--exclude-newer {v.lock_exclude_newer.isoformat()}" in _lock_header(v)


def check_essential_pins(v: catalog.AirflowVersion) -> None:
    assert f"apache-airflow=={v.airflow_version}" in v.essential_pins
    assert len(v.essential_pins) > 1
    for pin in v.essential_pins:
        _pinned(pin)


def check_preinstalled_providers(v: catalog.AirflowVersion) -> None:
    names = {Requirement(spec).name for spec in v.preinstalled_providers}
    assert "apache-airflow-providers-amazon" in names  # Secrets Manager, SQS, S3 logs
    assert "apache-airflow-providers-postgres" in names
    for spec in v.preinstalled_providers:
        _pinned(spec)


def check_image_requirements(v: catalog.AirflowVersion) -> None:
    # Optional. Each is pinned, or, unpinned as in the image's own pip install, left to the
    # constraints: then the shipped lock (the offline constraints) must pin it.
    lock_pins = {Requirement(line).name for line in v.lock_path.read_text().splitlines()
                 if line and not line.startswith("#")}
    for spec in v.image_requirements:
        requirement = Requirement(spec)
        if requirement.specifier:
            _pinned(spec)
        else:
            assert requirement.name in lock_pins, f"{spec}: neither pinned nor in the lock"
    if v.default_config.get("api", {}).get("server_type") == "gunicorn":
        assert any(Requirement(spec).name == "apache-airflow-core" and "gunicorn" in
                   Requirement(spec).extras for spec in v.image_requirements), \
            "the api-server runs under gunicorn: the image installs apache-airflow-core[gunicorn]"


def check_base_requirements(v: catalog.AirflowVersion) -> None:
    assert v.base_requirements[0] == f"apache-airflow=={v.airflow_version}"
    assert set(v.preinstalled_providers) <= set(v.base_requirements)


def check_forced_config(v: catalog.AirflowVersion) -> None:
    forced = v.forced_config
    assert forced["core"]["executor"] == "CeleryExecutor"
    assert forced["core"]["load_examples"] == "False"
    # the runtimes replace these two with their own endpoints
    assert forced["database"]["sql_alchemy_conn"]
    assert forced["celery"]["broker_url"]
    assert all(value for options in forced.values() for value in options.values())


def check_default_config(v: catalog.AirflowVersion) -> None:
    assert v.default_config, "MWAA sets opinionated defaults on every version"
    assert all(isinstance(value, str) for options in v.default_config.values()
               for value in options.values())


def check_managed_options(v: catalog.AirflowVersion) -> None:
    assert v.managed_options, "MWAA manages options (fernet key, logging config) on every version"
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", option) for option in v.managed_options)


def check_components(v: catalog.AirflowVersion) -> None:
    assert set(v.components) == set(catalog.COMPONENTS)
    for name in catalog.COMPONENTS:
        assert v.components[name], f"no process for the {name} container"
        assert all(command[0] == "airflow" and len(command) > 1
                   for command in v.components[name])
    assert ("airflow", "scheduler") in v.components["scheduler"]


def check_webserver_component(v: catalog.AirflowVersion) -> None:
    assert v.webserver_component in catalog.WEBSERVER_COMPONENTS
    assert v.components["webserver"][0][1] == v.webserver_component


def check_key(v: catalog.AirflowVersion) -> None:
    assert v.key == tuple(int(part) for part in v.airflow_version.split("."))
    assert v.key[0] == v.major


def check_major(v: catalog.AirflowVersion) -> None:
    assert v.major == int(v.airflow_version.split(".")[0])
    # the facts the runtimes key by major version come from mwaa.toml's [majors.N]
    facts = catalog.mwaa().majors[v.major]
    assert (v.health_path, v.rest_api_prefix, v.rescan_option) == (
        facts.health_path, facts.rest_api_prefix, facts.rescan_option)


def check_health_path(v: catalog.AirflowVersion) -> None:
    assert v.health_path.startswith("/")
    if v.webserver_component == "api-server":  # Airflow 3 serves it in its REST API
        assert v.health_path.startswith(v.rest_api_prefix + "/")


def check_rest_api_prefix(v: catalog.AirflowVersion) -> None:
    assert re.fullmatch(r"/api/v\d+", v.rest_api_prefix)


def check_rescan_option(v: catalog.AirflowVersion) -> None:
    section, key = v.rescan_option.split(".")
    # the runtimes set it: MWAA must leave it to the environment
    assert key not in v.forced_config.get(section, {})
    assert v.rescan_option not in v.managed_options


def check_notes(v: catalog.AirflowVersion) -> None:
    # optional; what there is, status and the docs print as sentences
    assert all(isinstance(note, str) and note.strip() for note in v.notes)


def check_execution_env(v: catalog.AirflowVersion) -> None:
    assert v.execution_env == "Amazon_MWAA_" + v.airflow_version.replace(".", "")


VERSION_CHECKS: dict[str, Callable[[catalog.AirflowVersion], None]] = {
    name.removeprefix("check_"): check for name, check in dict(globals()).items()
    if name.startswith("check_")
}


def _mwaa_checks() -> dict[str, Callable[[catalog.MwaaFacts], None]]:
    def default_version(m):
        assert m.default_version in catalog.supported_versions()

    def environment_classes(m):
        assert Project(root=REPO).environment_class in m.environment_classes
        assert "mw1.small" in m.environment_classes  # the compose entrypoint's default
        assert all(isinstance(n, int) and n > 0 for n in m.environment_classes.values())

    def environment_class_details(m):
        assert set(m.environment_class_details) == set(m.environment_classes)
        assert all(spec.schedulers >= 1 for spec in m.environment_class_details.values())

    def protected_env_vars(m):
        assert {"AIRFLOW_HOME", "AWS_EXECUTION_ENV", "PYTHONPATH"} <= set(m.protected_env_vars)

    def protected_prefixes(m):
        assert m.protected_prefixes and all(m.protected_prefixes)

    def is_protected_env_var(m):
        assert m.is_protected_env_var("AIRFLOW_HOME") and not m.is_protected_env_var("PATH")

    def requirements_timeout_seconds(m):
        assert m.requirements_timeout_seconds > 0

    def startup_timeout_seconds(m):
        assert m.startup_timeout_seconds > 0

    def secrets_backend(m):
        assert re.fullmatch(r"[a-z_.]+\.[A-Z]\w+", m.secrets_backend)

    def secrets_backend_kwargs(m):
        assert {"connections_prefix", "variables_prefix"} <= set(m.secrets_backend_kwargs)

    def webserver_access_modes(m):
        assert "PRIVATE_ONLY" in m.webserver_access_modes  # the emulator's default

    def majors(m):
        versions = [catalog.get_version(version) for version in catalog.supported_versions()]
        assert {version.major for version in versions} <= set(m.majors)

    def access_mode_allowed(m):
        for version in catalog.supported_versions():
            assert m.access_mode_allowed("PRIVATE_ONLY", version)

    return {name: check for name, check in locals().items() if callable(check)}


MWAA_CHECKS = _mwaa_checks()


# -- the tests -----------------------------------------------------------------------

def test_the_scan_finds_what_the_contract_reads():
    assert {"components", "forced_config", "essential_pins", "preinstalled_providers",
            "webserver_component", "constraints_url", "python_version", "major",
            "execution_env"} <= READ_VERSION_FACTS
    # read through the catalog's own code: base_requirements and constraints_text
    assert {"image_requirements", "lock_path", "lock_exclude_newer", "release_date"} \
        <= READ_VERSION_FACTS
    assert {"environment_classes", "secrets_backend", "default_version",
            "protected_env_vars", "webserver_access_modes"} <= READ_MWAA_FACTS


def test_every_read_fact_has_a_check():
    assert READ_VERSION_FACTS - set(VERSION_CHECKS) == set(), (
        "the contract reads these AirflowVersion facts: add a check_<fact> to this file")
    assert READ_MWAA_FACTS - set(MWAA_CHECKS) == set(), (
        "the contract reads these MwaaFacts: add a check to _mwaa_checks()")


@pytest.mark.parametrize("fact", sorted(READ_VERSION_FACTS))
@pytest.mark.parametrize("version", catalog.supported_versions())
def test_every_version_holds_the_fact(version, fact):
    VERSION_CHECKS[fact](catalog.get_version(version))


@pytest.mark.parametrize("fact", sorted(READ_MWAA_FACTS))
def test_mwaa_holds_the_fact(fact):
    MWAA_CHECKS[fact](catalog.mwaa())


@pytest.mark.parametrize(("fact", "broken"), [
    ("components", {"components": {"scheduler": (("airflow", "scheduler"),),
                                   "webserver": (("airflow", "api-server"),)}}),
    ("components", {"components": {"scheduler": (), "webserver": (("airflow", "api-server"),),
                                   "worker": (("airflow", "celery", "worker"),)}}),
    ("forced_config", {"forced_config": {"core": {"load_examples": "False"}}}),
    ("essential_pins", {"essential_pins": ("celery==5.5.2",)}),
    ("preinstalled_providers", {"preinstalled_providers": (
        "apache-airflow-providers-postgres==6.2.3",)}),
    ("webserver_component", {"webserver_component": "webserver"}),
    ("lock_path", {"lock_path": catalog.LOCKS_DIR / "constraints-9.9.9-py3.12.txt"}),
    ("default_config", {"default_config": {}}),
    ("managed_options", {"managed_options": ()}),
    ("image_requirements", {"image_requirements": ()}),
])
def test_a_version_lacking_a_fact_fails_its_check(fact, broken):
    version = dataclasses.replace(catalog.get_version(catalog.DEFAULT_VERSION), **broken)
    with pytest.raises((AssertionError, KeyError, IndexError)):
        VERSION_CHECKS[fact](version)


def test_each_major_has_its_own_facts():
    v2, v3 = catalog.get_version("2.11.0"), catalog.get_version("3.0.6")
    assert (v2.health_path, v2.rest_api_prefix, v2.rescan_option) == (
        "/health", "/api/v1", "scheduler.dag_dir_list_interval")
    assert (v3.health_path, v3.rest_api_prefix, v3.rescan_option) == (
        "/api/v2/monitor/health", "/api/v2", "dag_processor.refresh_interval")
    for version in catalog.supported_versions():
        for fact in ("health_path", "rest_api_prefix", "rescan_option"):
            VERSION_CHECKS[fact](catalog.get_version(version))


GOOD_MAJOR = {"health_path": "/health", "rest_api_prefix": "/api/v1",
              "rescan_option": "scheduler.dag_dir_list_interval"}


@pytest.mark.parametrize("table", [
    {"two": GOOD_MAJOR},
    {"2": {key: value for key, value in GOOD_MAJOR.items() if key != "rescan_option"}},
    {"2": {**GOOD_MAJOR, "api_version": "v1"}},
    {"2": {**GOOD_MAJOR, "health_path": "health"}},
    {"2": {**GOOD_MAJOR, "rest_api_prefix": "/api"}},
    {"2": {**GOOD_MAJOR, "rescan_option": "dag_dir_list_interval"}},
    {"2": {**GOOD_MAJOR, "rescan_option": 5}},
], ids=["name", "missing", "unknown", "health", "prefix", "option", "type"])
def test_a_broken_majors_table_fails_at_load(table):
    with pytest.raises(catalog.CatalogError, match=r"majors"):
        catalog._majors(table, "mwaa.toml")
    assert catalog._majors({"2": GOOD_MAJOR}, "mwaa.toml")[2].health_path == "/health"


def test_a_version_whose_major_has_no_facts_fails_at_load(monkeypatch):
    facts = dataclasses.replace(catalog.mwaa(), majors={2: catalog.AirflowMajor(**GOOD_MAJOR)})
    monkeypatch.setattr(catalog, "mwaa", lambda: facts)
    with pytest.raises(catalog.CatalogError, match=r"3\.0\.6.*\[majors\.3\]"):
        catalog._load_version(catalog.VERSIONS_DIR / "3.0.6.toml")
