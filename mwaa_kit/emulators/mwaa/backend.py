"""The MWAA control plane's state: environments, their states and MWAA's validation.

Environments live in `<state dir>/environments.json`, so a restarted emulator still knows
them. The S3 emulator (an S3 endpoint reached over HTTP) answers the checks MWAA makes
against the source bucket: the bucket exists and is versioned, and every object version an
environment names exists.

States follow MWAA: CreateEnvironment -> CREATING -> AVAILABLE; UpdateEnvironment ->
UPDATING -> AVAILABLE, or UPDATE_FAILED when the new bundle cannot be applied (a missing
object version, or an error from the `apply` hook); MWAA then keeps running the previous
versions, and so does the emulator. DeleteEnvironment -> DELETING -> gone. Transitions
happen after configurable delays, driven by `tick()`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from mwaa_kit import catalog

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
STATE_FILE = "environments.json"
_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")
_BUCKET_ARN = re.compile(r"^arn:aws(-[a-z]+)?:s3:::([a-z0-9.\-]+)$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
_ENV_ARN = re.compile(r"^arn:aws(-[a-z]+)?:airflow:([a-z0-9\-]+):(\d{12}):environment/(\w[\w-]*)$")
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

# Tags that set one environment's delays (seconds), e.g. for a test that needs it to stay
# UPDATING a while: {"mwaa-kit:update-delay": "30"}.
DELAY_TAGS = {"create": "mwaa-kit:create-delay", "update": "mwaa-kit:update-delay",
              "delete": "mwaa-kit:delete-delay"}

# The hook that applies an environment's bundle to something real (the local Airflow):
# called with the environment as it would be after the update; raising fails the update.
ApplyHook = Callable[[dict], None]


class MwaaError(Exception):
    """An error the API returns: `code` is the botocore error code (x-amzn-ErrorType)."""

    status = 400
    code = "ValidationException"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationError(MwaaError):
    """400 ValidationException: a request MWAA refuses as invalid (name, state, bucket...)."""
    pass


class NotFoundError(MwaaError):
    """404 ResourceNotFoundException: no such environment (or no such API operation)."""

    status = 404
    code = "ResourceNotFoundException"


class NotSupportedError(MwaaError):
    """501 NotImplementedException: an operation the emulator does not reproduce."""

    status = 501
    code = "NotImplementedException"


class MwaaBackend:
    """The emulated control plane: environments by region, kept in `state_dir`, bucket checks
    made through `s3_client`, and `apply` (when given) making updates real. The delays are
    the seconds an environment stays CREATING, UPDATING or DELETING."""

    def __init__(self, state_dir: Path, s3_client=None, create_delay: float = 5.0,
                 update_delay: float = 5.0, delete_delay: float = 2.0,
                 apply: ApplyHook | None = None, webserver_hostname: str | None = None):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.s3 = s3_client
        self.create_delay = create_delay
        self.update_delay = update_delay
        self.delete_delay = delete_delay
        self.apply = apply
        self.webserver_hostname = webserver_hostname
        self._lock = threading.RLock()
        self._busy: set[str] = set()  # keys whose pending change is being applied
        self._state = self._load()

    # -- persistence -------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        """environments.json in the state dir: what a restarted emulator reads back."""
        return self.state_dir / STATE_FILE

    def _load(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {"environments": {}}

    def _save(self) -> None:
        scratch = self.state_file.with_suffix(".tmp")
        scratch.write_text(json.dumps(self._state, indent=2, sort_keys=True))
        os.replace(scratch, self.state_file)

    @property
    def _environments(self) -> dict[str, dict]:
        return self._state["environments"]

    # -- the API -----------------------------------------------------------------------

    def create_environment(self, region: str, name: str, body: dict) -> dict:
        """CreateEnvironment: validate as MWAA does (role, version, class, versioned bucket, object
        versions; a path without a version pins the current one), then CREATING for the create
        delay. Returns {"Arn": ...}."""
        _check_name(name)
        for required in ("ExecutionRoleArn", "SourceBucketArn", "DagS3Path",
                         "NetworkConfiguration"):
            if required not in body:
                raise ValidationError(f"1 validation error detected: Value null at '{required}' "
                                      "failed to satisfy constraint: Member must not be null")
        with self._lock:
            self.tick()
            if _key(region, name) in self._environments:
                raise ValidationError(f"Environment {name} already exists.")
        _check_role(body["ExecutionRoleArn"])
        version = body.get("AirflowVersion", catalog.DEFAULT_VERSION)
        _check_airflow_version(version)
        _check_access_mode(body.get("WebserverAccessMode", "PRIVATE_ONLY"), version)
        environment_class = body.get("EnvironmentClass", "mw1.small")
        _check_environment_class(environment_class)
        bucket = self._check_bucket(body["SourceBucketArn"])
        pinned = self._resolve_versions(bucket, body)
        now = time.time()
        arn = environment_arn(region, name)
        environment = {
            "Name": name,
            "Arn": arn,
            "Status": "CREATING",
            "CreatedAt": now,
            "AirflowVersion": version,
            "EnvironmentClass": environment_class,
            "ExecutionRoleArn": body["ExecutionRoleArn"],
            "ServiceRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/"
                              "airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
            "SourceBucketArn": body["SourceBucketArn"],
            "DagS3Path": body["DagS3Path"],
            "NetworkConfiguration": body["NetworkConfiguration"],
            "AirflowConfigurationOptions": body.get("AirflowConfigurationOptions", {}),
            "MaxWorkers": body.get("MaxWorkers", 10),
            "MinWorkers": body.get("MinWorkers", 1),
            "MaxWebservers": body.get("MaxWebservers", 2),
            "MinWebservers": body.get("MinWebservers", 2),
            "Schedulers": body.get("Schedulers", _default_schedulers(environment_class)),
            "WebserverAccessMode": body.get("WebserverAccessMode", "PRIVATE_ONLY"),
            "EndpointManagement": body.get("EndpointManagement", "SERVICE"),
            "WeeklyMaintenanceWindowStart": body.get("WeeklyMaintenanceWindowStart",
                                                     "SUN:03:30"),
            "LoggingConfiguration": _logging(region, name, body.get("LoggingConfiguration")),
            "Tags": body.get("Tags", {}),
            "WebserverUrl": f"https://{self._hostname(region, name)}",
            "CeleryExecutorQueue": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:airflow-celery-"
                                   f"{uuid.uuid5(uuid.NAMESPACE_URL, arn)}",
            **pinned,
        }
        with self._lock:
            self._environments[_key(region, name)] = {
                "environment": environment,
                "pending": {"kind": "create", "due": now + self._delay(environment, "create"),
                            "changes": {}},
            }
            self._save()
        return {"Arn": arn}

    def get_environment(self, region: str, name: str) -> dict:
        """GetEnvironment: a copy of the environment, due transitions completed first;
        NotFoundError when there is none."""
        with self._lock:
            self.tick()
            return copy.deepcopy(self._record(region, name)["environment"])

    def list_environments(self, region: str) -> list[str]:
        """ListEnvironments: the names in `region`, sorted."""
        with self._lock:
            self.tick()
            prefix = f"{region}/"
            return sorted(key[len(prefix):] for key in self._environments
                          if key.startswith(prefix))

    def update_environment(self, region: str, name: str, body: dict) -> dict:
        """UpdateEnvironment, from AVAILABLE or UPDATE_FAILED only: the changes are checked, the
        environment goes UPDATING, and tick() applies them once the update delay has passed."""
        with self._lock:
            self.tick()
            record = self._record(region, name)
            environment = record["environment"]
            if environment["Status"] not in _UPDATABLE_FROM:
                raise ValidationError(
                    f"Environment {name} is in {environment['Status']} state; it can be "
                    f"updated only when {' or '.join(_UPDATABLE_FROM)}.")
        changes = {member: body[member] for member in _UPDATABLE if member in body}
        if "ExecutionRoleArn" in changes:
            _check_role(changes["ExecutionRoleArn"])
        if "AirflowVersion" in changes:
            _check_airflow_version(changes["AirflowVersion"])
        if "AirflowVersion" in changes or "WebserverAccessMode" in changes:
            # the mode the environment will have, on the version it will run
            _check_access_mode(
                changes.get("WebserverAccessMode", environment["WebserverAccessMode"]),
                changes.get("AirflowVersion", environment["AirflowVersion"]))
        if "EnvironmentClass" in changes:
            _check_environment_class(changes["EnvironmentClass"])
        if "SourceBucketArn" in changes:
            self._check_bucket(changes["SourceBucketArn"])
        if "NetworkConfiguration" in body:
            changes["NetworkConfiguration"] = {
                **environment["NetworkConfiguration"], **body["NetworkConfiguration"]}
        if "LoggingConfiguration" in changes:
            changes["LoggingConfiguration"] = _logging(region, name,
                                                       changes["LoggingConfiguration"])
        if not changes:
            raise ValidationError("UpdateEnvironment needs at least one setting to change.")
        now = time.time()
        with self._lock:
            record = self._record(region, name)
            environment = record["environment"]
            environment["Status"] = "UPDATING"
            environment["LastUpdate"] = {
                "Status": "PENDING", "CreatedAt": now, "Source": "UpdateEnvironment",
                **({"WorkerReplacementStrategy": body["WorkerReplacementStrategy"]}
                   if "WorkerReplacementStrategy" in body else {}),
            }
            record["pending"] = {"kind": "update", "due": now + self._delay(environment, "update"),
                                 "changes": changes}
            self._save()
            return {"Arn": environment["Arn"]}

    def delete_environment(self, region: str, name: str) -> None:
        """DeleteEnvironment: DELETING, then gone after the delete delay; refused while CREATING,
        UPDATING or DELETING."""
        with self._lock:
            self.tick()
            record = self._record(region, name)
            if record["environment"]["Status"] in ("CREATING", "UPDATING", "DELETING"):
                raise ValidationError(f"Environment {name} is "
                                      f"{record['environment']['Status']}; try again later.")
            record["environment"]["Status"] = "DELETING"
            record["pending"] = {"kind": "delete", "changes": {},
                                 "due": time.time() + self._delay(record["environment"], "delete")}
            self._save()

    def forget_environment(self, region: str, name: str) -> None:
        """Drop an environment from the state at once (no DELETING), as a restarted local
        environment does before publishing itself again."""
        with self._lock:
            self._environments.pop(_key(region, name), None)
            self._save()

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """TagResource: add or replace tags (the mwaa-kit:*-delay tags set that environment's
        delays)."""
        with self._lock:
            environment = self._by_arn(arn)["environment"]
            environment.setdefault("Tags", {}).update(tags)
            self._save()

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        """UntagResource: remove the tags `keys`; a key the environment lacks is ignored."""
        with self._lock:
            environment = self._by_arn(arn)["environment"]
            for key in keys:
                environment.get("Tags", {}).pop(key, None)
            self._save()

    def list_tags(self, arn: str) -> dict[str, str]:
        """ListTagsForResource of an environment ARN."""
        with self._lock:
            return dict(self._by_arn(arn)["environment"].get("Tags", {}))

    def create_cli_token(self, region: str, name: str) -> dict:
        """CreateCliToken: a random token (nothing checks it) and the webserver host name;
        ValidationError unless the environment is AVAILABLE, UPDATING or UPDATE_FAILED."""
        environment = self._usable(region, name)
        return {"CliToken": secrets.token_urlsafe(32),
                "WebServerHostname": environment["WebserverUrl"].removeprefix("https://")}

    def create_web_login_token(self, region: str, name: str) -> dict:
        """CreateWebLoginToken: a random token (nothing checks it), the webserver host name and
        fixed identities; ValidationError unless the environment is usable, as for CLI tokens."""
        environment = self._usable(region, name)
        return {"WebToken": secrets.token_urlsafe(32),
                "WebServerHostname": environment["WebserverUrl"].removeprefix("https://"),
                "IamIdentity": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/mwaa-kit/local",
                "AirflowIdentity": "admin"}

    def invoke_rest_api(self, region: str, name: str, body: dict) -> dict:
        """InvokeRestApi is not emulated: always NotSupportedError (501), pointing at the local
        Airflow's own REST API."""
        self._usable(region, name)
        raise NotSupportedError(
            "InvokeRestApi is not supported by the mwaa-kit MWAA emulator; call the local "
            "Airflow's REST API directly (see `mwaa-kit status` for its URL).")

    def _delay(self, environment: dict, kind: str) -> float:
        default = {"create": self.create_delay, "update": self.update_delay,
                   "delete": self.delete_delay}[kind]
        try:
            return float(environment.get("Tags", {}).get(DELAY_TAGS[kind], default))
        except ValueError:
            return default

    # -- state transitions -------------------------------------------------------------

    def tick(self) -> None:
        """Complete every pending change whose delay has passed."""
        with self._lock:
            now = time.time()
            due = [key for key, record in self._environments.items()
                   if record.get("pending") and record["pending"]["due"] <= now
                   and key not in self._busy]
            for key in due:
                self._busy.add(key)
        for key in due:
            try:
                self._complete(key)
            finally:
                with self._lock:
                    self._busy.discard(key)

    def _complete(self, key: str) -> None:
        with self._lock:
            record = self._environments[key]
            pending = record["pending"]
            environment = copy.deepcopy(record["environment"])
        if pending["kind"] == "delete":
            with self._lock:
                del self._environments[key]
                self._save()
            return
        candidate = {**environment, **pending["changes"]}
        error = self._check_bundle(candidate)
        if error is None and self.apply is not None:
            try:
                self.apply(copy.deepcopy(candidate))
            except Exception as failure:  # the hook's failure is the update's failure
                error = {"ErrorCode": "UPDATE_FAILED", "ErrorMessage": str(failure)[:1024]}
        with self._lock:
            record = self._environments.get(key)
            if record is None:
                return
            current = record["environment"]
            record["pending"] = None
            if pending["kind"] == "create":
                current["Status"] = "AVAILABLE" if error is None else "CREATE_FAILED"
                if error is not None:
                    current["LastUpdate"] = {"Status": "FAILED", "CreatedAt": time.time(),
                                             "Error": error, "Source": "CreateEnvironment"}
            elif error is None:
                current.update(pending["changes"])
                current["Status"] = "AVAILABLE"
                current["LastUpdate"] = {**current.get("LastUpdate", {}), "Status": "SUCCESS"}
                current["LastUpdate"].pop("Error", None)
            else:
                # MWAA rolls back: the environment keeps running its previous versions.
                current["Status"] = "UPDATE_FAILED"
                current["LastUpdate"] = {**current.get("LastUpdate", {}), "Status": "FAILED",
                                         "Error": error}
            self._save()

    def _check_bundle(self, environment: dict) -> dict | None:
        """What MWAA finds wrong when it fetches the bundle (None: nothing)."""
        bucket = _bucket_name(environment["SourceBucketArn"])
        for path_member, version_member in VERSIONED_FILES:
            key = environment.get(path_member)
            version = environment.get(version_member)
            if not key:
                continue
            try:
                self._head(bucket, key, version)
            except ValidationError as error:
                return {"ErrorCode": "INCORRECT_CONFIGURATION", "ErrorMessage": error.message}
        return None

    # -- checks ------------------------------------------------------------------------

    def _check_bucket(self, arn: str) -> str:
        bucket = _bucket_name(arn)
        from botocore.exceptions import ClientError

        try:
            versioning = self.s3.get_bucket_versioning(Bucket=bucket)
        except ClientError as error:
            raise ValidationError(
                f"Unable to access the source bucket {arn}: "
                f"{error.response['Error'].get('Code')}") from None
        if versioning.get("Status") != "Enabled":
            raise ValidationError(f"The source bucket {arn} must have versioning enabled.")
        return bucket

    def _resolve_versions(self, bucket: str, body: dict) -> dict:
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
            head = self._head(bucket, key, version)
            pinned[path_member] = key
            pinned[version_member] = version or head.get("VersionId")
        return pinned

    def _head(self, bucket: str, key: str, version: str | None) -> dict:
        from botocore.exceptions import ClientError

        arguments = {"Bucket": bucket, "Key": key}
        if version:
            arguments["VersionId"] = version
        try:
            return self.s3.head_object(**arguments)
        except ClientError:
            what = f"version {version} of " if version else ""
            raise ValidationError(
                f"Unable to read {what}s3://{bucket}/{key}: the object version does not "
                "exist.") from None

    # -- lookups -----------------------------------------------------------------------

    def _record(self, region: str, name: str) -> dict:
        record = self._environments.get(_key(region, name))
        if record is None:
            raise NotFoundError(f"Environment named {name} not found.")
        return record

    def _by_arn(self, arn: str) -> dict:
        match = _ENV_ARN.match(arn)
        if not match:
            raise ValidationError(f"{arn} is not an MWAA environment ARN.")
        self.tick()
        return self._record(match.group(2), match.group(4))

    def _usable(self, region: str, name: str) -> dict:
        environment = self.get_environment(region, name)
        if environment["Status"] not in ("AVAILABLE", "UPDATING", "UPDATE_FAILED"):
            raise ValidationError(f"Environment {name} is {environment['Status']}.")
        return environment

    def _hostname(self, region: str, name: str) -> str:
        if self.webserver_hostname:
            return self.webserver_hostname
        suffix = uuid.uuid5(uuid.NAMESPACE_DNS, f"{region}/{name}").hex
        return f"{suffix[:8]}-{suffix[8:12]}-{suffix[12:16]}.c1.{region}.airflow.amazonaws.com"


def environment_arn(region: str, name: str) -> str:
    """The ARN MWAA gives environment `name` in `region`, in the emulator's fixed account."""
    return f"arn:aws:airflow:{region}:{ACCOUNT_ID}:environment/{name}"


def _key(region: str, name: str) -> str:
    return f"{region}/{name}"


def _bucket_name(arn: str) -> str:
    match = _BUCKET_ARN.match(arn or "")
    if not match:
        raise ValidationError(f"SourceBucketArn {arn!r} is not an S3 bucket ARN "
                              "(arn:aws:s3:::BUCKET).")
    return match.group(2)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValidationError(f"Environment name {name!r} is not valid: a letter, then up to "
                              "79 letters, digits, '-' or '_'.")


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
