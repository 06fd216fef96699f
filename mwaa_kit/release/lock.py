"""The promotion lock: one object, `mwaa-kit/lock`, in the environment's bucket.

It is taken with an S3 conditional write (PutObject with If-None-Match: *), which S3 (and
moto, and LocalStack) refuse with 412 PreconditionFailed when the object exists, so two
promotions cannot both hold it. Releasing deletes the key (in a versioned bucket: a delete
marker, which a conditional write treats as absent), after checking the lock is still ours;
that needs s3:DeleteObject only, which is what the CDK app's promotion role is granted
(not s3:DeleteObjectVersion).
"""

from __future__ import annotations

import datetime
import json
import socket
import uuid
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mwaa_kit.errors import KitError

LOCK_KEY = "mwaa-kit/lock"


class LockHeldError(KitError, RuntimeError):
    """Another promotion (or a crashed one) holds the lock."""


@dataclass
class Lock:
    """A lock this process took; `holder` (id, user, host, action, since) is what release()
    checks it still owns."""

    bucket: str
    version_id: str | None
    holder: dict


def acquire(s3, bucket: str, user: str, action: str, break_lock: bool = False) -> Lock:
    """Take the lock; `break_lock` first removes a lock a killed promotion left behind."""
    if break_lock:
        s3.delete_object(Bucket=bucket, Key=LOCK_KEY)

    holder = {"id": uuid.uuid4().hex, "user": user, "host": socket.gethostname(),
              "action": action,
              "since": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    try:
        response = s3.put_object(Bucket=bucket, Key=LOCK_KEY, IfNoneMatch="*",
                                 Body=json.dumps(holder).encode(),
                                 ContentType="application/json")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
            raise LockHeldError(_held_message(s3, bucket)) from None
        raise
    return Lock(bucket, response.get("VersionId"), holder)


def release(s3, lock: Lock) -> None:
    """Give the lock back, unless someone broke it and took it meanwhile: it is theirs then,
    and stays."""
    holder = current_holder(s3, lock.bucket)
    if holder is not None and holder.get("id") not in (None, lock.holder["id"]):
        return  # someone broke our lock and took it: theirs now, leave it
    s3.delete_object(Bucket=lock.bucket, Key=LOCK_KEY)


def current_holder(s3, bucket: str) -> dict | None:
    """Who holds the lock, as its object says; None when there is no lock (any S3 error reads
    so), `{"user": "unknown"}` when the object is not JSON."""
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=LOCK_KEY)["Body"].read())
    except ClientError:
        return None
    except ValueError:
        return {"user": "unknown"}


def _held_message(s3, bucket: str) -> str:
    holder = current_holder(s3, bucket) or {}
    who = (f"{holder.get('user', 'someone')} on {holder.get('host', '?')} "
           f"({holder.get('action', 'promote')}) since {holder.get('since', '?')}")
    return (f"another promotion holds the lock s3://{bucket}/{LOCK_KEY}: {who}. Wait for it "
            "to finish. If it was killed, run again with --break-lock.")
