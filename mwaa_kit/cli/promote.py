"""`promote`, `history`, `rollback`: release the validated bundle to an MWAA environment."""

from __future__ import annotations

import functools
import sys

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.table import Table

from mwaa_kit.cli.output import (
    console,
    friendly_errors,
    print_json,
    progress,
    project_option,
    stdout,
)
from mwaa_kit.errors import KitError
from mwaa_kit.project import load_project
from mwaa_kit.release import history as records
from mwaa_kit.release import promote as promotion
from mwaa_kit.release.connect import (
    LOCAL_TARGET,
    connect,
    connect_local,
    resolve_target,
    target_from_stack,
)
from mwaa_kit.runtime.select import running_environment

_ACTION_COLOURS = {"upload": "green", "delete": "red", "update": "yellow", "restore": "cyan",
                   "kept": "dim", "unchanged": "dim"}


def _target_options(command):
    command = click.option("--target", "-t", "target_name",
                           help="A [targets.NAME] of mwaa-kit.toml (default: the only one); "
                                "`local`: the running local environment's MWAA API.")(command)
    command = click.option("--stack", "stack_name", help="Read the environment from this CDK "
                           "stack's outputs (infra/); with --target, that target's "
                           "credentials.")(command)
    command = click.option("--endpoint-url", help="The MWAA API endpoint (e.g. the kit's "
                           "MWAA emulator); AWS_ENDPOINT_URL_MWAA also works.")(command)
    command = click.option("--s3-endpoint-url", help="The S3 endpoint; AWS_ENDPOINT_URL_S3 "
                           "and AWS_ENDPOINT_URL also work.")(command)
    command = click.option("--format", "output_format", type=click.Choice(["table", "json"]),
                           default="table", show_default=True)(command)
    return project_option(command)


def _update_options(command):
    """What promote and rollback share: how to wait for the update, the lock, quietness."""
    for option in reversed((
        click.option("--poll-interval", default=15.0, show_default=True, type=float,
                     help="Seconds between GetEnvironment calls while the environment "
                          "updates."),
        click.option("--timeout", default=3600.0, show_default=True, type=float,
                     help="Seconds to wait for the update to finish."),
        click.option("--break-lock", is_flag=True,
                     help="Remove the promotion lock first: only when the promotion holding "
                          "it was killed."),
        click.option("--quiet", "-q", is_flag=True, help="No progress output."),
    )):
        command = option(command)
    return command


def _release_errors(command):
    """AWS's own failures (credentials, permissions, network) as the kit's error, with
    what to check; the release modules' refusals are the kit's errors already."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (BotoCoreError, ClientError) as error:
            raise KitError(
                f"AWS refused or could not be reached: {error}",
                hint="Check the target's credentials, region and network: `aws sts "
                     "get-caller-identity` with the same profile shows who you are.",
            ) from None

    return wrapper


def _connect(project_dir, target_name, stack_name, endpoint_url, s3_endpoint_url):
    project = load_project(project_dir)
    if target_name == LOCAL_TARGET and LOCAL_TARGET not in project.targets and not stack_name:
        local = running_environment(project)
        target, clients = connect_local(project, endpoint_url or local.mwaa_endpoint(),
                                        s3_endpoint_url or local.aws_endpoint())
        return project, target, clients
    if stack_name:
        base = resolve_target(project.targets, target_name) if target_name else None
        target = target_from_stack(stack_name, base, project.region)
    else:
        target = resolve_target(project.targets, target_name)
    return project, target, connect(target, endpoint_url, s3_endpoint_url)


@click.command()
@_target_options
@click.option("--dry-run", is_flag=True, help="Print the plan and stop.")
@click.option("--skip-validate", is_flag=True,
              help="Do not run validate first (when an earlier pipeline stage did).")
@_update_options
@friendly_errors
@_release_errors
def promote(project_dir, target_name, stack_name, endpoint_url, s3_endpoint_url,
            output_format, dry_run, skip_validate, poll_interval, timeout, break_lock, quiet):
    """Promote the project to an MWAA environment: validate, package, plan against what the
    environment runs, upload only what changed, and update the environment only when
    plugins.zip, requirements.txt, startup.sh or configuration options changed."""
    project, target, clients = _connect(project_dir, target_name, stack_name, endpoint_url,
                                        s3_endpoint_url)
    with progress(f"Promoting to {target.environment_name} ({target.region})",
                  quiet or output_format == "json") as report:
        outcome = promotion.promote(project, target, clients, dry_run=dry_run,
                                    validate=not skip_validate, poll_interval=poll_interval,
                                    timeout=timeout, break_lock=break_lock, report=report)
    _finish(outcome, output_format)


@click.command()
@_target_options
@click.option("--to", "record_id", help="The record to re-apply (default: the last good "
              "promotion before what the environment runs now).")
@click.option("--dry-run", is_flag=True, help="Print what would be restored and stop.")
@_update_options
@friendly_errors
@_release_errors
def rollback(project_dir, target_name, stack_name, endpoint_url, s3_endpoint_url,
             output_format, record_id, dry_run, poll_interval, timeout, break_lock, quiet):
    """Re-apply an earlier promotion record: its DAG object versions, its plugins.zip,
    requirements.txt and startup.sh versions and its configuration options."""
    project, target, clients = _connect(project_dir, target_name, stack_name, endpoint_url,
                                        s3_endpoint_url)
    with progress(f"Rolling back {target.environment_name}",
                  quiet or output_format == "json") as report:
        outcome = promotion.rollback(project, target, clients, to=record_id, dry_run=dry_run,
                                     poll_interval=poll_interval, timeout=timeout,
                                     break_lock=break_lock, report=report)
    _finish(outcome, output_format)


@click.command()
@_target_options
@click.option("--limit", default=20, show_default=True, type=int)
@friendly_errors
@_release_errors
def history(project_dir, target_name, stack_name, endpoint_url, s3_endpoint_url,
            output_format, limit):
    """List the promotions and rollbacks recorded in the environment's bucket."""
    _, target, clients = _connect(project_dir, target_name, stack_name, endpoint_url,
                                  s3_endpoint_url)
    environment = promotion.get_environment(clients, target)
    bucket = environment["SourceBucketArn"].split(":::", 1)[1]
    found = records.records(clients.s3, bucket)[:limit]
    if output_format == "json":
        print_json(found)
        return
    if not found:
        stdout.print(f"No promotion recorded in s3://{bucket}/{records.HISTORY_PREFIX}")
        return
    table = Table(title=f"{target.environment_name} · s3://{bucket}/{records.HISTORY_PREFIX}")
    for column in ("id", "time", "kind", "user", "git commit", "outcome", "changes"):
        table.add_column(column, overflow="fold")
    for record in found:
        git = record.get("git") or {}
        commit = (git.get("commit") or "-")[:10] + ("+dirty" if git.get("dirty") else "")
        plan = record.get("plan") or {}
        kind = record["kind"] + (f" to {record['rolled_back_to']}"
                                 if record.get("rolled_back_to") else "")
        table.add_row(record["id"], record["time"][:19].replace("T", " "), kind,
                      record.get("user", "?"), commit, record.get("outcome", "?"),
                      str(len(plan.get("changes", []))))
    stdout.print(table)


def _finish(outcome, output_format: str) -> None:
    if output_format == "json":
        print_json(outcome.to_dict())
    else:
        _print_plan(outcome)
        _print_result(outcome)
    if not outcome.ok:
        sys.exit(1)


def _print_plan(outcome) -> None:
    plan = outcome.plan
    if plan is None:
        return
    shown = [change for change in plan.changes if change.action != "unchanged"]
    if shown:
        table = Table(title=f"{outcome.action} plan · {plan.environment} · s3://{plan.bucket}")
        for column in ("what", "object", "action", "bytes", "note"):
            table.add_column(column, overflow="fold",
                             justify="right" if column == "bytes" else "left")
        for change in shown:
            colour = _ACTION_COLOURS.get(change.action, "white")
            table.add_row(change.kind, change.name, f"[{colour}]{change.action}[/]",
                          str(change.size) if change.size else "", change.note)
        stdout.print(table)
    unchanged = sum(change.action == "unchanged" for change in plan.changes)
    stdout.print(f"{len(plan.uploads)} upload(s) ({plan.upload_bytes} bytes), "
                 f"{len(plan.deletions)} deletion(s), {unchanged} unchanged; environment "
                 f"update: {'yes' if plan.needs_update else 'no'}")


def _print_result(outcome) -> None:
    status = outcome.status
    if status == "DRY_RUN":
        stdout.print("[dim]dry run: nothing was changed[/]")
    elif status == "NOTHING_TO_DO":
        stdout.print("[green]✓[/] the environment already runs this bundle; nothing uploaded")
    elif status == "UPDATE_FAILED":
        error = outcome.error or {}
        console.print(f"[bold red]✗ UPDATE_FAILED[/]: {error.get('ErrorCode', '')} "
                      f"{error.get('ErrorMessage', '')}\nMWAA rolled the environment back to "
                      "its previous plugins/requirements/startup versions; DAG changes stay "
                      "in the bucket. `mwaa-kit rollback` restores the last good promotion.",
                      soft_wrap=True)
    else:
        what = "updated and AVAILABLE" if outcome.update_called else "DAGs synced (no update)"
        record = outcome.record or {}
        stdout.print(f"[green]✓[/] {outcome.action}: {what}; {outcome.uploaded_bytes} bytes "
                     f"uploaded; record {record.get('id', '-')}")
