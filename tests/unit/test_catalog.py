"""The MWAA version catalog: its data files load, agree with each other, and the constraints
fall back to the shipped lock when the official file cannot be downloaded."""

from __future__ import annotations

import datetime
import http.server
import re
import socket
import threading
import time
from dataclasses import replace

import pytest
from packaging.requirements import Requirement

from mwaa_kit import catalog
from mwaa_kit.catalog import locks

EXPECTED = {"2.10.3": "3.11", "2.11.0": "3.12", "2.11.2": "3.12", "3.0.6": "3.12", "3.2.1": "3.12",
            "3.3.1": "3.12"}


@pytest.fixture(params=sorted(EXPECTED))
def version(request) -> catalog.AirflowVersion:
    return catalog.get_version(request.param)


def test_every_version_file_loads_and_is_supported():
    files = sorted(path.stem for path in catalog.VERSIONS_DIR.glob("*.toml"))
    assert catalog.supported_versions() == ["2.10.3", "2.11.0", "2.11.2", "3.0.6", "3.2.1",
                                            "3.3.1"]
    assert sorted(files) == sorted(catalog.supported_versions())


def test_default_version_is_mwaas_newest():
    assert catalog.DEFAULT_VERSION == "3.3.1"
    assert catalog.supported_versions()[-1] == catalog.DEFAULT_VERSION


def test_python_versions_match_mwaa(version):
    assert version.python_version == EXPECTED[version.airflow_version]
    assert version.constraints_url == (
        "https://raw.githubusercontent.com/apache/airflow/"
        f"constraints-{version.airflow_version}/constraints-{version.python_version}.txt"
    )


def test_release_dates_are_dates():
    assert catalog.get_version("3.0.6").release_date == datetime.date(2025, 8, 29)
    assert catalog.get_version("2.11.0").release_date == datetime.date(2025, 5, 20)
    assert catalog.get_version("2.10.3").release_date == datetime.date(2024, 11, 5)
    assert catalog.get_version("3.0.6").lock_exclude_newer == datetime.date(2025, 8, 30)
    assert catalog.get_version("2.11.2").release_date == datetime.date(2026, 3, 14)
    assert catalog.get_version("3.2.1").release_date == datetime.date(2026, 4, 22)
    assert catalog.get_version("3.3.1").release_date == datetime.date(2026, 8, 12)


def test_major_webserver_component_and_execution_env():
    v3, v2 = catalog.get_version("3.0.6"), catalog.get_version("2.11.0")
    assert (v3.major, v3.webserver_component, v3.execution_env) == (3, "api-server",
                                                                    "Amazon_MWAA_306")
    assert (v2.major, v2.webserver_component, v2.execution_env) == (2, "webserver",
                                                                    "Amazon_MWAA_2110")
    assert v3.components["webserver"] == (("airflow", "api-server"),)
    assert v2.components["webserver"] == (("airflow", "webserver"),)


def test_components_run_what_mwaa_runs(version):
    assert version.components["scheduler"] == (
        ("airflow", "scheduler"), ("airflow", "dag-processor"), ("airflow", "triggerer"))
    assert version.components["worker"] == (("airflow", "celery", "worker"),)


def test_unknown_version_lists_supported_versions():
    with pytest.raises(catalog.UnknownVersionError) as raised:
        catalog.get_version("2.9.9")
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == (
        "Airflow 2.9.9 is not in the MWAA catalog. "
        "Supported versions: 2.10.3, 2.11.0, 2.11.2, 3.0.6, 3.2.1, 3.3.1."
    )


def test_essential_pins_parse_as_exact_requirements(version):
    names = set()
    for pin in version.essential_pins:
        requirement = Requirement(pin)
        (spec,) = requirement.specifier
        assert spec.operator == "=="
        names.add(requirement.name.lower())
    assert f"apache-airflow=={version.airflow_version}" in version.essential_pins
    assert {"celery", "sqlalchemy", "flask", "watchtower"} <= names


def test_preinstalled_providers_are_pinned_providers(version):
    names = {Requirement(spec).name for spec in version.preinstalled_providers}
    assert {"apache-airflow-providers-amazon", "apache-airflow-providers-postgres",
            "apache-airflow-providers-celery"} <= names
    assert all(name.startswith("apache-airflow-providers-") for name in names)
    assert all(len(Requirement(spec).specifier) == 1 for spec in version.preinstalled_providers)
    amazon = next(s for s in version.preinstalled_providers if "amazon" in s)
    assert Requirement(amazon).extras == {"aiobotocore"}


def test_forced_config_is_mwaas(version):
    forced = version.forced_config
    assert forced["core"]["executor"] == "CeleryExecutor"
    assert forced["core"]["load_examples"] == "False"
    assert forced["celery"]["broker_url"].startswith("sqs://")
    assert forced["database"]["sql_alchemy_conn"].startswith("postgresql")
    assert all(isinstance(value, str) for options in forced.values()
               for value in options.values())
    standalone = forced.get("scheduler", {}).get("standalone_dag_processor")
    assert standalone == ("True" if version.major == 2 else None)
    assert set(version.runtime_supplied) == {"database.sql_alchemy_conn", "celery.broker_url"}


def test_default_config_does_not_overlap_forced(version):
    forced = {f"{s}.{k}" for s, options in version.forced_config.items() for k in options}
    defaults = {f"{s}.{k}" for s, options in version.default_config.items() for k in options}
    assert not forced & defaults
    assert not forced & set(version.managed_options)


def test_mwaa_facts():
    facts = catalog.mwaa()
    assert facts.environment_classes == {
        "mw1.micro": 3, "mw1.small": 5, "mw1.medium": 10, "mw1.large": 20,
        "mw1.xlarge": 40, "mw1.2xlarge": 80,
    }
    assert facts.environment_class_details["mw1.micro"].schedulers == 1
    assert facts.secrets_backend == (
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend")
    assert facts.secrets_backend_kwargs == {
        "connections_prefix": "airflow/connections", "variables_prefix": "airflow/variables"}
    assert facts.requirements_timeout_seconds == 9 * 60
    assert facts.startup_timeout_seconds == 5 * 60
    assert facts.protected_prefixes == ("MWAA__",)


@pytest.mark.parametrize("name", [
    "MWAA__CORE__REQUIREMENTS_PATH", "MWAA__ANYTHING", "AIRFLOW_ENV_ID", "AIRFLOW_ENV_NAME",
    "AIRFLOW_HOME", "AIRFLOW_VERSION", "AIRFLOW_TASK_REVISION_ID", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "CUSTOMER_ACCOUNT_ID", "PYTHONPATH",
    "PYTHONUNBUFFERED",
])
def test_protected_env_vars(name):
    assert catalog.is_protected_env_var(name)


@pytest.mark.parametrize("name", ["PATH", "LD_LIBRARY_PATH", "MWAA_AIRFLOW_COMPONENT",
                                  "AIRFLOW__CORE__PARALLELISM", "AIRFLOW_CONN_AWS_DEFAULT"])
def test_unprotected_env_vars(name):
    assert not catalog.is_protected_env_var(name)


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, pinned = line.partition("==")
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name), line
        assert pinned and " " not in pinned, line
        pins[re.sub(r"[-_.]+", "-", name.lower())] = pinned
    return pins


def test_lock_is_a_flat_pin_list_with_its_making_in_the_header(version):
    text = version.lock_path.read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header and text.startswith("# mwaa-kit constraints lock")
    joined = "\n".join(header)
    assert f"python -m mwaa_kit.catalog.locks {version.airflow_version}" in joined
    assert f"--exclude-newer {version.lock_exclude_newer.isoformat()}" in joined
    assert version.constraints_url in joined
    assert "Generated on:" in joined
    pins = _pins(text)
    assert pins["apache-airflow"] == version.airflow_version
    assert "apache-airflow-providers-salesforce" in pins


def test_lock_agrees_with_essential_pins_and_preinstalled_providers(version):
    pins = _pins(version.lock_path.read_text())
    for spec in (*version.essential_pins, *version.preinstalled_providers):
        requirement = Requirement(spec)
        name = re.sub(r"[-_.]+", "-", requirement.name.lower())
        assert requirement.specifier.contains(pins[name]), (spec, pins[name])


def test_lock_header_comes_from_the_generator(version):
    inputs = locks.lock_inputs(version)
    made = locks.header(version, inputs, "uv X", datetime.date(2026, 1, 1))
    shipped = version.lock_path.read_text()
    strip = re.compile(r"^# (With|Generated on):.*$", re.MULTILINE)
    assert strip.sub("", made) in strip.sub("", shipped)
    assert inputs[0] == f"apache-airflow[celery,statsd]=={version.airflow_version}"


def test_flatten_sorts_and_rejects_markers():
    assert locks.flatten("b==1\nA==2\n# c\n\nb==1\n") == ["A==2", "b==1"]
    with pytest.raises(ValueError):
        locks.flatten("pywin32==306 ; sys_platform == 'win32'\n")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_constraints_fall_back_to_the_lock_quickly(tmp_path):
    version = replace(
        catalog.get_version("3.0.6"),
        constraints_url=f"http://127.0.0.1:{_closed_port()}/constraints-3.12.txt",
    )
    started = time.monotonic()
    text, source = catalog.constraints_text(version, tmp_path / "cache", timeout=1)
    assert time.monotonic() - started < 5
    assert text == version.lock_path.read_text()
    assert source.startswith("lock shipped in the catalog (constraints-3.0.6-py3.12.txt")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_constraints_use_the_cache_when_present(tmp_path):
    version = replace(
        catalog.get_version("3.0.6"),
        constraints_url=f"http://127.0.0.1:{_closed_port()}/constraints-3.12.txt",
    )
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    official = "# official\n" + "".join(f"package-{n}=={n}.0\n" for n in range(20))
    (cache_dir / "constraints-3.0.6-3.12.txt").write_text(official)
    assert catalog.constraints_text(version, cache_dir) == (official, "official (cached)")


def test_constraints_download_and_cache(tmp_path):
    body = ("# official\n" + "".join(f"package-{n}=={n}.0\n" for n in range(20))).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        version = replace(
            catalog.get_version("2.10.3"),
            constraints_url=f"http://127.0.0.1:{server.server_port}/constraints-3.11.txt",
        )
        text, source = catalog.constraints_text(version, tmp_path / "cache")
        assert (text, source) == (body.decode(), "official (downloaded)")
        assert (tmp_path / "cache" / "constraints-2.10.3-3.11.txt").read_text() == text
        server.shutdown()
        assert catalog.constraints_text(version, tmp_path / "cache")[1] == "official (cached)"
    finally:
        server.shutdown()
        server.server_close()


def test_an_error_page_is_not_taken_for_constraints(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "constraints-3.0.6-3.12.txt").write_text("<html>proxy says no</html>")
    version = replace(catalog.get_version("3.0.6"),
                      constraints_url=f"http://127.0.0.1:{_closed_port()}/x.txt")
    text, source = catalog.constraints_text(version, cache_dir, timeout=1)
    assert source.startswith("lock shipped in the catalog")
