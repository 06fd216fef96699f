"""MWAA's rules for an environment, each written once: what a request may ask (names, ARNs,
versions, classes, access modes, the versioned source bucket), what a new environment holds,
from which states it may change, and how a finished change leaves it.

Everything here is a function of its arguments (and of the source bucket, read through the S3
client given); keeping environments, their pending changes and the file they live in is
`backend.MwaaBackend`'s. Hand-written: moto has no MWAA service to build on.
"""

from __future__ import annotations

import re
import uuid

from botocore.exceptions import ClientError

from mwaa_kit import catalog
from mwaa_kit.catalog import api_model
from mwaa_kit.emulators.mwaa.exceptions import NotFoundError, ValidationError

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_BUCKET_ARN = re.compile(r"^arn:aws(-[a-z]+)?:s3:::([a-z0-9.\-]+)$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_ENV_ARN = re.compile(r"^arn:aws(-[a-z]+)?:airflow:([a-z0-9\-]+):(\d{12}):environment/(\w[\w-]*)$")
_REQUIRED = ("ExecutionRoleArn", "SourceBucketArn", "DagS3Path", "NetworkConfiguration")
# (path member, version member) of the bundle files MWAA pins by object version.
VERSIONED_FILES = (
    ("PluginsS3Path", "PluginsS3ObjectVersion"),
    ("RequirementsS3Path", "RequirementsS3ObjectVersion"),
    ("StartupScriptS3Path", "StartupScriptS3ObjectVersion"),
)
# UpdateEnvironment members the emulator stores as given.
_UPDATABLE = (
    "ExecutionRoleArn", "AirflowConfigurationOptions", "AirflowVersion", "DagS3Path",
    "EnvironmentClass", "LoggingConfiguration", "MaxWorkers", "MinWorkers", "MaxWebservers",
    "MinWebservers", "Schedulers", "SourceBucketArn", "WebserverAccessMode",
    "WeeklyMaintenanceWindowStart", "PluginsS3Path", "PluginsS3ObjectVersion",
    "RequirementsS3Path", "RequirementsS3ObjectVersion", "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
)
_UPDATABLE_FROM = ("AVAILABLE", "UPDATE_FAILED")
# The states a change is under way in, until the state manager ends it.
TRANSITIONAL = ("CREATING", "UPDATING", "DELETING")
_USABLE = ("AVAILABLE", "UPDATING", "UPDATE_FAILED")


def environment_arn(region: str, name: str) -> str:
    """The ARN MWAA gives environment `name` in `region`, in the emulator's fixed account."""
    return f"arn:aws:airflow:{region}:{ACCOUNT_ID}:environment/{name}"


def parse_environment_arn(arn: str) -> tuple[str, str]:
    """(region, name) of an environment ARN, as the tag operations name environments."""
    match = _ENV_ARN.match(arn)
    if not match:
        raise ValidationError(f"{arn} is not an MWAA environment ARN.")
    return match.group(2), match.group(4)


def not_found(name: str) -> NotFoundError:
    """The error of every operation on an environment that does not exist."""
    return NotFoundError(f"Environment named {name} not found.")


# -- a new environment -------------------------------------------------------------------

def check_create_request(name: str, body: dict) -> None:
    """CreateEnvironment's first refusals: a bad name, or a required member missing."""
    if not api_model.accepts("EnvironmentName", name):
        raise ValidationError(f"Environment name {name!r} is not valid: a letter, then up to "
                              "79 letters, digits, '-' or '_'.")
    for required in _REQUIRED:
        if required not in body:
            raise ValidationError(f"1 validation error detected: Value null at '{required}' "
                                  "failed to satisfy constraint: Member must not be null")


def new_environment(s3, region: str, name: str, body: dict, hostname: str,
                    now: float) -> dict:
    """The environment CreateEnvironment makes of `body`, CREATING, validated as MWAA does
    (role, version, access mode, class, versioned bucket, object versions: a path without a
    version pins the object's current one), with MWAA's defaults for what `body` leaves out."""
    _check_role(body["ExecutionRoleArn"])
    version = body.get("AirflowVersion", catalog.DEFAULT_VERSION)
    _check_airflow_version(version)
    mode = body.get("WebserverAccessMode", "PRIVATE_ONLY")
    _check_access_mode(mode, version)
    environment_class = body.get("EnvironmentClass", "mw1.small")
    _check_environment_class(environment_class)
    bucket = _check_bucket(s3, body["SourceBucketArn"])
    arn = environment_arn(region, name)
    return {
        "Name": name, "Arn": arn, "Status": "CREATING", "CreatedAt": now,
        "AirflowVersion": version, "EnvironmentClass": environment_class,
        "ExecutionRoleArn": body["ExecutionRoleArn"],
        "ServiceRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/"
                          "airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
        "SourceBucketArn": body["SourceBucketArn"], "DagS3Path": body["DagS3Path"],
        "NetworkConfiguration": body["NetworkConfiguration"],
        "AirflowConfigurationOptions": body.get("AirflowConfigurationOptions", {}),
        "MaxWorkers": body.get("MaxWorkers", 10), "MinWorkers": body.get("MinWorkers", 1),
        "MaxWebservers": body.get("MaxWebservers", 2),
        "MinWebservers": body.get("MinWebservers", 2),
        "Schedulers": body.get("Schedulers", _default_schedulers(environment_class)),
        "WebserverAccessMode": mode,
        "EndpointManagement": body.get("EndpointManagement", "SERVICE"),
        "WeeklyMaintenanceWindowStart": body.get("WeeklyMaintenanceWindowStart", "SUN:03:30"),
        "LoggingConfiguration": _logging(region, name, body.get("LoggingConfiguration")),
        "Tags": body.get("Tags", {}),
        "WebserverUrl": f"https://{hostname}",
        "CeleryExecutorQueue": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:airflow-celery-"
                               f"{uuid.uuid5(uuid.NAMESPACE_URL, arn)}",
        **_resolve_versions(s3, bucket, body),
    }


def webserver_hostname(region: str, name: str, fixed: str | None) -> str:
    """The host name of the environment's web server: `fixed` (the local UI's) when given,
    else one shaped like MWAA's, stable for the region and name."""
    if fixed:
        return fixed
    suffix = uuid.uuid5(uuid.NAMESPACE_DNS, f"{region}/{name}").hex
    return f"{suffix[:8]}-{suffix[8:12]}-{suffix[12:16]}.c1.{region}.airflow.amazonaws.com"


# -- changing an environment -------------------------------------------------------------

def check_updatable(environment: dict) -> None:
    """MWAA updates an environment only from AVAILABLE or UPDATE_FAILED."""
    if environment["Status"] not in _UPDATABLE_FROM:
        raise ValidationError(
            f"Environment {environment['Name']} is in {environment['Status']} state; it can "
            f"be updated only when {' or '.join(_UPDATABLE_FROM)}.")


def check_deletable(environment: dict) -> None:
    """MWAA refuses to delete an environment while it is CREATING, UPDATING or DELETING."""
    if environment["Status"] in TRANSITIONAL:
        raise ValidationError(f"Environment {environment['Name']} is "
                              f"{environment['Status']}; try again later.")


def check_usable(environment: dict) -> None:
    """Tokens (and InvokeRestApi) need a running web server: AVAILABLE, UPDATING or
    UPDATE_FAILED."""
    if environment["Status"] not in _USABLE:
        raise ValidationError(f"Environment {environment['Name']} is "
                              f"{environment['Status']}.")


def update_changes(s3, region: str, environment: dict, body: dict) -> dict:
    """The members UpdateEnvironment `body` changes, checked as on create (the access mode
    against the version the environment will run); ValidationError when it changes nothing."""
    changes = {member: body[member] for member in _UPDATABLE if member in body}
    if "ExecutionRoleArn" in changes:
        _check_role(changes["ExecutionRoleArn"])
    if "AirflowVersion" in changes:
        _check_airflow_version(changes["AirflowVersion"])
    if "AirflowVersion" in changes or "WebserverAccessMode" in changes:
        _check_access_mode(
            changes.get("WebserverAccessMode", environment["WebserverAccessMode"]),
            changes.get("AirflowVersion", environment["AirflowVersion"]))
    if "EnvironmentClass" in changes:
        _check_environment_class(changes["EnvironmentClass"])
    if "SourceBucketArn" in changes:
        _check_bucket(s3, changes["SourceBucketArn"])
    if "NetworkConfiguration" in body:
        changes["NetworkConfiguration"] = {
            **environment["NetworkConfiguration"], **body["NetworkConfiguration"]}
    if "LoggingConfiguration" in changes:
        changes["LoggingConfiguration"] = _logging(region, environment["Name"],
                                                   changes["LoggingConfiguration"])
    if not changes:
        raise ValidationError("UpdateEnvironment needs at least one setting to change.")
    return changes


def start_update(environment: dict, body: dict, now: float) -> None:
    """UPDATING, with a PENDING LastUpdate, as MWAA shows an update under way."""
    environment["Status"] = "UPDATING"
    environment["LastUpdate"] = {
        "Status": "PENDING", "CreatedAt": now, "Source": "UpdateEnvironment",
        **({"WorkerReplacementStrategy": body["WorkerReplacementStrategy"]}
           if "WorkerReplacementStrategy" in body else {}),
    }


def bundle_error(s3, environment: dict) -> dict | None:
    """What MWAA finds wrong when it fetches the environment's bundle (None: nothing)."""
    bucket = _bucket_name(environment["SourceBucketArn"])
    for path_member, version_member in VERSIONED_FILES:
        key = environment.get(path_member)
        if not key:
            continue
        try:
            _head(s3, bucket, key, environment.get(version_member))
        except ValidationError as error:
            return {"ErrorCode": "INCORRECT_CONFIGURATION", "ErrorMessage": error.message}
    return None


def finish(environment: dict, kind: str, changes: dict, error: dict | None,
           now: float) -> None:
    """How a create or update that is over leaves `environment`: AVAILABLE with the changes, or
    CREATE_FAILED / UPDATE_FAILED with `error`, an update's failure keeping the previous
    settings, as MWAA rolls back to the versions it ran."""
    if kind == "create":
        environment["Status"] = "AVAILABLE" if error is None else "CREATE_FAILED"
        if error is not None:
            environment["LastUpdate"] = {"Status": "FAILED", "CreatedAt": now, "Error": error,
                                         "Source": "CreateEnvironment"}
    elif error is None:
        environment.update(changes)
        environment["Status"] = "AVAILABLE"
        environment["LastUpdate"] = {**environment.get("LastUpdate", {}), "Status": "SUCCESS"}
        environment["LastUpdate"].pop("Error", None)
    else:
        environment["Status"] = "UPDATE_FAILED"
        environment["LastUpdate"] = {**environment.get("LastUpdate", {}), "Status": "FAILED",
                                     "Error": error}


# -- the rules -----------------------------------------------------------------------------

def _bucket_name(arn: str) -> str:
    match = _BUCKET_ARN.match(arn or "")
    if not match:
        raise ValidationError(f"SourceBucketArn {arn!r} is not an S3 bucket ARN "
                              "(arn:aws:s3:::BUCKET).")
    return match.group(2)


def _check_role(arn: str) -> None:
    if not _ROLE_ARN.match(arn):
        raise ValidationError(f"ExecutionRoleArn {arn!r} is not an IAM role ARN.")


def _check_airflow_version(version: str) -> None:
    supported = catalog.supported_versions()
    if version not in supported:
        raise ValidationError(f"Airflow version {version} is not supported. Supported "
                              f"versions: {', '.join(supported)}.")


def _check_access_mode(mode: str, version: str) -> None:
    """MWAA's WebserverAccessMode values, each from the Airflow version the catalog says."""
    modes = catalog.mwaa().webserver_access_modes
    if mode not in modes:
        raise ValidationError(
            f"1 validation error detected: Value '{mode}' at 'webserverAccessMode' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(modes)}]")
    if not catalog.mwaa().access_mode_allowed(mode, version):
        raise ValidationError(
            f"WebserverAccessMode {mode} is only available for Apache Airflow version "
            f"{modes[mode]} and later; the environment would run Airflow {version}.")


def _check_environment_class(name: str) -> None:
    classes = catalog.mwaa().environment_classes
    if name not in classes:
        raise ValidationError(f"EnvironmentClass {name!r} is not valid. Choose one of: "
                              f"{', '.join(classes)}.")


def _check_bucket(s3, arn: str) -> str:
    """The bucket of `arn`, which must exist and be versioned, as MWAA requires."""
    bucket = _bucket_name(arn)
    try:
        versioning = s3.get_bucket_versioning(Bucket=bucket)
    except ClientError as error:
        raise ValidationError(
            f"Unable to access the source bucket {arn}: "
            f"{error.response['Error'].get('Code')}") from None
    if versioning.get("Status") != "Enabled":
        raise ValidationError(f"The source bucket {arn} must have versioning enabled.")
    return bucket


def _resolve_versions(s3, bucket: str, body: dict) -> dict:
    """The versioned members of a create: each named object version must exist; a path
    given without a version pins the object's current version."""
    pinned = {}
    for path_member, version_member in VERSIONED_FILES:
        key = body.get(path_member)
        version = body.get(version_member)
        if version and not key:
            raise ValidationError(f"{version_member} needs {path_member}.")
        if not key:
            continue
        head = _head(s3, bucket, key, version)
        pinned[path_member] = key
        pinned[version_member] = version or head.get("VersionId")
    return pinned


def _head(s3, bucket: str, key: str, version: str | None) -> dict:
    arguments = {"Bucket": bucket, "Key": key}
    if version:
        arguments["VersionId"] = version
    try:
        return s3.head_object(**arguments)
    except ClientError:
        what = f"version {version} of " if version else ""
        raise ValidationError(
            f"Unable to read {what}s3://{bucket}/{key}: the object version does not "
            "exist.") from None


def _default_schedulers(environment_class: str) -> int:
    details = catalog.mwaa().environment_class_details.get(environment_class)
    return details.schedulers if details else 2


def _logging(region: str, name: str, given: dict | None) -> dict:
    result = {}
    for module in ("DagProcessingLogs", "SchedulerLogs", "WebserverLogs", "WorkerLogs",
                   "TaskLogs"):
        settings = (given or {}).get(module, {})
        enabled = settings.get("Enabled", module == "TaskLogs")
        entry = {"Enabled": enabled, "LogLevel": settings.get("LogLevel", "INFO")}
        if enabled:
            component = module.removesuffix("Logs").replace("DagProcessing", "DAGProcessing")
            entry["CloudWatchLogGroupArn"] = (f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:"
                                              f"airflow-{name}-{component}")
        result[module] = entry
    return result
