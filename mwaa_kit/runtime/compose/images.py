"""Whether the compose stack can be built here, and from which base images.

A container engine that answers is not enough: the images build `FROM` public Python and
Debian images, which a machine without a registry cannot pull (then `up` failed after
minutes of trying). The base images are, for each build: the one its variable names
(AIRFLOW_BASE_IMAGE...), else the local one `scripts/setup-containers` makes when it is
there, else the compose file's public default. The stack can be built when each of them is
on the machine or a registry answers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

COMPOSE_FILE = Path(__file__).resolve().parents[3] / "docker-compose.yml"
# What docker/base/make-local-base-images.sh makes (scripts/setup-containers runs it).
LOCAL_BASES = {"AIRFLOW_BASE_IMAGE": "mwaa-kit/base:bookworm-py3.12",
               "POSTGRES_BASE_IMAGE": "mwaa-kit/base:trixie",
               "LOCALSTACK_BASE_IMAGE": "mwaa-kit/base:trixie",
               "STUB_BASE_IMAGE": "mwaa-kit/base:bookworm-py3.12"}
BASE_IMAGE_VARIABLES = tuple(LOCAL_BASES)
REGISTRY = "https://registry-1.docker.io/v2/"


@cache
def public_defaults() -> dict[str, str]:
    """The compose file's own defaults, `${AIRFLOW_BASE_IMAGE:-python:3.12-slim-bookworm}`."""
    text = COMPOSE_FILE.read_text()
    return {name: re.search(rf"\$\{{{name}:-([^}}]+)\}}", text).group(1)
            for name in BASE_IMAGE_VARIABLES}


def image_exists(name: str) -> bool:
    """Whether the engine (podman when installed, else docker) has image `name` locally; False
    when the engine cannot be asked."""
    engine = ["podman", "image", "exists"] if shutil.which("podman") else \
        ["docker", "image", "inspect"]
    try:
        return subprocess.run([*engine, name], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def base_images() -> dict[str, str]:
    """The base image of each build, as the stack will use it."""
    chosen = {}
    for name in BASE_IMAGE_VARIABLES:
        if os.environ.get(name):
            chosen[name] = os.environ[name]
        elif image_exists(LOCAL_BASES[name]):
            chosen[name] = LOCAL_BASES[name]
        else:
            chosen[name] = public_defaults()[name]
    return chosen


def registry_answers(timeout: float = 3) -> bool:
    """Whether Docker Hub answers within `timeout` seconds (a 401 counts: images could be
    pulled)."""
    try:
        urllib.request.urlopen(REGISTRY, timeout=timeout)
    except urllib.error.HTTPError:
        return True  # 401: it answers, and would hand out images
    except (OSError, ValueError):
        return False
    return True


def why_not_buildable() -> str | None:
    """None when the stack's images can be built here, else why not, in one line."""
    missing = sorted({image for image in base_images().values() if not image_exists(image)})
    if not missing or registry_answers():
        return None
    return (f"the compose stack's base images ({', '.join(missing)}) are not on this machine "
            "and no registry answers; scripts/setup-containers makes local ones")
