"""What a promotion would change on an environment, from what it runs now.

dags/ is compared file by file with the environment's DAG folder in its bucket (MD5 against
the objects' ETags), deletions included. plugins.zip, requirements.txt and startup.sh are
compared with the content of the object versions the environment is pinned to; configuration
options with the environment's. Only a change to those pinned files or to the options needs
an environment update; DAGs are synced by MWAA from the bucket without one.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mwaa_kit.catalog.api_model import source_bucket

# bundle file -> (environment path member, version member, default key in the bucket)
BUNDLE_FILES = {
    "plugins.zip": ("PluginsS3Path", "PluginsS3ObjectVersion", "plugins.zip"),
    "requirements.txt": ("RequirementsS3Path", "RequirementsS3ObjectVersion",
                         "requirements.txt"),
    "startup.sh": ("StartupScriptS3Path", "StartupScriptS3ObjectVersion", "startup.sh"),
}
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


@dataclass
class Change:
    """One line of a plan: a DAG object, a pinned bundle file or a configuration option, and
    what the promotion (or rollback) does to it."""

    kind: str  # dag | bundle | config
    name: str  # the bucket key, or the option name
    action: str  # upload | delete | update | unchanged | kept
    size: int = 0
    local_md5: str | None = None
    remote_md5: str | None = None
    note: str = ""
    source: str = ""  # the local file a bundle change uploads


@dataclass
class Plan:
    """What a promotion would change on one environment; `current` holds the versions the
    environment is pinned to now, which the history record keeps."""

    environment: str
    bucket: str
    dag_prefix: str
    changes: list[Change] = field(default_factory=list)
    config: dict[str, str] = field(default_factory=dict)  # the options after the promotion
    current: dict = field(default_factory=dict)  # the environment's pinned versions now

    @property
    def uploads(self) -> list[Change]:
        """The DAG and bundle changes that put a local file in the bucket."""
        return [change for change in self.changes if change.action == "upload"]

    @property
    def deletions(self) -> list[Change]:
        """The DAG objects the promotion removes from the bucket."""
        return [change for change in self.changes if change.action == "delete"]

    @property
    def needs_update(self) -> bool:
        """Whether UpdateEnvironment must be called: only pinned bundle files and options need it;
        MWAA syncs DAGs from the bucket by itself."""
        return any(change.kind in ("bundle", "config") and change.action in ("upload", "update")
                   for change in self.changes)

    @property
    def is_empty(self) -> bool:
        """Nothing to upload, delete or update: a promotion stops there, changing nothing."""
        return not (self.uploads or self.deletions or self.needs_update)

    @property
    def upload_bytes(self) -> int:
        """The total size, in bytes, of what the plan uploads."""
        return sum(change.size for change in self.uploads)

    def to_dict(self) -> dict:
        """The plan as JSON (`--json` and the history record), unchanged items only counted."""
        return {"environment": self.environment, "bucket": self.bucket,
                "dag_prefix": self.dag_prefix, "needs_update": self.needs_update,
                "upload_bytes": self.upload_bytes, "empty": self.is_empty,
                "changes": [asdict(change) for change in self.changes
                            if change.action != "unchanged"],
                "unchanged": sum(change.action == "unchanged" for change in self.changes)}


def md5(path: Path) -> str:
    """Hex MD5 of a file, read in 1 MiB blocks: S3's ETag of a single-part upload, so DAGs are
    compared without downloading them."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dag_prefix(environment: dict) -> str:
    """The environment's DAG folder as a key prefix ending in one slash (`dags/` by default)."""
    return environment.get("DagS3Path", "dags").strip("/") + "/"


def local_dags(dags_dir: Path) -> dict[str, Path]:
    """dags/ files by their path relative to dags/ (caches left out)."""
    if not dags_dir.is_dir():
        return {}
    return {path.relative_to(dags_dir).as_posix(): path for path in sorted(dags_dir.rglob("*"))
            if path.is_file() and not _SKIPPED_PARTS & set(path.relative_to(dags_dir).parts)
            and path.suffix != ".pyc"}


def remote_dags(s3, bucket: str, prefix: str) -> dict[str, str]:
    """Keys under the DAG folder -> their ETag (MD5 for single-part uploads)."""
    result = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                result[item["Key"]] = item["ETag"].strip('"')
    return result


def dag_versions(s3, bucket: str, prefix: str) -> dict[str, str]:
    """Keys under the DAG folder -> their current version id (what a rollback restores)."""
    result = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Versions", []):
            if item["IsLatest"] and not item["Key"].endswith("/"):
                result[item["Key"]] = item["VersionId"]
    return result


def make_plan(s3, environment: dict, dags_dir: Path, dist: Path,
              config: dict[str, str]) -> Plan:
    """Compare dags/, the files packaged in `dist` and the options `config` with what
    `environment` runs now; it only reads the bucket (list, HEAD), never changes it."""
    bucket = source_bucket(environment)
    prefix = dag_prefix(environment)
    plan = Plan(environment=environment["Name"], bucket=bucket, dag_prefix=prefix,
                config=dict(config))
    remote = remote_dags(s3, bucket, prefix)
    for relative, path in local_dags(dags_dir).items():
        key = prefix + relative
        local = md5(path)
        remote_md5 = remote.pop(key, None)
        action = "unchanged" if remote_md5 == local else "upload"
        plan.changes.append(Change("dag", key, action, path.stat().st_size, local, remote_md5,
                                   "new" if remote_md5 is None else ""))
    for key, etag in sorted(remote.items()):
        plan.changes.append(Change("dag", key, "delete", remote_md5=etag,
                                   note="not in dags/"))

    for name, (path_member, version_member, default) in BUNDLE_FILES.items():
        key = environment.get(path_member) or default
        version = environment.get(version_member)
        plan.current[path_member] = environment.get(path_member)
        plan.current[version_member] = version
        local_path = dist / name
        remote_md5 = None
        if environment.get(path_member):
            head = {"Bucket": bucket, "Key": key}
            if version:
                head["VersionId"] = version
            remote_md5 = s3.head_object(**head)["ETag"].strip('"')
        if not local_path.exists():
            if remote_md5 is not None:
                plan.changes.append(Change("bundle", key, "kept", remote_md5=remote_md5,
                                           note="the project has none; the environment "
                                                "keeps its own"))
            continue
        local = md5(local_path)
        action = "unchanged" if local == remote_md5 else "upload"
        plan.changes.append(Change("bundle", key, action, local_path.stat().st_size, local,
                                   remote_md5, "" if remote_md5 else "new", source=name))

    current_config = environment.get("AirflowConfigurationOptions") or {}
    for option in sorted(set(current_config) | set(config)):
        old, new = current_config.get(option), config.get(option)
        if old != new:
            plan.changes.append(Change("config", option, "update",
                                       note=f"{old!r} -> {new!r}"))
    return plan
