"""Promotion records, kept in the environment's bucket under `mwaa-kit/history/`.

One JSON object per promotion or rollback, `<UTC time>-<id>.json`, so listing the prefix
lists them in time order. A record holds who, when, the git commit, the plan, and the
state it left: the pinned object versions, the configuration options and the version id of
every DAG object, which is what a rollback re-applies.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import uuid
from pathlib import Path

from mwaa_kit.errors import KitError

HISTORY_PREFIX = "mwaa-kit/history/"


class HistoryError(KitError, RuntimeError):
    """No such record, or none to roll back to."""


def new_record(kind: str, user: str, root: Path, **fields) -> dict:
    """A record of a `kind` (promote | rollback) by `user`, stamped now (UTC) with the git
    commit of `root` and whether it was dirty; `fields` add the state it left."""
    now = datetime.datetime.now(datetime.UTC)
    return {"id": uuid.uuid4().hex[:8], "kind": kind,
            "time": now.isoformat(timespec="microseconds"), "user": user, "git": git_state(root),
            **fields}


def write(s3, bucket: str, record: dict) -> str:
    """Put `record` in the bucket's history; returns its key, named by time so that listing the
    prefix lists records in order."""
    stamp = datetime.datetime.fromisoformat(record["time"]).strftime("%Y%m%dT%H%M%S.%fZ")
    key = f"{HISTORY_PREFIX}{stamp}-{record['id']}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(record, indent=2).encode(),
                  ContentType="application/json")
    return key


def records(s3, bucket: str) -> list[dict]:
    """Every record, newest first."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix=HISTORY_PREFIX):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".json")]
    result = []
    for key in sorted(keys, reverse=True):
        record = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        record["key"] = key
        result.append(record)
    return result


def find(all_records: list[dict], record_id: str) -> dict:
    """The record whose id (or key ending) is `record_id`; HistoryError pointing at `mwaa-kit
    history` when there is none."""
    matches = [record for record in all_records
               if record["id"] == record_id or record["key"].endswith(f"{record_id}.json")]
    if not matches:
        raise HistoryError(f"no promotion record {record_id!r}; `mwaa-kit history` lists them")
    return matches[0]


def git_state(root: Path) -> dict:
    """The commit checked out at `root` and whether its files have uncommitted changes;
    `{"commit": None}` outside a git checkout (or without git)."""
    def git(*arguments: str) -> str | None:
        try:
            result = subprocess.run(["git", "-C", str(root), *arguments], capture_output=True,
                                    text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None}
    status = git("status", "--porcelain", "--", ".")
    return {"commit": commit, "dirty": bool(status)}
