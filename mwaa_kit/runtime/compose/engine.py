"""Which compose tool drives the stack here: Docker Compose v2 (the docker CLI's plugin, or
the standalone binary against DOCKER_HOST, which podman's Docker API also answers) or
podman-compose, and whether the compose runtime is the default at all.

Kept apart from the stack (stack.py) because choosing a runtime asks only this: no stack,
no project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mwaa_kit.errors import KitError
from mwaa_kit.runtime.compose import images


class ContainerEngineUnavailableError(KitError, RuntimeError):
    """Neither Docker Compose v2 nor podman-compose can run here."""


# Which compose tool to use when both answer: "docker" (Compose v2) or "podman"
# (podman-compose). Compose v2 also drives podman through its Docker-compatible API
# (`podman system service`, DOCKER_HOST at its socket).
COMPOSE_TOOL_VARIABLE = "MWAA_KIT_COMPOSE"
COMPOSE_TOOLS = ("docker", "podman")


def compose_command() -> list[str] | None:
    """The compose command of the first container engine that answers, else None:
    Docker Compose v2 (the docker CLI's plugin, or the standalone `docker-compose` v2
    against DOCKER_HOST), then podman-compose; only the one MWAA_KIT_COMPOSE names."""
    choice = os.environ.get(COMPOSE_TOOL_VARIABLE) or None
    if choice not in (None, *COMPOSE_TOOLS):
        raise ContainerEngineUnavailableError(
            f"{COMPOSE_TOOL_VARIABLE}={choice!r}: use one of {', '.join(COMPOSE_TOOLS)}, "
            "or unset it to use the first that answers.")
    if choice in (None, "docker") and (command := _docker_compose()):
        return command
    if choice in (None, "podman"):
        return _podman_compose()
    return None


def _docker_compose() -> list[str] | None:
    if shutil.which("docker") and _answers(["docker", "info"]) and _answers(
            ["docker", "compose", "version"]):
        return ["docker", "compose"]
    # The standalone binary; `ls` is Compose v2's (v1 has none) and asks the engine.
    standalone = shutil.which("docker-compose")
    if standalone and _answers([standalone, "ls"]):
        return [standalone]
    return None


def _podman_compose() -> list[str] | None:
    if shutil.which("podman") and _answers(["podman", "info"]):
        podman_compose = shutil.which("podman-compose") or str(
            Path(sys.executable).parent / "podman-compose")
        if Path(podman_compose).exists():
            return [podman_compose]
    return None


def is_podman_compose(command: list[str]) -> bool:
    """Whether `command` is podman-compose, whose `ps` and `down` need the podman CLI's help."""
    return Path(command[0]).name == "podman-compose"


def _answers(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def default_runtime() -> tuple[str, str | None]:
    """compose when a container engine answers and the stack's images can be built here,
    else the embedded native runtime, with why in one line."""
    if not compose_command():
        return "native", None
    reason = images.why_not_buildable()
    return ("native", f"running natively: {reason}") if reason else ("compose", None)

