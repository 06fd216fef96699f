"""The use case's data lake bucket and the role the DAGs' `aws_connection` assumes to write
to it (the connection's `role_arn` extra): the execution role itself gets no data access."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_infra.buckets import Buckets
from mwaa_infra.settings import Settings


class DataLake(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        buckets: Buckets,
        execution_role: iam.Role,
    ) -> None:
        super().__init__(scope, construct_id)
        # Ingested data is not the environment's bundle: noncurrent versions expire after
        # noncurrentDays without a minimum count to keep.
        self.bucket: s3.Bucket = buckets.bucket("DataBucket", log_prefix="data",
                                                keep_versions=False)
        self.writer_role = iam.Role(
            self,
            "WriterRole",
            description=f"Assumed by the DAGs of {settings.env_name} to write the data bucket",
            assumed_by=iam.ArnPrincipal(execution_role.role_arn),
            inline_policies={
                "data-bucket": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="ListDataBucket",
                            actions=["s3:ListBucket"],
                            resources=[self.bucket.bucket_arn],
                        ),
                        iam.PolicyStatement(
                            sid="ReadWriteDataObjects",
                            actions=["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                            resources=[self.bucket.arn_for_objects("*")],
                        ),
                    ]
                )
            },
        )
        if buckets.key is not None:
            # SSE-KMS objects: writing needs a data key, reading needs Decrypt.
            self.writer_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="UseBucketKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[buckets.key.key_arn],
                )
            )
        bucket_id = Stack.of(self).get_logical_id(self.bucket.node.default_child)
        Validations.of(self.writer_role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
                reason="The ingestion DAGs write objects under keys they choose (object/date "
                "partitions): any key, in the data bucket only.",
            )
        )
        execution_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AssumeDataWriterRole",
                actions=["sts:AssumeRole"],
                resources=[self.writer_role.role_arn],
            )
        )
