"""Run a job of a CI file `mwaa-kit ci init` wrote, outside GitHub and GitLab, as their
runners would: the steps are read from the file, never retyped.

GitHub: each `run:` in its own `bash --noprofile --norc -eo pipefail` (the workflow's
`shell: bash`), with the workflow's and job's `env:`; `$GITHUB_PATH` is a file whose lines
prefix PATH for the later steps; `if: failure()` / `always()` decide as on GitHub; a `uses:`
step goes to the caller's stand-in for that action (e.g. an AWS config for
configure-aws-credentials), or fails the test when there is none. GitLab: the job's
before_script (or the default one) and script in one bash, after_script in another with
CI_JOB_STATUS; variables are expanded as GitLab does, and the caller's `settings` win over
the file's, as a project's CI/CD variables do.

Where a step runs is the caller's `execute`: a local bash by default, or e.g. `podman exec`
into a job container (tests/e2e/ci_container.py).
"""

from __future__ import annotations

import string
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
Action = Callable[[dict], Mapping[str, str]]  # an action's inputs -> variables it exports
# Runs one step: (script, working folder, environment, timeout) -> the finished bash.
Execute = Callable[[str, Path, Mapping[str, str], float], subprocess.CompletedProcess]


@dataclass
class JobRun:
    """What a job did: each step's name and completed process, in order."""

    steps: list[tuple[str, subprocess.CompletedProcess]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(process.returncode == 0 for _, process in self.steps)

    def output(self) -> str:
        """Every step's output, for an assertion message."""
        return "\n".join(f"--- {name} (exit {process.returncode})\n{process.stdout}"
                         f"{process.stderr}" for name, process in self.steps)


def local_bash(script: str, cwd: Path, env: Mapping[str, str],
               timeout: float) -> subprocess.CompletedProcess:
    """Run `script` in a bash of this machine, with `env` as its whole environment."""
    return subprocess.run([*BASH, script], cwd=cwd, env=dict(env), capture_output=True,
                          text=True, timeout=timeout)


def run_github_job(workflow: Path, job: str, cwd: Path, env: Mapping[str, str],
                   actions: Mapping[str, Action], overrides: Mapping[str, str] = (),
                   timeout: float = 900, execute: Execute = local_bash) -> JobRun:
    """Run the steps of `job` of the GitHub workflow `workflow` in `cwd`.

    :param workflow: the workflow file.
    :param job: the job's id under `jobs:`.
    :param cwd: the checked-out project (the workspace).
    :param env: the runner's environment (PATH, HOME...).
    :param actions: a stand-in per action name (`owner/name`, without @ref).
    :param overrides: values of the workflow's `env:` a test replaces (MWAA_KIT_SPEC).
    :param timeout: seconds a step may take.
    :param execute: what runs a step (default: a local bash).
    """
    document = yaml.safe_load(workflow.read_text())
    definition = document["jobs"][job]
    environment = {**env, **document.get("env", {}), **definition.get("env", {}),
                   **dict(overrides)}
    github_path = cwd.parent / f".github-path-{job}"
    github_path.write_text("")
    github_path.chmod(0o666)  # a job container's non-root user appends to it
    run, failed = JobRun(), False
    for step in definition["steps"]:
        condition = step.get("if", "success()")
        if condition not in ("always()", "failure()" if failed else "success()"):
            continue
        if "uses" in step:
            action = step["uses"].split("@", 1)[0]
            if action not in actions:
                raise AssertionError(f"no stand-in for {action} (step {step})")
            environment.update(actions[action](step.get("with", {})))
            continue
        paths = [line for line in github_path.read_text().splitlines() if line]
        step_env = {**environment, **step.get("env", {}), "GITHUB_PATH": str(github_path),
                    "PATH": ":".join([*reversed(paths), environment["PATH"]])}
        run.steps.append((step.get("name", step["run"][:40]),
                          execute(step["run"], cwd, step_env, timeout)))
        failed = failed or run.steps[-1][1].returncode != 0
    return run


def run_gitlab_job(ci_file: Path, job: str, cwd: Path, env: Mapping[str, str],
                   settings: Mapping[str, str] = (), timeout: float = 900,
                   execute: Execute = local_bash) -> JobRun:
    """Run `job` of the GitLab CI file `ci_file` in `cwd` (CI_PROJECT_DIR).

    :param ci_file: the .gitlab-ci.yml.
    :param job: the job's name.
    :param cwd: the checked-out project.
    :param env: the runner's environment (PATH, HOME...) and GitLab's predefined variables.
    :param settings: the project's CI/CD variables (MWAA_ROLE_ARN...): they win over the file.
    :param timeout: seconds a script may take.
    :param execute: what runs a script (default: a local bash).
    """
    document = yaml.safe_load(ci_file.read_text())
    definition = document[job]
    default = document.get("default", {})
    variables = {**env, "CI_PROJECT_DIR": str(cwd), **dict(settings)}
    for name, value in [*document.get("variables", {}).items(),
                        *definition.get("variables", {}).items()]:
        if name not in settings:
            variables[name] = string.Template(str(value)).safe_substitute(variables)
    before = definition.get("before_script", default.get("before_script", []))
    run = JobRun([(f"{job}: script", execute("\n".join([*before, *definition["script"]]), cwd,
                                             variables, timeout))])
    after = definition.get("after_script", default.get("after_script"))
    if after:
        status = "success" if run.ok else "failed"
        run.steps.append((f"{job}: after_script", execute("\n".join(after), cwd,
                                                          {**variables, "CI_JOB_STATUS": status},
                                                          timeout)))
    return run
