"""Syncing an environment's DAG folder from its bucket, as MWAA's scheduler does (~30 s).

`sync_once` makes a local folder mirror s3://BUCKET/PREFIX: new and changed objects
(by ETag) are downloaded, objects gone from the bucket are removed locally, and nothing
else is touched. `python -m mwaa_kit.emulators.mwaa sync-dags ...` runs it in a loop; a
runtime that points AIRFLOW_HOME/dags at that folder then sees promoted DAGs as MWAA does.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

MANIFEST = ".mwaa-kit-sync.json"  # key -> ETag of what was downloaded
DEFAULT_INTERVAL = 30.0


def sync_once(s3, bucket: str, prefix: str, destination: Path) -> dict[str, list[str]]:
    """Make `destination` mirror s3://`bucket`/`prefix` once; returns the relative paths
    downloaded and removed. Only files an earlier sync downloaded (its manifest) are removed."""
    prefix = prefix.strip("/") + "/"
    destination.mkdir(parents=True, exist_ok=True)
    manifest_path = destination / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    remote = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix):]
            if relative and not relative.endswith("/") and ".." not in Path(relative).parts:
                remote[relative] = item["ETag"]
    changes: dict[str, list[str]] = {"downloaded": [], "removed": []}
    for relative, etag in sorted(remote.items()):
        target = destination / relative
        if manifest.get(relative) == etag and target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".mwaa-kit-partial")
        partial.write_bytes(s3.get_object(Bucket=bucket, Key=prefix + relative)["Body"].read())
        os.replace(partial, target)  # the DAG processor never reads half a file
        manifest[relative] = etag
        changes["downloaded"].append(relative)
    for relative in sorted(set(manifest) - set(remote)):
        (destination / relative).unlink(missing_ok=True)
        del manifest[relative]
        changes["removed"].append(relative)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return changes


def sync_forever(s3, bucket: str, prefix: str, destination: Path,
                 interval: float = DEFAULT_INTERVAL) -> None:
    """sync_once every `interval` seconds until killed; a failed sync is logged and tried again,
    as the bucket may come back (or not be published yet: the same failure is logged once)."""
    last_failure = None
    while True:
        try:
            changes = sync_once(s3, bucket, prefix, destination)
            last_failure = None
            if changes["downloaded"] or changes["removed"]:
                print(f"synced s3://{bucket}/{prefix}: {changes}", flush=True)
        except Exception as error:  # keep syncing: the bucket may come back
            if repr(error) != last_failure:
                print(f"sync of s3://{bucket}/{prefix} failed: {error!r}", flush=True)
            last_failure = repr(error)
        time.sleep(interval)
