"""Hardened S3 buckets: the environment's source bucket, the use case's data bucket, the
pipelines' artifact bucket, and the log bucket that receives their server access logs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Buckets(Construct):
    """A log bucket, plus a factory of buckets that all log to it and share one hardening:
    encryption (S3-managed, or the customer key when given), versioning, public access
    blocked, TLS required, owner-enforced objects, and a noncurrent-version lifecycle."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey | None,
        retained_versions: int,
        noncurrent_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.retained_versions = retained_versions
        self.noncurrent_days = noncurrent_days
        # S3 server access logging delivers only to SSE-S3 buckets (not SSE-KMS), so the
        # log bucket stays S3-managed whatever the others use.
        self.log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-logs",
                    expiration=Duration.days(365),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )
        Validations.of(self.log_bucket).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="This is the access-log bucket itself: logging it into itself would "
                "loop, and a second log bucket would only move the finding.",
            )
        )

    def bucket(
        self, construct_id: str, *, log_prefix: str, keep_versions: bool = True
    ) -> s3.Bucket:
        """A hardened bucket whose server access logs go to the log bucket under
        `log_prefix`. With `keep_versions`, the newest `retained_versions` noncurrent
        versions of an object are kept however old (what `mwaa-kit rollback` needs), older
        ones expire `noncurrent_days` after they were replaced."""
        rules = [
            s3.LifecycleRule(
                id="keep-rollback-versions",
                noncurrent_version_expiration=Duration.days(self.noncurrent_days),
                noncurrent_versions_to_retain=self.retained_versions if keep_versions else None,
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ]
        return s3.Bucket(
            self,
            construct_id,
            encryption=(
                s3.BucketEncryption.KMS if self.key else s3.BucketEncryption.S3_MANAGED
            ),
            encryption_key=self.key,
            bucket_key_enabled=True if self.key else None,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix=f"{log_prefix}/",
            lifecycle_rules=rules,
            removal_policy=RemovalPolicy.RETAIN,
        )
