"""The stack of one MWAA environment, and the app that holds it (with cdk-nag)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from mwaa_infra.buckets import Buckets
from mwaa_infra.data import DataLake
from mwaa_infra.environment import Environment
from mwaa_infra.execution_role import WILDCARD_REASONS, ExecutionRole
from mwaa_infra.network import Network
from mwaa_infra.pipelines import Delivery
from mwaa_infra.settings import CONTEXT_KEYS, Settings, load_settings


class MwaaStack(cdk.Stack):
    """Network, buckets, execution role, the MWAA environment, the data lake and delivery."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=settings.stack_name,
            description=f"MWAA environment {settings.env_name} (Airflow "
            f"{settings.airflow_version}) provisioned by mwaa-kit",
            env=cdk.Environment(account=settings.account, region=settings.region),
        )
        self.settings = settings
        self.key = self._key() if settings.encryption == "kms" else None
        self.buckets = Buckets(
            self,
            "Buckets",
            key=self.key,
            retained_versions=settings.retained_versions,
            noncurrent_days=settings.noncurrent_days,
        )
        self.source_bucket = self.buckets.bucket("SourceBucket", log_prefix="source")
        self.network = Network(self, "Network", settings=settings,
                               log_bucket=self.buckets.log_bucket)
        self.execution = ExecutionRole(
            self, "Execution", settings=settings, source_bucket=self.source_bucket, key=self.key
        )
        self._acknowledge_execution_role()
        self.mwaa = Environment(
            self,
            "Mwaa",
            settings=settings,
            network=self.network,
            source_bucket=self.source_bucket,
            execution_role=self.execution.role,
            key=self.key,
        )
        self.data = None
        if settings.data_bucket:
            self.data = DataLake(self, "Data", settings=settings, buckets=self.buckets,
                                 execution_role=self.execution.role)
        artifact_bucket = None
        if settings.source in ("codecommit", "github"):
            artifact_bucket = self.buckets.bucket("ArtifactBucket", log_prefix="artifacts",
                                                  keep_versions=False)
        self.delivery = Delivery(
            self,
            "Delivery",
            settings=settings,
            source_bucket=self.source_bucket,
            artifact_bucket=artifact_bucket,
            execution_role=self.execution.role,
            key=self.key,
        )
        self._outputs()
        for name, value in settings.env_tags.items():
            cdk.Tags.of(self).add(name, value)

    def _key(self) -> kms.Key:
        key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the buckets, logs and queues of MWAA environment "
            f"{self.settings.env_name}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # MWAA's log groups are encrypted with the environment's key: CloudWatch Logs must be
        # able to use it, for this environment's log groups only.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisEnvironment",
                principals=[iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                         "kms:Describe*"],
                resources=["*"],  # in a key policy, '*' means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": self.format_arn(
                            service="logs", resource="log-group",
                            resource_name=f"airflow-{self.settings.env_name}-*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        return key

    def _acknowledge_execution_role(self) -> None:
        """cdk-nag reports each wildcard of the execution role; each gets the reason its
        statement's Sid has in WILDCARD_REASONS."""
        bucket = self.get_logical_id(self.source_bucket.node.default_child)
        env = self.settings.env_name
        arn = f"arn:{self.partition}:{{}}:{self.region}:{self.account}:{{}}"
        findings = {
            f"Resource::<{bucket}.Arn>/*": "SourceBucketObjects",
            "Resource::" + arn.format("logs", f"log-group:airflow-{env}-*"): "OwnLogGroups",
            "Resource::*": None,
            f"Resource::arn:{self.partition}:sqs:{self.region}:*:airflow-celery-*":
                "CelerySqsQueues",
            "Action::kms:GenerateDataKey*": None,
        }
        if self.settings.secrets_backend == "SecretsManager":
            findings["Resource::" + arn.format("secretsmanager", "secret:airflow/*")] = (
                "ReadAirflowSecrets"
            )
        reasons = []
        for finding, sid in findings.items():
            if sid:
                reason = WILDCARD_REASONS[sid]
            elif finding == "Resource::*":
                reason = " ".join(WILDCARD_REASONS[s] for s in
                                  ("DescribeLogGroups", "AccountPublicAccessBlock", "PutMetrics"))
            else:
                reason = ("GenerateDataKey* covers GenerateDataKeyWithoutPlaintext, which SQS "
                          "server-side encryption uses; it is limited to the SQS (and S3) "
                          "services by kms:ViaService.")
            reasons.append(cdk.Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason))
        cdk.Validations.of(self.execution.role).acknowledge(*reasons)

    def _outputs(self) -> None:
        settings = self.settings
        outputs = {
            "EnvironmentName": (self.mwaa.cfn.ref, "MWAA environment name"),
            "SourceBucketName": (self.source_bucket.bucket_name, "the environment's S3 bucket"),
            "Region": (self.region, "the environment's region"),
            "ExecutionRoleArn": (self.execution.role.role_arn, "the execution role"),
            "WebserverUrl": (self.mwaa.cfn.attr_webserver_url, "the Airflow UI host"),
        }
        if self.data is not None:
            outputs["DataBucketName"] = (self.data.bucket.bucket_name, "the data lake bucket")
            outputs["DataWriterRoleArn"] = (
                self.data.writer_role.role_arn,
                "role_arn of the aws_connection that writes the data bucket",
            )
        for name, pipeline in self.delivery.pipelines.items():
            outputs[f"{name.capitalize()}PipelineName"] = (
                pipeline.pipeline_name, f"the {name} pipeline"
            )
        if self.delivery.github_actions_role is not None:
            outputs["GitHubActionsRoleArn"] = (
                self.delivery.github_actions_role.role_arn,
                f"role-to-assume of GitHub Actions in {settings.github_repository}",
            )
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)


# Feature flags this app is written against (set here, not only in cdk.json, so that tests and
# `python app.py` synthesize the same template as the CLI).
FEATURE_FLAGS = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/core:checkSecretUsage": True,
    "@aws-cdk/aws-codepipeline:defaultPipelineTypeToV2": True,
    "@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": False,
    "@aws-cdk/core:enablePartitionLiterals": True,
}


def availability_zones_key(settings: Settings) -> str:
    return f"availability-zones:account={settings.account}:region={settings.region}"


def build_app(
    context: dict[str, Any] | None = None,
    *,
    outdir: str | None = None,
    base_dir: Path | str | None = None,
    nag: bool = True,
) -> tuple[cdk.App, MwaaStack]:
    """The app with its one stack. `context` adds to what the CDK CLI passed (tests use it);
    the availability zones are seeded into the context so synth never looks them up."""
    app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    given = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    settings = load_settings(
        {key: value for key, value in given.items() if value is not None},
        base_dir=base_dir or Path(__file__).resolve().parent.parent,
    )
    zones_key = availability_zones_key(settings)
    if app.node.try_get_context(zones_key) is None:
        app.node.set_context(zones_key, list(settings.availability_zones))
    stack = MwaaStack(app, settings.stack_name, settings=settings)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
