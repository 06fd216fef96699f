"""A CI job container on podman, as GitHub's `container:` jobs get one: a plain Debian +
Python image, the workspace mounted at the same path, one long-lived container per job in
which every step is a `podman exec` (tests/e2e/ci_jobs.py's `execute`).

No registry is reachable here, so the images build on the local Debian base
(scripts/setup-containers: mwaa-kit/base:bookworm-py3.12, Debian 12 + MWAA's Python):
- `BASE`, as is, for root jobs: the job's own apt-get installs git and PostgreSQL;
- `NON_ROOT`: the same plus git and PostgreSQL (a non-root job cannot apt-get) and the user
  `runner` (uid 1001, home /home/runner), as a team's CI image for a non-root job would be;
  without the `postgres` account Debian's package makes, which a non-root job never needs.

The kit the job installs is a wheel of this checkout, mounted read-only at /wheels.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BASE = "mwaa-kit/base:bookworm-py3.12"
RUNNER_UID = 1001
# What a Debian Python image's environment says, and how a machine behind a TLS-intercepting
# proxy points Python, pip and uv at the system's CA bundle (the base image carries this
# machine's bundle; docker/certs/README.md).
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "LANG": "C.UTF-8", "SSL_CERT_FILE": BUNDLE, "PIP_CERT": BUNDLE,
             "REQUESTS_CA_BUNDLE": BUNDLE, "UV_SYSTEM_CERTS": "true"}
# The base keeps pyenv's Python under /root, which only root may enter; an official Python
# image keeps it under /usr/local, open to all: open the path to the interpreter likewise.
NON_ROOT_CONTAINERFILE = f"""\
FROM {BASE}
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
      git postgresql >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && userdel postgres \\
 && useradd --create-home --home-dir /home/runner --uid {RUNNER_UID} --shell /bin/bash runner \\
 && dir="$(dirname "$(readlink -f "$(command -v python3)")")" \\
 && while [ "$dir" != / ]; do chmod o+x "$dir"; dir="$(dirname "$dir")"; done
"""


# Tagged by its recipe, so that a change to it builds a new image.
NON_ROOT = ("mwaa-kit/ci-job:runner-"
            + hashlib.sha256(NON_ROOT_CONTAINERFILE.encode()).hexdigest()[:12])


def non_root_image() -> str:
    """`NON_ROOT`, built once on the local base (setup-containers must have made it)."""
    if subprocess.run(["podman", "image", "exists", NON_ROOT]).returncode != 0:
        with tempfile.TemporaryDirectory() as context:  # the recipe copies nothing in
            subprocess.run(["podman", "build", "--quiet", "-t", NON_ROOT, "-f", "-", context],
                           input=NON_ROOT_CONTAINERFILE, text=True, check=True,
                           capture_output=True)
    return NON_ROOT


def kit_wheel(out: Path) -> Path:
    """A wheel of this checkout in `out`, built from a copy so that the build leaves no
    build/ or egg-info in the checkout (other tests may be reading it)."""
    source = out / "source"
    shutil.copytree(REPO / "mwaa_kit", source / "mwaa_kit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "--out-dir",
                    str(out), str(source)], check=True, capture_output=True)
    shutil.rmtree(source)
    (wheel,) = out.glob("mwaa_kit-*.whl")
    return wheel


class JobContainer:
    """One job's container: `podman run -d ... sleep infinity`, steps by `podman exec`.

    :param image: the job's image.
    :param user: the uid the job runs as (0, or `RUNNER_UID` in `NON_ROOT`).
    :param home: that user's HOME in the image.
    :param mounts: host folder -> container folder (`:ro` suffix allowed on the latter).
    """

    def __init__(self, image: str, user: int, home: str, mounts: Mapping[Path, str]):
        self.name = f"mwaa-kit-ci-job-{uuid.uuid4().hex[:8]}"
        self.user, self.home = user, home
        volumes = [argument for host, inside in mounts.items()
                   for argument in ("-v", f"{host}:{inside}")]
        subprocess.run(["podman", "run", "-d", "--rm", "--name", self.name, "--user",
                        str(user), "-e", f"HOME={home}", *volumes, image, "sleep", "infinity"],
                       check=True, capture_output=True)

    def execute(self, script: str, cwd: Path, env: Mapping[str, str],
                timeout: float) -> subprocess.CompletedProcess:
        """Run a step's `script` in the container, in `cwd`, with `env` (ci_jobs.Execute)."""
        variables = [argument for name, value in env.items()
                     for argument in ("-e", f"{name}={value}")]
        return subprocess.run(["podman", "exec", "--user", str(self.user), "-w", str(cwd),
                               *variables, self.name, "bash", "--noprofile", "--norc", "-eo",
                               "pipefail", "-c", script],
                              capture_output=True, text=True, timeout=timeout)

    def processes(self) -> list[str]:
        """The command lines alive in the container, but `sleep infinity` and `ps`; exited
        children nobody reaped (`sleep` is PID 1, as `tail -f /dev/null` is on GitHub) are
        not alive."""
        listing = subprocess.run(["podman", "exec", self.name, "ps", "-eo", "stat=,args="],
                                 capture_output=True, text=True, check=True).stdout
        return [args for stat, _, args in (line.strip().partition(" ")
                                           for line in listing.splitlines())
                if args and not stat.startswith("Z")
                and args.split()[0] not in ("sleep", "ps")]

    def remove(self) -> None:
        subprocess.run(["podman", "rm", "-f", "-t", "0", self.name], capture_output=True)
