"""Time of a no-op `mwaa-kit promote`, and bytes uploaded for a one-DAG change.

    python bench/bench_promote.py [--runs 5]

Over real parts: moto server (S3) and the kit's MWAA emulator, each its own process, and a
copy of the example project, promoted through the CLI (a fresh Python process each time,
as a pipeline runs it). Goals (issue 6): a no-op promote in at most 3 s; a one-DAG change
uploads that DAG's size only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from mwaa_kit import catalog  # noqa: E402
from mwaa_kit.emulators.mwaa.server import client_environment  # noqa: E402
from mwaa_kit.runtime import processes  # noqa: E402
from mwaa_kit.runtime.services import start_moto, start_mwaa_api  # noqa: E402

NAME = "BenchEnvironment"
BUCKET = "bench-mwaa-source"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-promote-") as scratch:
        scratch = Path(scratch)
        moto = start_moto(scratch / "moto.log", processes.free_port())
        s3_url = f"http://127.0.0.1:{moto.port}"
        mwaa = start_mwaa_api(scratch / "mwaa.log", processes.free_port(), s3_url,
                                   scratch / "mwaa-state", create_delay=0.2, update_delay=0.5)
        mwaa_url = f"http://127.0.0.1:{mwaa.port}"
        try:
            project = _setup(scratch, s3_url, mwaa_url)
            env = {**os.environ, "AWS_ENDPOINT_URL": s3_url, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", **client_environment(mwaa_url)}

            def promote(*extra: str) -> tuple[float, dict]:
                started = time.monotonic()
                result = subprocess.run(
                    [sys.executable, "-m", "mwaa_kit", "promote", "--target", "bench",
                     "--format", "json", "--poll-interval", "0.2", "--project", str(project),
                     *extra], env=env, capture_output=True, text=True, check=True)
                return time.monotonic() - started, json.loads(result.stdout)

            first_seconds, first = promote("--skip-validate")
            no_op = []
            for _ in range(arguments.runs):
                seconds, outcome = promote()  # validate would run if anything had changed
                assert outcome["status"] == "NOTHING_TO_DO" and outcome["uploaded_bytes"] == 0
                no_op.append(seconds)
            dag = project / "dags" / "salesforce_to_s3.py"
            dag.write_text(dag.read_text() + "\n# one change\n")
            one_seconds, one = promote("--skip-validate")
            dag_size = dag.stat().st_size
        finally:
            processes.stop(mwaa)
            processes.stop(moto)
    print(f"first promote (everything, with an update): {first['uploaded_bytes']:>8} bytes "
          f"in {first_seconds:.2f} s")
    print(f"no-op promote, median of {arguments.runs}:           "
          f"{statistics.median(no_op):>8.2f} s (min {min(no_op):.2f}, max {max(no_op):.2f}); "
          "goal <= 3 s")
    print(f"one-DAG change: {one['uploaded_bytes']} bytes uploaded (the DAG is "
          f"{dag_size} bytes), update called: "
          f"{one['update_called']}, {one_seconds:.2f} s; goal: the DAG's size only")


def _setup(scratch: Path, s3_url: str, mwaa_url: str) -> Path:
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
                   "region_name": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=s3_url, **credentials)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    mwaa = boto3.client("mwaa", endpoint_url=mwaa_url, config=Config(inject_host_prefix=False),
                        **credentials)
    mwaa.create_environment(
        Name=NAME, ExecutionRoleArn="arn:aws:iam::123456789012:role/bench",
        SourceBucketArn=f"arn:aws:s3:::{BUCKET}", DagS3Path="dags",
        AirflowVersion=catalog.DEFAULT_VERSION,
        NetworkConfiguration={"SubnetIds": ["subnet-1", "subnet-2"],
                              "SecurityGroupIds": ["sg-1"]})
    while mwaa.get_environment(Name=NAME)["Environment"]["Status"] != "AVAILABLE":
        time.sleep(0.1)
    project = scratch / "project"
    for folder in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (project / "mwaa-kit.toml").write_text(
        (REPO / "mwaa-kit.toml").read_text()
        + f'\n[targets.bench]\nenvironment_name = "{NAME}"\nregion = "us-east-1"\n')
    return project


if __name__ == "__main__":
    main()
