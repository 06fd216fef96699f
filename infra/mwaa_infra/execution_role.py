"""The environment's execution role, least privilege.

Every statement names its resources. The few `*` that remain are there because AWS offers
nothing narrower; each carries a Sid saying why (WILDCARD_REASONS), the tests check that no
other statement holds a `*`, and the cdk-nag acknowledgements repeat the same reasons.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_infra.settings import Settings

# Sid -> why the statement cannot name a narrower resource.
WILDCARD_REASONS = {
    "SourceBucketObjects": "MWAA reads any object under its own source bucket (dags/, "
    "plugins.zip, requirements.txt, startup.sh): the '/*' is confined to that one bucket.",
    "OwnLogGroups": "MWAA creates one log group per log type named airflow-<envName>-<Type>: "
    "the '*' is the log type (and ':*' its streams), confined to this environment's prefix.",
    "DescribeLogGroups": "logs:DescribeLogGroups has no resource-level permissions; AWS "
    "requires Resource '*'.",
    "AccountPublicAccessBlock": "s3:GetAccountPublicAccessBlock is an account-level action "
    "with no resource type; AWS requires Resource '*'.",
    "PutMetrics": "cloudwatch:PutMetricData has no resource-level permissions; AWS requires "
    "Resource '*'.",
    "CelerySqsQueues": "MWAA creates the Celery queues (airflow-celery-*) in an AWS-owned "
    "account whose id is not known in advance: the account is '*', the region and name prefix "
    "are fixed.",
    "SqsAwsOwnedKey": "The Celery queues are encrypted with an AWS-owned KMS key in MWAA's "
    "account: NotResource excludes every key of this account, and only SQS may use it.",
    "ReadAirflowSecrets": "Secrets Manager appends a random 6-character suffix to every secret "
    "ARN, and the backend looks up any connection or variable under airflow/: the '*' is "
    "confined to the airflow/ prefix, read-only.",
}


class ExecutionRole(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        source_bucket: s3.IBucket,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        env = settings.env_name
        statements = [
            iam.PolicyStatement(
                sid="PublishMetrics",
                actions=["airflow:PublishMetrics"],
                resources=[
                    stack.format_arn(service="airflow", resource="environment", resource_name=env)
                ],
            ),
            # MWAA refuses an environment whose role may list every bucket of the account.
            iam.PolicyStatement(
                sid="NoListAllBuckets",
                effect=iam.Effect.DENY,
                actions=["s3:ListAllMyBuckets"],
                resources=[source_bucket.bucket_arn, source_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="SourceBucket",
                actions=[
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:GetBucketLocation",
                    "s3:GetBucketVersioning",
                    "s3:GetBucketPublicAccessBlock",
                    "s3:GetEncryptionConfiguration",
                ],
                resources=[source_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="SourceBucketObjects",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[source_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="OwnLogGroups",
                actions=[
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"airflow-{env}-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="DescribeLogGroups", actions=["logs:DescribeLogGroups"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="AccountPublicAccessBlock",
                actions=["s3:GetAccountPublicAccessBlock"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PutMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="CelerySqsQueues",
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                resources=[
                    stack.format_arn(
                        service="sqs", account="*", resource="airflow-celery-*",
                        arn_format=ArnFormat.NO_RESOURCE_NAME,
                    )
                ],
            ),
        ]
        via = [f"sqs.{stack.region}.amazonaws.com", f"s3.{stack.region}.amazonaws.com"]
        if key is None:
            statements.append(
                iam.PolicyStatement(
                    sid="SqsAwsOwnedKey",
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*",
                             "kms:Encrypt"],
                    not_resources=[
                        stack.format_arn(service="kms", region="*", resource="key",
                                         resource_name="*")
                    ],
                    conditions={"StringLike": {"kms:ViaService": [via[0]]}},
                )
            )
        else:
            statements.append(
                iam.PolicyStatement(
                    sid="OwnKmsKey",
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*",
                             "kms:Encrypt"],
                    resources=[key.key_arn],
                    conditions={"StringLike": {"kms:ViaService": via}},
                )
            )
        if settings.secrets_backend == "SecretsManager":
            statements.append(
                iam.PolicyStatement(
                    sid="ReadAirflowSecrets",
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[
                        stack.format_arn(
                            service="secretsmanager", resource="secret",
                            resource_name="airflow/*", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
        self.statements = statements
        self.role = iam.Role(
            self,
            "Role",
            description=f"Execution role of the MWAA environment {env}",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"),
                iam.ServicePrincipal("airflow-env.amazonaws.com"),
            ),
            inline_policies={"mwaa-execution": iam.PolicyDocument(statements=statements)},
        )

