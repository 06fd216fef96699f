"""The data plane's tokens: issued by boto3's CreateCliToken / CreateWebLoginToken, good for
their own kind and environment for a minute, aged through the state manager (no waiting)."""

from __future__ import annotations

import pytest

from mwaa_kit.emulators.mwaa.tokens import TokenRefused, TokenStore
from tests.unit.mwaa_emulator.conftest import NETWORK, ROLE, admin, settled


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_token_opens_its_environment_for_a_minute_then_nothing():
    clock = Clock()
    store = TokenStore(clock)
    token = store.issue("cli", "us-east-1", "Env1")
    clock.now += 60
    grant = store.redeem("cli", token)
    assert (grant.region, grant.name) == ("us-east-1", "Env1")
    assert store.redeem("cli", token) == grant  # shown twice within its minute
    clock.now += 0.5
    with pytest.raises(TokenRefused, match="expired"):
        store.redeem("cli", token)


def test_a_token_of_another_kind_or_unknown_is_refused():
    store = TokenStore(Clock())
    web = store.issue("web", "us-east-1", "Env1")
    for kind, token in (("cli", web), ("web", "forged"), ("web", "")):
        with pytest.raises(TokenRefused, match="unknown"):
            store.redeem(kind, token)


def test_the_clock_moves_on_only():
    store = TokenStore(Clock())
    token = store.issue("web", "us-east-1", "Env1")
    assert store.advance_clock(61) == 61
    with pytest.raises(TokenRefused):
        store.redeem("web", token)
    with pytest.raises(ValueError):
        store.advance_clock(-1)


def test_boto3_tokens_are_redeemed_by_the_backend_until_the_admin_clock_ages_them(
        mwaa, s3, bucket, backend, endpoint):
    mwaa.create_environment(Name="Env1", ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::"
                            f"{bucket}", DagS3Path="dags", NetworkConfiguration=NETWORK,
                            AirflowVersion="3.0.6")
    settled(mwaa, "Env1")
    cli = mwaa.create_cli_token(Name="Env1")["CliToken"]
    web = mwaa.create_web_login_token(Name="Env1")["WebToken"]
    assert backend.redeem_token("cli", cli)["Name"] == "Env1"
    assert backend.redeem_token("web", web)["Name"] == "Env1"
    with pytest.raises(TokenRefused):
        backend.redeem_token("web", cli)
    assert admin(endpoint, "advance-token-clock", {"seconds": 61}) == (200, {"advanced": 61.0})
    with pytest.raises(TokenRefused, match="expired"):
        backend.redeem_token("cli", cli)
    status, answer = admin(endpoint, "advance-token-clock", {"seconds": "soon"})
    assert status == 400 and "seconds" in answer["message"]


def test_a_token_of_a_deleted_environment_opens_nothing(mwaa, s3, bucket, backend, endpoint):
    mwaa.create_environment(Name="Env1", ExecutionRoleArn=ROLE, SourceBucketArn=f"arn:aws:s3:::"
                            f"{bucket}", DagS3Path="dags", NetworkConfiguration=NETWORK,
                            AirflowVersion="3.0.6")
    settled(mwaa, "Env1")
    cli = mwaa.create_cli_token(Name="Env1")["CliToken"]
    mwaa.delete_environment(Name="Env1")
    assert admin(endpoint, "advance", {"name": "Env1"}) == (200, {"Name": "Env1", "Status": None})
    with pytest.raises(TokenRefused, match="not found"):
        backend.redeem_token("cli", cli)
