"""`mwaa-kit mwaa serve`: the MWAA control-plane API emulator, for boto3 and the AWS CLI."""

from __future__ import annotations

import os
from pathlib import Path

import click

from mwaa_kit.cli.output import console, friendly_errors, project_option
from mwaa_kit.emulators.mwaa.exceptions import MwaaError
from mwaa_kit.emulators.mwaa.server import client_environment, make_backend, s3_client
from mwaa_kit.emulators.mwaa.server import serve as serve_api
from mwaa_kit.errors import KitError
from mwaa_kit.project import cache_dir, load_project
from mwaa_kit.runtime.mwaa_updates import (
    ContractApplier,
    create_request,
    ensure_versioned_bucket,
)
from mwaa_kit.runtime.processes import free_port
from mwaa_kit.runtime.select import running_environment

DEFAULT_PORT = 8300


@click.group()
def mwaa():
    """The MWAA API emulator (CreateEnvironment, GetEnvironment, UpdateEnvironment, ...)."""


@mwaa.command()
@project_option
@click.option("--port", type=int, help=f"Default: {DEFAULT_PORT}, or a free port.")
@click.option("--s3-endpoint", help="The S3 emulator's URL. Default: AWS_ENDPOINT_URL_S3, "
              "AWS_ENDPOINT_URL, or the running local environment's AWS emulator.")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where environments are kept (default: <project>/.mwaa-kit/mwaa).")
@click.option("--create-delay", default=5.0, show_default=True, type=float,
              help="Seconds a new environment stays CREATING.")
@click.option("--update-delay", default=5.0, show_default=True, type=float,
              help="Seconds an update stays UPDATING (plus --apply's own time).")
@click.option("--apply", "apply_mode", type=click.Choice(["none", "contract"]), default="none",
              show_default=True, help="contract: prepare each update's bundle with the MWAA "
              "contract (startup script, requirements, plugins); failures end UPDATE_FAILED.")
@click.option("--environment-bucket", metavar="BUCKET",
              help="Also create the project's environment on this bucket (created versioned "
                   "if missing), AVAILABLE at once.")
@friendly_errors
def serve(project_dir, port, s3_endpoint, state_dir, create_delay, update_delay, apply_mode,
          environment_bucket):
    """Serve the MWAA API on 127.0.0.1 until Ctrl-C; prints what clients need."""
    project = load_project(project_dir)
    s3_endpoint = s3_endpoint or _local_s3_endpoint(project)
    state_dir = state_dir or project.state_dir / "mwaa"
    apply = None
    if apply_mode == "contract":
        apply = ContractApplier(s3_client(s3_endpoint, project.region), state_dir / "apply",
                                cache_dir())
    backend = make_backend(s3_endpoint, state_dir, create_delay, update_delay, apply=apply)
    if environment_bucket:
        _create_project_environment(backend, project, environment_bucket)
    port = port or free_port(DEFAULT_PORT)
    endpoint = f"http://127.0.0.1:{port}"
    console.print("[bold]MWAA API emulator[/] on " + endpoint + "; clients need:")
    for name, value in client_environment(endpoint, project.region).items():
        console.print(f"  export {name}={value}", highlight=False, soft_wrap=True)
    console.print(f"  aws mwaa list-environments   (S3: {s3_endpoint})")
    serve_api(port, s3_endpoint, state_dir, backend=backend)


def _local_s3_endpoint(project) -> str:
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        if os.environ.get(name):
            return os.environ[name]
    try:
        return running_environment(project).aws_endpoint()
    except KitError as error:  # not running: say what to do
        raise KitError(error.message, hint=f"{error.hint or ''} Or pass --s3-endpoint URL."
                       .strip()) from None


def _create_project_environment(backend, project, bucket: str) -> None:
    """The project's environment on `bucket`, AVAILABLE at once (unless it exists)."""
    ensure_versioned_bucket(backend.s3, bucket)
    if project.environment_name in backend.list_environments(project.region):
        return
    try:
        backend.create_environment(project.region, project.environment_name,
                                   create_request(project, bucket))
    except MwaaError as error:
        raise KitError(f"cannot create {project.environment_name}: {error}") from None
    backend.advance(project.region, project.environment_name)
