"""The emulator's state manager: when CREATING, UPDATING and DELETING end (after seconds, after
reads, or when advanced), set from Python or over the admin endpoints, with no sleeping."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.exceptions import ValidationError
from mwaa_kit.emulators.mwaa.transitions import StateManager, Transition, due
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, admin


def _create(client, bucket, name="Env1"):
    client.create_environment(Name=name, ExecutionRoleArn=ROLE,
                              SourceBucketArn=f"arn:aws:s3:::{bucket}", DagS3Path="dags",
                              NetworkConfiguration=NETWORK, AirflowVersion="3.0.6")


def _status(mwaa, name="Env1") -> str:
    return mwaa.get_environment(Name=name)["Environment"]["Status"]


def test_each_model_says_when_a_change_is_over():
    pending = {"since": 100.0, "reads": 0}
    assert not Transition(seconds=5).done(pending, 104.9)
    assert Transition(seconds=5).done(pending, 105.0)
    assert not Transition("reads", reads=2).done(pending, 1e9)
    pending["reads"] = 2
    assert Transition("reads", reads=2).done(pending, 0)
    assert not Transition("explicit").done(pending, 1e9)


def test_a_change_keeps_the_model_it_began_under_or_its_delay_tag():
    manager = StateManager(create_delay=5, update_delay=5, delete_delay=2)
    manager.set_transition(Transition("explicit"))
    explicit = manager.begin("update", {"Tags": {}}, {}, now=100.0)
    tagged = manager.begin("update", {"Tags": {"mwaa-kit:update-delay": "3"}}, {}, now=100.0)
    ignored = manager.begin("update", {"Tags": {"mwaa-kit:update-delay": "soon"}}, {}, 100.0)
    manager.set_transition(Transition(seconds=0))  # for what begins from now on
    assert not due(explicit, 1e9) and not due(ignored, 1e9)
    assert not due(tagged, 102.0) and due(tagged, 103.0)
    assert due(manager.begin("update", {}, {}, now=100.0), 100.0)


@pytest.mark.parametrize("value", [None, {"progression": "later"}, {"progression": "reads",
                                   "reads": -1}, {"progression": "time", "seconds": "x"}])
def test_a_bad_transition_is_refused(value):
    with pytest.raises(ValidationError):
        Transition.from_json(value)


def test_time_based_transitions_are_the_default(tmp_path, s3, bucket):
    slow = MwaaBackend(tmp_path / "slow", s3, create_delay=3600)
    body = {"ExecutionRoleArn": ROLE, "SourceBucketArn": f"arn:aws:s3:::{bucket}",
            "DagS3Path": "dags", "NetworkConfiguration": NETWORK}
    slow.create_environment("us-east-1", "Env1", body)
    for _ in range(3):  # reads do not end a time-based create
        assert slow.get_environment("us-east-1", "Env1")["Status"] == "CREATING"
    # A change follows the model it began under: Env2 created under zero seconds ends
    # at once though the default is back to an hour.
    slow.transitions.set_transition(Transition(seconds=0.0), ("create",))
    slow.create_environment("us-east-1", "Env2", body)
    slow.transitions.set_transition(Transition(seconds=3600), ("create",))
    assert slow.get_environment("us-east-1", "Env2")["Status"] == "AVAILABLE"
    assert slow.get_environment("us-east-1", "Env1")["Status"] == "CREATING"
    assert slow.advance("us-east-1", "Env1") == "AVAILABLE"
    assert slow.transitions.model("update") == Transition("time", seconds=5.0)


def test_counted_transitions_end_after_their_reads(mwaa, bucket, backend):
    backend.transitions.set_transition(Transition("reads", reads=3), ("create",))
    _create(mwaa, bucket)
    assert [_status(mwaa) for _ in range(4)] == ["CREATING"] * 3 + ["AVAILABLE"]


def test_explicit_transitions_over_the_admin_endpoints(mwaa, bucket, endpoint):
    status, body = admin(endpoint, "set-transition", {
        "kind": "update", "transition": {"progression": "explicit"}})
    assert status == 200
    assert body["previous"] == {"update": {"progression": "reads", "seconds": 0.0, "reads": 1}}
    _create(mwaa, bucket)
    assert [_status(mwaa) for _ in range(2)] == ["CREATING", "AVAILABLE"]  # creates: counted
    mwaa.update_environment(Name="Env1", MaxWorkers=4)
    assert [_status(mwaa) for _ in range(5)] == ["UPDATING"] * 5
    assert admin(endpoint, "advance", {"name": "Env1"}) == (
        200, {"Name": "Env1", "Status": "AVAILABLE"})
    assert mwaa.get_environment(Name="Env1")["Environment"]["MaxWorkers"] == 4
    status, body = admin(endpoint, "advance", {"name": "Env1"})  # nothing pending
    assert (status, body["__type"]) == (400, "ValidationException")

    admin(endpoint, "set-transition", {"transition": {"progression": "explicit"}})
    mwaa.delete_environment(Name="Env1")
    assert _status(mwaa) == "DELETING"
    assert admin(endpoint, "advance", {"name": "Env1"}) == (200, {"Name": "Env1",
                                                                    "Status": None})
    with pytest.raises(ClientError):
        mwaa.get_environment(Name="Env1")
    status, body = admin(endpoint, "set-transition", {"kind": "resize", "transition": {
        "progression": "explicit"}})
    assert (status, body["__type"]) == (400, "ValidationException")
