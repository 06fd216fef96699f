"""`mwaa-kit aws`: look into the emulated AWS account of the running environment."""

from __future__ import annotations

import boto3
import click
from rich.table import Table

from mwaa_kit.cli.output import (
    friendly_errors,
    print_json,
    project_option,
    stdout,
)
from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.errors import KitError
from mwaa_kit.project import load_project
from mwaa_kit.runtime.select import running_environment


@click.group()
def aws():
    """Inspect the emulated AWS account (S3 buckets and objects)."""


@aws.command("ls")
@project_option
@click.argument("uri", required=False)
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True)
@friendly_errors
def ls(project_dir, uri, output_format):
    """List buckets, or the objects under URI (s3://bucket/prefix)."""
    project = load_project(project_dir)
    s3 = boto3.client(
        "s3", endpoint_url=running_environment(project).aws_endpoint(),
        region_name=project.region,
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    if not uri:
        rows = [{"bucket": b["Name"]} for b in s3.list_buckets()["Buckets"]]
    else:
        if not uri.startswith("s3://"):
            raise KitError(f"{uri!r} is not an s3:// URI (e.g. s3://bucket/prefix/).")
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        rows = [
            {"key": item["Key"], "size": item["Size"],
             "modified": item["LastModified"].isoformat(timespec="seconds")}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix)
            for item in page.get("Contents", [])
        ]
    if output_format == "json":
        print_json(rows)
        return
    table = Table(title=uri or "buckets")
    for column in (rows[0] if rows else {"key": None}):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(value) for value in row.values()))
    stdout.print(table)
