"""`promote` and `rollback`: put a validated bundle on an MWAA environment, safely and reversibly.

promote: the environment must be AVAILABLE and run the project's Airflow version; the
project is packaged and planned against what the environment runs now; an empty plan ends
there (nothing is uploaded, validated or updated). Otherwise the project is validated (any
error refuses), the lock is taken, the plan is made again under the lock, the changed DAGs
are uploaded and the removed ones deleted, changed plugins.zip / requirements.txt /
startup.sh are uploaded as new object versions, and UpdateEnvironment is called only when
one of those or the configuration options changed; its progress is polled until AVAILABLE
or UPDATE_FAILED (MWAA has then rolled back to the previous versions). A record of the
promotion goes to the bucket's history and the lock is released.

Interrupted before UpdateEnvironment, a promotion leaves the environment on its pinned
versions: new object versions are only pinned by the update call.

rollback: re-applies a history record: the DAG objects' recorded versions (copied back as
the current ones; DAGs the record does not have are deleted), its pinned versions and
configuration options (through UpdateEnvironment when they differ, or when the environment
is UPDATE_FAILED).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError, EndpointConnectionError

from mwaa_kit.catalog.api_model import source_bucket
from mwaa_kit.checks.runner import validate as run_checks
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project, PromotionTarget
from mwaa_kit.release import history
from mwaa_kit.release import lock as locking
from mwaa_kit.release.connect import Clients
from mwaa_kit.release.package import PackageError, package
from mwaa_kit.release.plan import (
    BUNDLE_FILES,
    Change,
    Plan,
    dag_prefix,
    dag_versions,
    local_dags,
    make_plan,
)

Report = Callable[[str], None]
TERMINAL = ("AVAILABLE", "UPDATE_FAILED", "CREATE_FAILED", "UNAVAILABLE", "DELETED")


class PromotionError(KitError, RuntimeError):
    """The promotion was refused or could not run; the message says why."""


@dataclass
class Outcome:
    """What a promotion or rollback did; `status` is REFUSED when validation found errors."""

    action: str  # promote | rollback
    status: str  # DRY_RUN | NOTHING_TO_DO | SYNCED | AVAILABLE | UPDATE_FAILED
    plan: Plan | None = None
    record: dict | None = None
    error: dict | None = None
    update_called: bool = False
    uploaded_bytes: int = 0
    findings: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when the update failed or validation refused: the command then exits non-zero."""
        return self.status not in ("UPDATE_FAILED", "REFUSED")

    def to_dict(self) -> dict:
        """The JSON `--json` prints; the record without its plan, which `plan` already holds."""
        return {"action": self.action, "status": self.status, "ok": self.ok,
                "update_called": self.update_called, "uploaded_bytes": self.uploaded_bytes,
                "error": self.error, "plan": self.plan.to_dict() if self.plan else None,
                "record": {key: value for key, value in (self.record or {}).items()
                           if key != "plan"} or None}


def get_environment(clients: Clients, target: PromotionTarget) -> dict:
    """GetEnvironment of the target's environment; PromotionError naming the target when it
    does not exist or the endpoint cannot be reached."""
    try:
        return clients.mwaa.get_environment(Name=target.environment_name)["Environment"]
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            raise PromotionError(f"target {target.name}: no MWAA environment named "
                                 f"{target.environment_name} in {target.region}") from None
        raise PromotionError(f"target {target.name}: GetEnvironment failed: {error}") from None
    except EndpointConnectionError as error:
        raise PromotionError(f"target {target.name}: {error}") from None


def promote(project: Project, target: PromotionTarget, clients: Clients, *,
            dry_run: bool = False, validate: bool = True, dist: Path | None = None,
            poll_interval: float = 15.0, timeout: float = 3600.0, break_lock: bool = False,
            report: Report = lambda message: None) -> Outcome:
    """Promote the project to `target` as the module docstring describes; `dry_run` stops after
    the plan. Raises ValidationRefused, nothing uploaded, when validate finds errors."""
    environment = get_environment(clients, target)
    _require_promotable(environment, project, target)
    dist = dist or project.state_dir / "promote" / target.name
    report("Packaging plugins.zip, requirements.txt and startup.sh")
    try:
        package(project, dist)
    except PackageError as error:
        raise PromotionError(f"packaging failed: {error}") from None
    report(f"Planning against {target.environment_name}")
    plan = make_plan(clients.s3, environment, project.dags_dir, dist, project.airflow_config)
    if dry_run:
        return Outcome("promote", "DRY_RUN", plan)
    if plan.is_empty:
        return Outcome("promote", "NOTHING_TO_DO", plan)
    if validate:
        findings = _validate(project, report)
        if findings:
            outcome = Outcome("promote", "REFUSED", plan, findings=findings)
            raise ValidationRefused(outcome)

    held = locking.acquire(clients.s3, plan.bucket, clients.identity, "promote", break_lock)
    try:
        environment = get_environment(clients, target)  # it may have changed meanwhile
        _require_promotable(environment, project, target)
        plan = make_plan(clients.s3, environment, project.dags_dir, dist,
                         project.airflow_config)
        outcome = Outcome("promote", "SYNCED", plan)
        if plan.is_empty:
            outcome.status = "NOTHING_TO_DO"
            return outcome
        new_versions = _upload(clients.s3, plan, project, dist, report, outcome)
        attempted = dict(plan.current)
        if plan.needs_update:
            arguments = dict(new_versions)
            if any(change.kind == "config" for change in plan.changes):
                arguments["AirflowConfigurationOptions"] = plan.config
            attempted.update(new_versions)
            environment = _update(clients, target, arguments, poll_interval, timeout, report)
            outcome.update_called = True
            outcome.status = environment["Status"]
            if environment["Status"] != "AVAILABLE":
                outcome.error = (environment.get("LastUpdate") or {}).get("Error") or {
                    "ErrorMessage": f"the environment is {environment['Status']}"}
        outcome.record = _record(project, clients, target, environment, plan, outcome,
                                 attempted, "promote")
        return outcome
    finally:
        locking.release(clients.s3, held)


class ValidationRefused(PromotionError):
    """validate found errors, so nothing was locked or uploaded; `outcome` (REFUSED) holds the
    findings."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        lines = [f"  {finding['check']}: {finding['location']}: {finding['message']}"
                 for finding in outcome.findings[:20]]
        super().__init__("validate found errors; nothing was uploaded:\n" + "\n".join(lines))


def rollback(project: Project, target: PromotionTarget, clients: Clients, *,
             to: str | None = None, dry_run: bool = False, poll_interval: float = 15.0,
             timeout: float = 3600.0, break_lock: bool = False,
             report: Report = lambda message: None) -> Outcome:
    """Re-apply the history record `to` (by default the newest good one that differs from what
    runs now) under the lock, as the module docstring describes; `dry_run` only plans."""
    environment = get_environment(clients, target)
    if environment["Status"] not in ("AVAILABLE", "UPDATE_FAILED"):
        raise PromotionError(f"{target.environment_name} is {environment['Status']}; a "
                             "rollback needs it AVAILABLE or UPDATE_FAILED")
    bucket = source_bucket(environment)
    prefix = dag_prefix(environment)
    all_records = history.records(clients.s3, bucket)
    current_dags = dag_versions(clients.s3, bucket, prefix)
    if to:
        chosen = history.find(all_records, to)
    else:
        chosen = _previous_good(all_records, environment, current_dags)
    report(f"Rolling back to {chosen['id']} ({chosen['time']}, {chosen['kind']} by "
           f"{chosen['user']})")
    plan = Plan(environment=environment["Name"], bucket=bucket, dag_prefix=prefix)

    recorded_dags = chosen.get("dags", {})
    for key, version in sorted(recorded_dags.items()):
        if current_dags.get(key) != version:
            plan.changes.append(Change("dag", key, "restore", note=f"version {version}"))
    for key in sorted(set(current_dags) - set(recorded_dags)):
        plan.changes.append(Change("dag", key, "delete", note="not in the record"))
    arguments = {}
    for path_member, version_member, _ in BUNDLE_FILES.values():
        key, version = chosen["bundle"].get(path_member), chosen["bundle"].get(version_member)
        if key and version and (environment.get(path_member) != key
                                or environment.get(version_member) != version):
            arguments[path_member] = key
            arguments[version_member] = version
            plan.changes.append(Change("bundle", key, "update", note=f"version {version}"))
    if (environment.get("AirflowConfigurationOptions") or {}) != chosen.get("config", {}):
        arguments["AirflowConfigurationOptions"] = chosen.get("config", {})
        plan.changes.append(Change("config", "AirflowConfigurationOptions", "update"))
    if environment["Status"] == "UPDATE_FAILED" and not arguments:
        # Back to AVAILABLE: MWAA leaves UPDATE_FAILED only through a successful update.
        for path_member, version_member, _ in BUNDLE_FILES.values():
            if chosen["bundle"].get(version_member):
                arguments[path_member] = chosen["bundle"][path_member]
                arguments[version_member] = chosen["bundle"][version_member]
        if not arguments:
            arguments["AirflowConfigurationOptions"] = chosen.get("config", {})
        plan.changes.append(Change("bundle", "(re-apply)", "update",
                                   note="the environment is UPDATE_FAILED"))
    outcome = Outcome("rollback", "DRY_RUN" if dry_run else "SYNCED", plan)
    if dry_run:
        return outcome
    if not plan.changes:
        outcome.status = "NOTHING_TO_DO"
        return outcome
    held = locking.acquire(clients.s3, bucket, clients.identity, "rollback", break_lock)
    try:
        for change in plan.changes:
            if change.kind != "dag":
                continue
            if change.action == "restore":
                report(f"Restoring {change.name}")
                clients.s3.copy_object(Bucket=bucket, Key=change.name, CopySource={
                    "Bucket": bucket, "Key": change.name,
                    "VersionId": recorded_dags[change.name]})
            else:
                report(f"Deleting {change.name}")
                clients.s3.delete_object(Bucket=bucket, Key=change.name)
        if arguments:
            environment = _update(clients, target, arguments, poll_interval, timeout, report)
            outcome.update_called = True
            outcome.status = environment["Status"]
            if environment["Status"] != "AVAILABLE":
                outcome.error = (environment.get("LastUpdate") or {}).get("Error")
        attempted = {member: chosen["bundle"].get(member) for member in chosen["bundle"]}
        outcome.record = _record(project, clients, target, environment, plan, outcome,
                                 attempted, "rollback", rolled_back_to=chosen["id"])
        return outcome
    finally:
        locking.release(clients.s3, held)


# -- steps --------------------------------------------------------------------------------


def _require_promotable(environment: dict, project: Project, target: PromotionTarget) -> None:
    if environment["Status"] != "AVAILABLE":
        last = (environment.get("LastUpdate") or {}).get("Error") or {}
        detail = f" (last update: {last.get('ErrorMessage')})" if last else ""
        hint = (" `mwaa-kit rollback` restores the last good promotion."
                if environment["Status"] == "UPDATE_FAILED" else " Wait until it is AVAILABLE.")
        raise PromotionError(f"{target.environment_name} is {environment['Status']}, not "
                             f"AVAILABLE{detail}; nothing was changed.{hint}")
    if environment.get("AirflowVersion") != project.airflow_version:
        raise PromotionError(
            f"{target.environment_name} runs Airflow {environment.get('AirflowVersion')}, the "
            f"project Airflow {project.airflow_version}: upgrade the environment first (or "
            "set environment.airflow_version in mwaa-kit.toml to what it runs).")


def _validate(project: Project, report: Report) -> list[dict]:
    report(f"Validating against MWAA's Airflow {project.airflow_version}")
    outcome = run_checks(project, report=report)
    if outcome.ok:
        return []
    return [{"check": finding.check, "location": finding.location, "message": finding.message}
            for finding in outcome.findings if finding.severity == "error"] or [
        {"check": result.name, "location": "", "message": "failed"}
        for result in outcome.results if result.status == "failed"]


def _upload(s3, plan: Plan, project: Project, dist: Path, report: Report,
            outcome: Outcome) -> dict[str, str]:
    """Upload what changed; return the update arguments pinning the new object versions."""
    new_versions: dict[str, str] = {}
    by_key = {f"{plan.dag_prefix}{relative}": relative
              for relative in _relative_dags(project.dags_dir)}
    for change in plan.changes:
        if change.kind == "dag" and change.action == "upload":
            report(f"Uploading {change.name} ({change.size} bytes)")
            body = (project.dags_dir / by_key[change.name]).read_bytes()
            s3.put_object(Bucket=plan.bucket, Key=change.name, Body=body)
            outcome.uploaded_bytes += len(body)
        elif change.kind == "dag" and change.action == "delete":
            report(f"Deleting {change.name}")
            s3.delete_object(Bucket=plan.bucket, Key=change.name)
    for change in plan.changes:
        if change.kind != "bundle" or change.action != "upload":
            continue
        path_member, version_member, _ = BUNDLE_FILES[change.source]
        report(f"Uploading {change.source} as a new version of {change.name} "
               f"({change.size} bytes)")
        body = (dist / change.source).read_bytes()
        response = s3.put_object(Bucket=plan.bucket, Key=change.name, Body=body)
        outcome.uploaded_bytes += len(body)
        if not response.get("VersionId"):
            raise PromotionError(f"s3://{plan.bucket} returned no version id: MWAA needs the "
                                 "bucket versioned")
        new_versions[path_member] = change.name
        new_versions[version_member] = response["VersionId"]
    return new_versions


def _relative_dags(dags_dir: Path) -> list[str]:
    return list(local_dags(dags_dir))


def _update(clients: Clients, target: PromotionTarget, arguments: dict,
            poll_interval: float, timeout: float, report: Report) -> dict:
    report(f"UpdateEnvironment {target.environment_name}: "
           + ", ".join(sorted(key for key in arguments if key.endswith(("Version", "Options")))))
    try:
        clients.mwaa.update_environment(Name=target.environment_name, **arguments)
    except ClientError as error:
        raise PromotionError(f"UpdateEnvironment was refused: {error}") from None
    started = time.monotonic()
    while True:
        environment = get_environment(clients, target)
        status = environment["Status"]
        elapsed = time.monotonic() - started
        if status in TERMINAL:
            report(f"{target.environment_name} is {status} after {elapsed:.0f} s")
            return environment
        if elapsed > timeout:
            raise PromotionError(f"{target.environment_name} is still {status} after "
                                 f"{elapsed:.0f} s; check it in the MWAA console")
        report(f"{target.environment_name} is {status} ({elapsed:.0f} s)")
        time.sleep(poll_interval)


def _record(project: Project, clients: Clients, target: PromotionTarget, environment: dict,
            plan: Plan, outcome: Outcome, attempted: dict, kind: str, **extra) -> dict:
    bucket = plan.bucket
    record = history.new_record(
        kind, clients.identity, project.root, target=target.name,
        environment=target.environment_name, region=target.region,
        airflow_version=environment.get("AirflowVersion"), outcome=outcome.status,
        update_called=outcome.update_called, uploaded_bytes=outcome.uploaded_bytes,
        error=outcome.error,
        bundle={member: environment.get(member) for path_member, version_member, _ in
                BUNDLE_FILES.values() for member in (path_member, version_member)},
        attempted=attempted,
        config=environment.get("AirflowConfigurationOptions") or {},
        dags=dag_versions(clients.s3, bucket, plan.dag_prefix),
        plan=plan.to_dict(), **extra)
    record["key"] = history.write(clients.s3, bucket, record)
    return record


def _previous_good(all_records: list[dict], environment: dict, current_dags: dict) -> dict:
    """The newest successful record whose state is not what the environment has now."""
    for record in all_records:
        if record.get("outcome") not in ("AVAILABLE", "SYNCED"):
            continue
        same_bundle = all(environment.get(member) == record["bundle"].get(member)
                          for path_member, version_member, _ in BUNDLE_FILES.values()
                          for member in (path_member, version_member))
        same_config = (environment.get("AirflowConfigurationOptions") or {}) == record.get(
            "config", {})
        if same_bundle and same_config and record.get("dags", {}) == current_dags \
                and environment["Status"] == "AVAILABLE":
            continue
        return record
    raise history.HistoryError("no earlier successful promotion to roll back to; "
                               "`mwaa-kit history` lists the records")
