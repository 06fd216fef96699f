"""Which compose tool runs the stack, from the executables on PATH."""

import pytest

from mwaa_kit.project import load_project
from mwaa_kit.runtime.compose.engine import (
    ContainerEngineUnavailableError,
    compose_command,
    is_podman_compose,
)
from mwaa_kit.runtime.compose.stack import ComposeEnvironment, ComposeError


@pytest.fixture
def path(tmp_path, monkeypatch):
    """A PATH of stand-in executables only; MWAA_KIT_COMPOSE unset."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MWAA_KIT_COMPOSE", raising=False)
    return tmp_path


def _tool(folder, name, exit_code=0):
    tool = folder / name
    tool.write_text(f"#!/bin/sh\nexit {exit_code}\n")
    tool.chmod(0o755)
    return str(tool)


def test_compose_v2_with_an_engine_comes_before_podman_compose(path):
    compose_v2 = _tool(path, "docker-compose")
    _tool(path, "podman"), _tool(path, "podman-compose")
    assert compose_command() == [compose_v2]
    assert not is_podman_compose([compose_v2])


def test_compose_v1_or_no_engine_leaves_podman_compose(path):
    _tool(path, "docker-compose", exit_code=1)  # v1 has no `ls`; v2 fails without an engine
    _tool(path, "podman")
    podman_compose = _tool(path, "podman-compose")
    assert compose_command() == [podman_compose] and is_podman_compose([podman_compose])


@pytest.mark.parametrize("choice, expected", [("podman", "podman-compose"),
                                              ("docker", "docker-compose")])
def test_mwaa_kit_compose_picks_one(path, monkeypatch, choice, expected):
    for name in ("docker-compose", "podman", "podman-compose"):
        _tool(path, name)
    monkeypatch.setenv("MWAA_KIT_COMPOSE", choice)
    assert compose_command() == [str(path / expected)]


def test_a_chosen_tool_that_does_not_answer_is_not_replaced(path, monkeypatch):
    _tool(path, "podman"), _tool(path, "podman-compose")
    monkeypatch.setenv("MWAA_KIT_COMPOSE", "docker")
    assert compose_command() is None


def test_an_unknown_choice_is_refused(path, monkeypatch):
    monkeypatch.setenv("MWAA_KIT_COMPOSE", "nerdctl")
    with pytest.raises(ContainerEngineUnavailableError, match="one of docker, podman"):
        compose_command()


def test_a_buildkit_failure_says_how_to_build_without_it(path, tmp_path_factory):
    tool = path / "docker-compose"
    tool.write_text('#!/bin/sh\n[ "$1" = ls ] && exit 0\n'
                    'echo "no such image: docker.io/moby/buildkit:buildx-stable-1" >&2\n'
                    "exit 1\n")
    tool.chmod(0o755)
    stack = ComposeEnvironment(load_project(tmp_path_factory.mktemp("project")))
    with pytest.raises(ComposeError, match="set DOCKER_BUILDKIT=0"):
        stack._compose("build")
