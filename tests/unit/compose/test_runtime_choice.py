"""The automatic runtime: compose only where its images can be built, else native, saying why."""

import pytest

from mwaa_kit.runtime import select
from mwaa_kit.runtime.compose import engine, images


@pytest.fixture
def machine(monkeypatch):
    """An engine that answers; which images exist and whether a registry answers is set
    by each test."""
    present: set[str] = set()
    monkeypatch.setattr(engine, "compose_command", lambda: ["podman-compose"])
    monkeypatch.setattr(images, "image_exists", lambda name: name in present)
    monkeypatch.setattr(images, "registry_answers", lambda timeout=3: False)
    for name in images.BASE_IMAGE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("MWAA_KIT_RUNTIME", raising=False)
    return present


def test_the_compose_file_s_public_defaults_are_read_from_it():
    assert images.public_defaults() == {
        "AIRFLOW_BASE_IMAGE": "python:3.12-slim-bookworm",
        "POSTGRES_BASE_IMAGE": "debian:bookworm-slim",
        "LOCALSTACK_BASE_IMAGE": "python:3.13-slim-trixie",
        "STUB_BASE_IMAGE": "python:3.12-slim-bookworm",
    }


def test_no_base_images_and_no_registry_runs_natively_and_says_why(machine):
    notes = []
    assert select.choose(None, note=notes.append) == "native"
    assert len(notes) == 1 and "running natively" in notes[0]
    assert "python:3.12-slim-bookworm" in notes[0] and "scripts/setup-containers" in notes[0]


def test_the_local_bases_of_setup_containers_are_used_when_there(machine):
    machine.update(images.LOCAL_BASES.values())
    assert select.choose(None) == "compose"
    assert images.base_images() == images.LOCAL_BASES


def test_a_registry_that_answers_is_enough(machine, monkeypatch):
    monkeypatch.setattr(images, "registry_answers", lambda timeout=3: True)
    assert select.choose(None) == "compose"
    assert images.base_images() == images.public_defaults()


def test_a_base_image_variable_wins_and_must_exist(machine, monkeypatch):
    machine.update(images.LOCAL_BASES.values())
    monkeypatch.setenv("AIRFLOW_BASE_IMAGE", "corp/python:3.12")
    notes = []
    assert select.choose(None, note=notes.append) == "native"
    assert "corp/python:3.12" in notes[0]
    machine.add("corp/python:3.12")
    assert select.choose(None) == "compose"


def test_an_asked_for_runtime_is_never_second_guessed(machine):
    assert select.choose("compose") == "compose"
    assert select.choose("native") == "native"

