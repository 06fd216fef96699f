"""promote / rollback / history / lock against the MWAA emulator and moto S3 (in process)."""

from __future__ import annotations

import pytest

from mwaa_kit.project import load_project
from mwaa_kit.release import history
from mwaa_kit.release import lock as locking
from mwaa_kit.release.promote import PromotionError, promote, rollback
from tests.unit.mwaa_emulator.conftest import settled
from tests.unit.release.conftest import ENVIRONMENT, write


def _promote(project, clients, **options):
    target = project.targets["test"]
    return promote(project, target, clients, validate=False, poll_interval=0.05, **options)


def _keys(s3, bucket, prefix="dags/"):
    return sorted(item["Key"] for item in
                  s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def test_first_promotion_uploads_everything_and_updates(project, clients, environment, bucket,
                                                        s3, mwaa):
    outcome = _promote(project, clients)
    assert outcome.status == "AVAILABLE" and outcome.update_called
    assert _keys(s3, bucket) == ["dags/first.py", "dags/second.py"]
    env = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert env["PluginsS3Path"] == "plugins.zip" and env["PluginsS3ObjectVersion"]
    assert env["RequirementsS3Path"] == "requirements.txt"
    assert env["AirflowConfigurationOptions"] == {"core.default_task_retries": "1"}
    records = history.records(s3, bucket)
    assert [record["id"] for record in records] == [outcome.record["id"]]
    assert records[0]["bundle"]["PluginsS3ObjectVersion"] == env["PluginsS3ObjectVersion"]
    assert set(records[0]["dags"]) == {"dags/first.py", "dags/second.py"}
    assert locking.current_holder(s3, bucket) is None  # released


def test_a_second_promotion_is_a_no_op(project, clients, environment, bucket, s3):
    _promote(project, clients)
    calls = []
    clients.s3.meta.events.register("before-call.s3.PutObject",
                                    lambda **kwargs: calls.append("put"))
    clients.mwaa.meta.events.register("before-call.mwaa.UpdateEnvironment",
                                      lambda **kwargs: calls.append("update"))
    outcome = _promote(project, clients)
    assert outcome.status == "NOTHING_TO_DO" and outcome.plan.is_empty
    assert calls == [] and outcome.uploaded_bytes == 0
    assert len(history.records(s3, bucket)) == 1


def test_a_dag_change_uploads_only_that_dag_and_needs_no_update(project, clients, environment,
                                                                bucket, s3):
    _promote(project, clients)
    write(project.root, {"dags/second.py": "# second DAG, changed\n", "dags/third.py": "#\n"})
    (project.root / "dags" / "first.py").unlink()
    dry = _promote(project, clients, dry_run=True)
    assert dry.status == "DRY_RUN"
    assert _keys(s3, bucket) == ["dags/first.py", "dags/second.py"]  # the dry run changed nothing
    outcome = _promote(project, clients)
    assert outcome.status == "SYNCED" and not outcome.update_called
    assert sorted(change.name for change in outcome.plan.uploads) == ["dags/second.py",
                                                                      "dags/third.py"]
    assert [change.name for change in outcome.plan.deletions] == ["dags/first.py"]
    assert outcome.uploaded_bytes == len("# second DAG, changed\n") + 2
    assert _keys(s3, bucket) == ["dags/second.py", "dags/third.py"]


def test_requirements_or_config_changes_update_the_environment(project, clients, environment,
                                                               mwaa):
    _promote(project, clients)
    before = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    write(project.root, {"requirements/requirements.txt": "requests\nsix\n"})
    outcome = _promote(project, clients)
    assert outcome.update_called and outcome.status == "AVAILABLE"
    assert [change.name for change in outcome.plan.uploads] == ["requirements.txt"]
    after = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert after["RequirementsS3ObjectVersion"] != before["RequirementsS3ObjectVersion"]
    assert after["PluginsS3ObjectVersion"] == before["PluginsS3ObjectVersion"]


def test_refusals(project, clients, environment, bucket, s3, mwaa):
    held = locking.acquire(s3, bucket, "someone-else", "promote")
    with pytest.raises(locking.LockHeldError, match="someone-else"):
        _promote(project, clients)
    assert _keys(s3, bucket) == []  # nothing uploaded
    locking.release(s3, held)

    mwaa.update_environment(Name=ENVIRONMENT, MaxWorkers=3)
    with pytest.raises(PromotionError, match="UPDATING, not AVAILABLE"):
        _promote(project, clients)

    write(project.root, {"mwaa-kit.toml": (project.root / "mwaa-kit.toml").read_text()
                         .replace('"3.0.6"', '"2.10.3"')})
    older = load_project(project.root)
    settled(mwaa, ENVIRONMENT)  # the update above is over
    with pytest.raises(PromotionError, match="runs Airflow 3.0.6, the project Airflow 2.10.3"):
        _promote(older, clients)


def test_failed_update_then_rollback(project, clients, environment, bucket, s3, mwaa):
    good = _promote(project, clients)
    write(project.root, {"requirements/requirements.txt": "requests\nbroken\n",
                         "dags/first.py": "# first DAG, v2\n"})
    # MWAA fails the update when it cannot fetch the version: delete it as the update starts.
    def remove_new_version(params, **kwargs):
        version = params.get("RequirementsS3ObjectVersion")
        s3.delete_object(Bucket=bucket, Key="requirements.txt", VersionId=version)
    clients.mwaa.meta.events.register("provide-client-params.mwaa.UpdateEnvironment",
                                      remove_new_version)
    failed = _promote(project, clients)
    assert failed.status == "UPDATE_FAILED" and not failed.ok
    assert "does not exist" in failed.error["ErrorMessage"]
    env = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert env["Status"] == "UPDATE_FAILED"
    assert env["RequirementsS3ObjectVersion"] == good.record["bundle"][
        "RequirementsS3ObjectVersion"]
    clients.mwaa.meta.events.unregister("provide-client-params.mwaa.UpdateEnvironment",
                                        remove_new_version)
    with pytest.raises(PromotionError, match="UPDATE_FAILED"):
        _promote(project, clients)

    restored = rollback(project, project.targets["test"], clients, poll_interval=0.05)
    assert restored.status == "AVAILABLE" and restored.record["rolled_back_to"] == good.record[
        "id"]
    assert s3.get_object(Bucket=bucket, Key="dags/first.py")["Body"].read() == b"# first DAG\n"
    records = history.records(s3, bucket)
    assert [record["kind"] for record in records] == ["rollback", "promote", "promote"]


def test_rollback_to_a_named_record(project, clients, environment, bucket, s3, mwaa):
    first = _promote(project, clients)
    write(project.root, {"requirements/requirements.txt": "requests\nsix\n"})
    second = _promote(project, clients)
    assert second.status == "AVAILABLE"
    outcome = rollback(project, project.targets["test"], clients, poll_interval=0.05)
    assert outcome.record["rolled_back_to"] == first.record["id"]  # the one before
    env = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert env["RequirementsS3ObjectVersion"] == first.record["bundle"][
        "RequirementsS3ObjectVersion"]
    again = rollback(project, project.targets["test"], clients, to=second.record["id"],
                     poll_interval=0.05)
    assert again.update_called
    env = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert env["RequirementsS3ObjectVersion"] == second.record["bundle"][
        "RequirementsS3ObjectVersion"]
    with pytest.raises(history.HistoryError):
        rollback(project, project.targets["test"], clients, to="nope")


def test_a_promotion_interrupted_mid_upload_leaves_the_old_versions(project, clients,
                                                                   environment, bucket, s3,
                                                                   mwaa):
    _promote(project, clients)
    before = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    write(project.root, {"requirements/requirements.txt": "requests\nsix\n",
                         "plugins/operators/thing.py": "VALUE = 2\n"})

    def interrupt(params, **kwargs):
        if params["Key"] == "requirements.txt":
            raise KeyboardInterrupt  # as Ctrl-C between two uploads
    clients.s3.meta.events.register("provide-client-params.s3.PutObject", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _promote(project, clients)
    clients.s3.meta.events.unregister("provide-client-params.s3.PutObject", interrupt)
    after = mwaa.get_environment(Name=ENVIRONMENT)["Environment"]
    assert after["Status"] == "AVAILABLE"
    for member in ("PluginsS3ObjectVersion", "RequirementsS3ObjectVersion"):
        assert after[member] == before[member]
    assert locking.current_holder(s3, bucket) is None  # released on the way out
    assert _promote(project, clients).status == "AVAILABLE"  # and the next one goes through


def test_break_lock_removes_a_killed_promotions_lock(project, clients, environment, bucket, s3):
    locking.acquire(s3, bucket, "killed-run", "promote")
    with pytest.raises(locking.LockHeldError, match="--break-lock"):
        _promote(project, clients)
    assert _promote(project, clients, break_lock=True).status == "AVAILABLE"
    assert locking.current_holder(s3, bucket) is None
