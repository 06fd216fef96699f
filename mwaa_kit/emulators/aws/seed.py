"""Seeding the AWS emulator from the project's seed file (seed.toml).

The file declares buckets, Airflow connections and Airflow variables. Connections and
variables become Secrets Manager secrets under MWAA's prefixes, which is where the
SecretsManagerBackend of a real MWAA environment reads them. `$name` placeholders are
filled with values only the runtime knows (the Salesforce stub's address, the buckets).
Seeding is idempotent: running it twice leaves the same state.
"""

from __future__ import annotations

import json
import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from mwaa_kit import catalog
from mwaa_kit.emulators.salesforce.schema import standard_objects
from mwaa_kit.errors import KitError


class SeedFileError(KitError, ValueError):
    """The seed file is malformed; the message says where."""


# The `$name` placeholders a runtime fills in seed.toml.
PLACEHOLDERS = ("salesforce_domain", "salesforce_port", "aws_endpoint_url", "region",
                "environment_name")


@dataclass(frozen=True)
class Seed:
    """A parsed seed file: buckets, connections and variables for the AWS emulator, and the
    [salesforce] table for the stub (empty when the project needs none)."""

    buckets: list[dict] = field(default_factory=list)
    connections: dict[str, dict] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    salesforce: dict = field(default_factory=dict)


def load_seed(path: Path, values: dict[str, str]) -> Seed:
    """Read `path`, substituting `$placeholders` from `values` (missing file: empty seed)."""
    if not path.exists():
        return Seed()
    try:
        text = string.Template(path.read_text()).substitute(values)
        data = tomllib.loads(text)
    except KeyError as error:
        raise SeedFileError(f"{path}: unknown placeholder ${error.args[0]} (write $$ for a "
                            "literal $); known: "
                            + ", ".join(f"${name}" for name in sorted(values))) from None
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise SeedFileError(f"{path}: {error}") from None
    unknown = set(data) - {"buckets", "connections", "variables", "salesforce"}
    if unknown:
        raise SeedFileError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    for bucket in data.get("buckets", []):
        if "name" not in bucket:
            raise SeedFileError(f"{path}: every [[buckets]] entry needs a name")
    _check_salesforce(path, data.get("salesforce", {}))
    return Seed(
        buckets=data.get("buckets", []),
        connections=data.get("connections", {}),
        variables={k: str(v) for k, v in data.get("variables", {}).items()},
        salesforce=data.get("salesforce", {}),
    )


def check_seed_file(path: Path) -> Seed:
    """Read and check `path` before any runtime knows the placeholders' values."""
    return load_seed(path, {name: "" for name in PLACEHOLDERS})


def _check_salesforce(path: Path, section: dict) -> None:
    """The [salesforce] section, checked before anything starts: a seed that fails once the
    stub is half made would leave the developer an empty org."""
    unknown = set(section) - {"seed", "objects"}
    if unknown:
        raise SeedFileError(f"{path}: [salesforce] has unknown key(s) "
                            f"{', '.join(sorted(unknown))}; it takes seed and objects")
    if not isinstance(section.get("seed", 42), int) or isinstance(section.get("seed"), bool):
        raise SeedFileError(f"{path}: [salesforce] seed must be a whole number, e.g. seed = 42")
    objects = section.get("objects", {})
    if not isinstance(objects, dict):
        raise SeedFileError(f"{path}: [salesforce] objects must be a table, e.g. "
                            "objects = { Account = 200, Lead = 500 }")
    known = standard_objects()
    for name, count in objects.items():
        if name not in known:
            raise SeedFileError(f"{path}: [salesforce] objects: unknown object {name!r}; "
                                f"the stub knows {', '.join(known)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SeedFileError(f"{path}: [salesforce] objects: {name} = {count!r}; write a "
                                f"count of 0 or more, e.g. {name} = 100")


def apply_seed(
    seed: Seed, session: boto3.session.Session, endpoint_url: str
) -> dict[str, list[str]]:
    """Create what `seed` declares in the emulator; return what was written, by kind."""
    s3 = session.client("s3", endpoint_url=endpoint_url)
    secrets = session.client("secretsmanager", endpoint_url=endpoint_url)
    for bucket in seed.buckets:
        _ensure_bucket(s3, bucket["name"], session.region_name,
                       versioned=bucket.get("versioned", False))
    facts = catalog.mwaa()
    prefixes = facts.secrets_backend_kwargs
    written = []
    for conn_id, connection in seed.connections.items():
        name = f"{prefixes['connections_prefix']}/{conn_id}"
        _put_secret(secrets, name, json.dumps(connection))
        written.append(name)
    for key, value in seed.variables.items():
        name = f"{prefixes['variables_prefix']}/{key}"
        _put_secret(secrets, name, value)
        written.append(name)
    return {"buckets": [b["name"] for b in seed.buckets], "secrets": written}


def _ensure_bucket(s3, name: str, region: str, versioned: bool) -> None:
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name,
                             CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",
                                                   "BucketAlreadyExists"):
            raise
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _put_secret(secrets, name: str, value: str) -> None:
    try:
        secrets.create_secret(Name=name, SecretString=value)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceExistsException":
            raise
        secrets.put_secret_value(SecretId=name, SecretString=value)
