"""Which runtime a project uses: the one asked for, else compose when a container
engine answers, else native; later commands follow the runtime `up` used."""

from __future__ import annotations

import os

from mwaa_kit.project import Project
from mwaa_kit.runtime.compose.engine import default_runtime
from mwaa_kit.runtime.compose.stack import ComposeEnvironment
from mwaa_kit.runtime.native.environment import NativeEnvironment

RUNTIMES = ("native", "compose")


def choose(requested: str | None, note=lambda message: None) -> str:
    """`requested`, else $MWAA_KIT_RUNTIME, else what this machine can run (`note` hears
    why the automatic choice is native although a container engine answers)."""
    choice = requested or os.environ.get("MWAA_KIT_RUNTIME") or "auto"
    if choice != "auto":
        return choice
    runtime, reason = default_runtime()
    if reason:
        note(reason)
    return runtime


def environment(project: Project, runtime: str, report=lambda message: None):
    """The environment object of `runtime` (compose or native) for `project`; nothing starts."""
    cls = ComposeEnvironment if runtime == "compose" else NativeEnvironment
    return cls(project, report)


def remember(project: Project, runtime: str) -> None:
    """Note the runtime `up` used, so later commands (status, logs, down) reach the same one."""
    project.state_dir.mkdir(parents=True, exist_ok=True)
    (project.state_dir / "runtime").write_text(runtime)


def last_runtime(project: Project) -> str:
    """The runtime `up` last used for the project; native when it was never brought up."""
    path = project.state_dir / "runtime"
    return path.read_text().strip() if path.exists() else "native"


def running_environment(project: Project, report=lambda message: None):
    """The environment of the runtime the project was last brought up with."""
    return environment(project, last_runtime(project), report)
