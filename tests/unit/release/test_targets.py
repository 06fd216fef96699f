"""Targets: from mwaa-kit.toml, or from the CDK stack's outputs."""

from __future__ import annotations

import json

import boto3
import pytest

from mwaa_kit.project import PromotionTarget
from mwaa_kit.release.connect import (
    TargetError,
    connect,
    resolve_target,
    target_from_stack,
)

TEMPLATE = {
    "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
    "Outputs": {"EnvironmentName": {"Value": "FromStack"}, "Region": {"Value": "us-east-1"},
                "SourceBucketName": {"Value": "bucket-from-stack"}},
}


def test_resolve_target():
    prod = PromotionTarget("prod", "Prod", "us-east-1")
    assert resolve_target({"prod": prod}, None) is prod
    with pytest.raises(TargetError, match="known: prod"):
        resolve_target({"prod": prod}, "staging")
    with pytest.raises(TargetError, match="choose a target"):
        resolve_target({"prod": prod, "dev": prod}, None)
    with pytest.raises(TargetError, match="no promotion target"):
        resolve_target({}, None)


def test_target_from_the_stack_outputs(s3_endpoint, monkeypatch):
    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="MwaaStack", TemplateBody=json.dumps(TEMPLATE))
    target = target_from_stack("MwaaStack", None, "us-east-1")
    assert (target.environment_name, target.region) == ("FromStack", "us-east-1")
    with pytest.raises(TargetError, match="cannot read stack"):
        target_from_stack("NoSuchStack", None, "us-east-1")


def test_a_role_is_assumed_and_a_local_endpoint_has_no_host_prefix(s3_endpoint, monkeypatch):
    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    target = PromotionTarget("prod", "Prod", "us-east-1",
                             role_arn="arn:aws:iam::123456789012:role/promoter")
    clients = connect(target)
    assert "as arn:aws:iam::123456789012:role/promoter" in clients.identity
    assert clients.mwaa.meta.config.inject_host_prefix is False
    assert clients.mwaa.meta.region_name == "us-east-1"
