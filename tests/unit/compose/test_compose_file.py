"""docker-compose.yml against the Compose specification's JSON schema.

The schema comes from the docker-compose 1.29.2 wheel on PyPI (the last Python release
of Compose, which ships the specification's schema), downloaded once into the cache.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CACHE = Path.home() / ".cache" / "mwaa-kit" / "compose-spec"


@pytest.fixture(scope="module")
def schema():
    wheel = next(CACHE.glob("docker_compose-1.29.2-*.whl"), None)
    if wheel is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "docker-compose==1.29.2", "-d", str(CACHE)], check=True)
        wheel = next(CACHE.glob("docker_compose-1.29.2-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read("compose/config/compose_spec.json"))


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_file_follows_the_specification(schema, compose):
    jsonschema.Draft7Validator(schema).validate(compose)


def test_an_invalid_file_is_caught_by_the_same_check(schema, compose):
    broken = {**compose, "services": {**compose["services"], "worker": {"command": 42}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_published_ports_bind_loopback_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_every_airflow_container_runs_the_contract_entrypoint(compose):
    airflow = {"init", "scheduler", "webserver", "worker"}
    for name in airflow:
        assert compose["services"][name]["image"].startswith("mwaa-kit/airflow:")
    builds = [name for name in airflow if "build" in compose["services"][name]]
    assert builds == ["init"]  # one build of the shared image, not one per service
    assert compose["services"]["init"]["build"]["dockerfile"] == "docker/airflow/Dockerfile"
    environment = compose["x-airflow"]["environment"]
    assert "MWAA_KIT_RUN_ID" in environment and "MWAA_KIT_WAIT_FOR" in environment


def test_the_mwaa_service_publishes_the_web_origin_its_containers_trust(compose):
    ports = compose["services"]["mwaa"]["ports"]
    assert "127.0.0.1:${MWAA_KIT_WEB_PORT:-8443}:8443" in ports
    environment = compose["x-airflow"]["environment"]
    assert environment["MWAA_KIT_WEB_HOSTNAME"] == "127.0.0.1:${MWAA_KIT_WEB_PORT:-8443}"
    assert environment["AWS_CA_BUNDLE"] == environment["REQUESTS_CA_BUNDLE"]
