"""MWAA updates applied with the kit's contract, and the local environment published as an
MWAA environment.

`fetch_bundle` downloads what MWAA would take from the environment's bucket: the current
objects under DagS3Path, and plugins.zip, requirements.txt and startup.sh at their pinned
object versions, as a contract `Bundle`.

`ContractApplier` is the MWAA API's `apply` hook for `--apply contract`: on
UpdateEnvironment it prepares that bundle with the contract (forced-configuration refusal,
startup script sourced, requirements installed with constraints, plugins.zip extracted) in
its own AIRFLOW_HOME, so an update whose requirements do not install or whose startup
script fails ends UPDATE_FAILED with the contract's message, as on MWAA. `then`, when
given, receives the prepared environment. (`--apply native`, the running native
environment's hook, is in mwaa_api.)

`bootstrap` is what `mwaa-kit up` does before the MWAA API starts: the project's bundle in
a versioned source bucket and the environment AVAILABLE on it.

It lives in the runtime, not beside the emulator, because it runs the contract and the
release packaging: the emulator only serves the API and calls the hook it is given.
"""


from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from botocore.exceptions import ClientError

from mwaa_kit import catalog
from mwaa_kit.catalog.api_model import source_bucket
from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment, prepare
from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.dagsync import sync_once
from mwaa_kit.release.package import package
from mwaa_kit.release.plan import local_dags

BUNDLE_OBJECTS = (
    ("PluginsS3Path", "PluginsS3ObjectVersion", "plugins.zip"),
    ("RequirementsS3Path", "RequirementsS3ObjectVersion", "requirements.txt"),
    ("StartupScriptS3Path", "StartupScriptS3ObjectVersion", "startup.sh"),
)


def fetch_bundle(s3, environment: dict, destination: Path, with_dags: bool = True) -> Bundle:
    """The environment's bundle, downloaded to `destination`; `with_dags=False` leaves its
    dags/ folder empty, for a runtime whose DAG folder is kept in sync on its own."""
    bucket = source_bucket(environment)
    if destination.exists():
        shutil.rmtree(destination)
    dags_dir = destination / "dags"
    dags_dir.mkdir(parents=True)
    if with_dags:
        sync_once(s3, bucket, environment.get("DagS3Path", "dags"), dags_dir)
    files: dict[str, Path | None] = {}
    for path_member, version_member, name in BUNDLE_OBJECTS:
        key = environment.get(path_member)
        if not key:
            files[name] = None
            continue
        arguments = {"Bucket": bucket, "Key": key}
        if environment.get(version_member):
            arguments["VersionId"] = environment[version_member]
        path = destination / name
        path.write_bytes(s3.get_object(**arguments)["Body"].read())
        files[name] = path
    requirements = files["requirements.txt"]
    return Bundle(dags_dir=dags_dir, plugins_zip=files["plugins.zip"],
                  requirements_text=requirements.read_text() if requirements else "",
                  startup_script=files["startup.sh"],
                  airflow_config=dict(environment.get("AirflowConfigurationOptions") or {}))


class ContractApplier:
    """The `--apply contract` hook: prepares the updated environment's bundle with the contract
    in `work_dir`/<name>, so a bundle that does not install fails the update as on MWAA;
    `then`, when given, receives (prepared environment, bundle, environment)."""

    def __init__(self, s3, work_dir: Path, cache_dir: Path,
                 then: Callable[[PreparedEnvironment, Bundle, dict], None] | None = None,
                 runtime_env: dict[str, str] | None = None):
        self.s3 = s3
        self.work_dir = Path(work_dir)
        self.cache_dir = Path(cache_dir)
        self.then = then
        self.runtime_env = runtime_env or {}

    def __call__(self, environment: dict) -> None:
        name = environment["Name"]
        region = environment["Arn"].split(":")[3]
        root = self.work_dir / name
        bundle = fetch_bundle(self.s3, environment, root / "bundle")
        version = catalog.get_version(environment["AirflowVersion"])
        prepared = prepare(bundle, version, name, region, root / "airflow-home",
                           self.cache_dir, {}, self.runtime_env)
        if self.then is not None:
            self.then(prepared, bundle, environment)


def ensure_versioned_bucket(s3, bucket: str) -> None:
    """The bucket, created if missing, with versioning on (MWAA refuses a source bucket
    without it)."""
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def create_request(project, bucket: str) -> dict:
    """CreateEnvironment's request for the project's local environment on `bucket`: its
    version, class and Airflow options, with a local role and network."""
    return {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/mwaa-kit-local",
            "SourceBucketArn": f"arn:aws:s3:::{bucket}", "DagS3Path": "dags",
            "NetworkConfiguration": {"SubnetIds": ["subnet-local-a", "subnet-local-b"],
                                     "SecurityGroupIds": ["sg-local"]},
            "AirflowVersion": project.airflow_version,
            "EnvironmentClass": project.environment_class,
            "AirflowConfigurationOptions": dict(project.airflow_config)}


def publish_bundle(project, s3, bucket: str) -> dict:
    """Put the project's bundle (dags/, plugins.zip, requirements.txt, startup.sh) in the
    versioned source `bucket`, created if missing: CreateEnvironment's request for the
    project's local environment on it, its object versions pinned."""
    ensure_versioned_bucket(s3, bucket)
    for relative, path in local_dags(project.dags_dir).items():
        s3.put_object(Bucket=bucket, Key=f"dags/{relative}", Body=path.read_bytes())
    body = create_request(project, bucket)
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-bootstrap-") as scratch:
        dist = Path(scratch)
        package(project, dist)
        for name, members in (("plugins.zip", "Plugins"), ("requirements.txt", "Requirements"),
                              ("startup.sh", "StartupScript")):
            if (dist / name).exists():
                version = s3.put_object(Bucket=bucket, Key=name,
                                        Body=(dist / name).read_bytes())["VersionId"]
                body[f"{members}S3Path"] = name
                body[f"{members}S3ObjectVersion"] = version
    return body


def source_bucket_name(project) -> str:
    """The source bucket `mwaa-kit up` publishes the project's local environment in."""
    return f"{project.environment_name.lower().replace('_', '-')}-mwaa-source"


def bootstrap(project, s3, state_dir: Path, bucket: str | None = None,
              fresh: bool = False, webserver_hostname: str | None = None) -> dict:
    """Make the project's local environment an emulated MWAA environment: its bundle
    published in a versioned source bucket (`publish_bundle`), and the environment
    AVAILABLE on it in the emulator's state, before the emulator starts. `mwaa-kit up`
    calls it with `fresh=True`: the environment is then the project as it is now, whatever
    an earlier run left in the state (its bucket may be gone with the AWS emulator's
    memory). Returns the environment."""
    bucket = bucket or source_bucket_name(project)
    backend = MwaaBackend(state_dir, s3, create_delay=0.0,
                          webserver_hostname=webserver_hostname)
    if project.environment_name in backend.list_environments(project.region):
        if not fresh:
            return backend.get_environment(project.region, project.environment_name)
        backend.forget_environment(project.region, project.environment_name)
    body = publish_bundle(project, s3, bucket)
    backend.create_environment(project.region, project.environment_name, body)
    backend.tick()
    return backend.get_environment(project.region, project.environment_name)
