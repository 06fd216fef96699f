"""`mwaa-kit infra synth|diff|deploy`: the CDK app in infra/, given the project's settings.

Thin wrappers over the pinned CDK CLI (infra/node_modules, `npm ci --prefix infra`): they
run `cdk <command>` with this Python as the app's interpreter and pass the project's
mwaa-kit.toml (environment name, region, class, Airflow version, the project folder for its
Airflow options) as context, plus any `-c key=value` given here.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click

from mwaa_kit.cli.environment import project_option
from mwaa_kit.cli.output import console, friendly_errors
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project, load_project

CDK_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
}


def find_infra_dir(project: Project, given: str | None) -> Path:
    """infra/ of the project, else the one next to the kit's sources (a checkout of it)."""
    candidates = [Path(given)] if given else [
        project.root / "infra",
        Path(__file__).resolve().parents[2] / "infra",
    ]
    for candidate in candidates:
        if (candidate / "app.py").is_file() and (candidate / "cdk.json").is_file():
            return candidate.resolve()
    raise KitError(
        "No CDK app found (looked for app.py and cdk.json in "
        f"{', '.join(str(c) for c in candidates)}). Pass --infra-dir."
    )


def project_context(project: Project, target: str | None) -> dict[str, str]:
    """Context from the project: what its mwaa-kit.toml says about the environment."""
    context = {"projectDir": str(project.root)}
    if project.config_file.exists():
        context.update(
            envName=project.environment_name,
            region=project.region,
            environmentClass=project.environment_class,
            airflowVersion=project.airflow_version,
        )
    if target:
        if target not in project.targets:
            known = ", ".join(project.targets) or "none"
            raise KitError(
                f"No target {target!r} in [targets] of {project.config_file} (known: {known})."
            )
        chosen = project.targets[target]
        context.update(envName=chosen.environment_name, region=chosen.region,
                       promoteTarget=target)
    return context


def parse_context_options(values: tuple[str, ...]) -> dict[str, str]:
    context = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise KitError(f"--context {value!r}: write it as key=value.")
        context[key] = text
    return context


def cdk_command(infra_dir: Path, command: str, context: dict[str, str], *,
                profile: str | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    """The CDK CLI invocation: the pinned CLI, this interpreter running app.py."""
    cdk = infra_dir / "node_modules" / ".bin" / "cdk"
    argv = [str(cdk), command, "--app", f"{shlex.quote(sys.executable)} app.py"]
    for key, value in context.items():
        argv += ["--context", f"{key}={value}"]
    if profile:
        argv += ["--profile", profile]
    return argv + list(extra)


def _check_tools(infra_dir: Path) -> None:
    if shutil.which("node") is None:
        raise KitError("The CDK needs Node.js (20 or newer) on PATH.")
    if not (infra_dir / "node_modules" / ".bin" / "cdk").exists():
        raise KitError(
            f"The pinned CDK CLI is not installed: run `npm ci --prefix {infra_dir}` "
            "(scripts/setup does it)."
        )
    if importlib.util.find_spec("aws_cdk") is None or importlib.util.find_spec("cdk_nag") is None:
        raise KitError(
            "aws-cdk-lib and cdk-nag are not installed in this Python: "
            "pip install -e '.[infra]' (scripts/setup does it)."
        )


def _run(command: str, project_dir: str, infra_dir: str | None, context_values: tuple[str, ...],
         target: str | None, profile: str | None, dry_run: bool,
         extra: tuple[str, ...]) -> None:
    project = load_project(project_dir)
    infra = find_infra_dir(project, infra_dir)
    context = {**project_context(project, target), **parse_context_options(context_values)}
    argv = cdk_command(infra, command, context, profile=profile, extra=extra)
    if dry_run:
        click.echo(shlex.join(argv))
        return
    _check_tools(infra)
    console.print(f"[dim]•[/] cdk {command} in {infra}")
    result = subprocess.run(argv, cwd=infra, env={**os.environ, **CDK_ENV}, check=False)
    if result.returncode:
        sys.exit(result.returncode)


def _options(command):
    command = project_option(command)
    for option in (
        click.option("--context", "-c", "context_values", multiple=True, metavar="KEY=VALUE",
                     help="Context for the app (repeatable), e.g. -c maxWorkers=5."),
        click.option("--target", "-t", help="A [targets] entry of mwaa-kit.toml: its "
                     "environment name and region."),
        click.option("--profile", help="AWS profile for the CDK CLI."),
        click.option("--infra-dir", type=click.Path(file_okay=False),
                     help="The CDK app folder (default: the project's infra/)."),
        click.option("--dry-run", is_flag=True, help="Print the cdk command, run nothing."),
        click.argument("extra", nargs=-1, type=click.UNPROCESSED),
    ):
        command = option(command)
    return friendly_errors(command)


@click.group()
def infra():
    """Synthesize, diff and deploy the real MWAA environment (the CDK app in infra/).

    \b
    Extra arguments after -- go to the CDK CLI, e.g.:
      mwaa-kit infra deploy -t prod -- --require-approval never
    """


@infra.command(context_settings={"ignore_unknown_options": True})
@_options
def synth(project_dir, context_values, target, profile, infra_dir, dry_run, extra):
    """Synthesize the CloudFormation template offline (no AWS credentials needed)."""
    _run("synth", project_dir, infra_dir, context_values, target, profile, dry_run,
         ("--quiet", *extra))


@infra.command(context_settings={"ignore_unknown_options": True})
@_options
def diff(project_dir, context_values, target, profile, infra_dir, dry_run, extra):
    """Show what a deploy would change in the account."""
    _run("diff", project_dir, infra_dir, context_values, target, profile, dry_run, extra)


@infra.command(context_settings={"ignore_unknown_options": True})
@_options
def deploy(project_dir, context_values, target, profile, infra_dir, dry_run, extra):
    """Deploy the stack (needs credentials and a bootstrapped account: cdk bootstrap)."""
    _run("deploy", project_dir, infra_dir, context_values, target, profile, dry_run, extra)
