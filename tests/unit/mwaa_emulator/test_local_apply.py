"""The contract-backed apply hook: what MWAA takes from the bucket, and updates it fails."""

from __future__ import annotations

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.project import load_project
from mwaa_kit.runtime.compose import control_plane
from mwaa_kit.runtime.mwaa_updates import ContractApplier, bootstrap, fetch_bundle
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE


def _environment(backend, bucket, **extra):
    backend.create_environment("us-east-1", "Local", {
        "ExecutionRoleArn": ROLE, "SourceBucketArn": f"arn:aws:s3:::{bucket}",
        "DagS3Path": "dags", "NetworkConfiguration": NETWORK, "AirflowVersion": "3.0.6",
        **extra})
    return _settled(backend)


def _settled(backend):
    """The environment once its pending change is over, advanced explicitly (the update's
    apply hook runs here)."""
    backend.advance("us-east-1", "Local")
    return backend.get_environment("us-east-1", "Local")


def test_fetch_bundle_takes_the_pinned_versions_and_the_dags(s3, bucket, backend, tmp_path):
    first = s3.put_object(Bucket=bucket, Key="requirements.txt", Body=b"one\n")["VersionId"]
    s3.put_object(Bucket=bucket, Key="requirements.txt", Body=b"two\n")
    s3.put_object(Bucket=bucket, Key="dags/sub/a.py", Body=b"# a\n")
    environment = _environment(backend, bucket, RequirementsS3Path="requirements.txt",
                               RequirementsS3ObjectVersion=first,
                               AirflowConfigurationOptions={"core.x": "1"})
    bundle = fetch_bundle(s3, environment, tmp_path / "bundle")
    assert bundle.requirements_text == "one\n"
    assert (bundle.dags_dir / "sub" / "a.py").read_text() == "# a\n"
    assert bundle.plugins_zip is None and bundle.startup_script is None
    assert bundle.airflow_config == {"core.x": "1"}


def test_a_failing_startup_script_fails_the_update(s3, bucket, tmp_path):
    applier = ContractApplier(s3, tmp_path / "apply", tmp_path / "cache")
    backend = MwaaBackend(tmp_path / "state", s3, create_delay=0, update_delay=0)
    _environment(backend, bucket)  # created without the hook: no Airflow install here
    backend.apply = applier
    bad = s3.put_object(Bucket=bucket, Key="startup.sh", Body=b"exit 3\n")["VersionId"]
    backend.update_environment("us-east-1", "Local", {
        "StartupScriptS3Path": "startup.sh", "StartupScriptS3ObjectVersion": bad})
    failed = _settled(backend)
    assert failed["Status"] == "UPDATE_FAILED"
    assert "startup" in failed["LastUpdate"]["Error"]["ErrorMessage"].lower()
    assert "StartupScriptS3ObjectVersion" not in failed  # MWAA kept the previous state


def test_bootstrap_puts_the_project_bundle_behind_an_available_environment(s3, tmp_path):
    root = tmp_path / "project"
    (root / "dags").mkdir(parents=True)
    (root / "dags" / "a.py").write_text("# a\n")
    (root / "requirements").mkdir()
    (root / "requirements" / "requirements.txt").write_text("six\n")
    (root / "mwaa-kit.toml").write_text('[environment]\nname = "Boot_Env"\n')
    project = load_project(root)
    environment = bootstrap(project, s3, tmp_path / "state")
    assert environment["Status"] == "AVAILABLE"
    assert environment["SourceBucketArn"] == "arn:aws:s3:::boot-env-mwaa-source"
    assert environment["RequirementsS3ObjectVersion"]
    assert "PluginsS3Path" not in environment  # no plugins/ folder
    keys = [item["Key"] for item in s3.list_objects_v2(
        Bucket="boot-env-mwaa-source")["Contents"]]
    assert sorted(keys) == ["dags/a.py", "requirements.txt"]
    again = bootstrap(project, s3, tmp_path / "state")  # idempotent
    assert again["RequirementsS3ObjectVersion"] == environment["RequirementsS3ObjectVersion"]


def test_compose_publishes_the_project_through_the_api_afresh_each_up(s3_endpoint, s3, endpoint,
                                                                      tmp_path):
    root = tmp_path / "project"
    (root / "dags").mkdir(parents=True)
    (root / "dags" / "a.py").write_text("# a\n")
    (root / "mwaa-kit.toml").write_text('[environment]\nname = "Stack_Env"\n')
    project = load_project(root)
    first = control_plane.publish(project, s3_endpoint, endpoint)
    assert first["Status"] == "AVAILABLE"
    assert first["SourceBucketArn"] == "arn:aws:s3:::stack-env-mwaa-source"
    assert "StartupScriptS3Path" not in first  # no startup.sh yet
    (root / "requirements").mkdir()
    (root / "requirements" / "startup.sh").write_text("export PROBE=1\n")
    again = control_plane.publish(project, s3_endpoint, endpoint)  # the next `up`
    assert again["Status"] == "AVAILABLE" and again["StartupScriptS3ObjectVersion"]
