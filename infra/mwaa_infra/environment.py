"""The MWAA environment itself. There is no L2 construct for MWAA: this is
`aws_mwaa.CfnEnvironment`, with every parameter coming from Settings."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_infra.network import Network
from mwaa_infra.settings import Settings
from mwaa_kit import catalog

LOG_TYPES = ("dag_processing_logs", "scheduler_logs", "task_logs", "webserver_logs",
             "worker_logs")


def airflow_configuration_options(settings: Settings) -> dict[str, str]:
    """The options MWAA gets: the project's (forced ones were refused when the settings were
    read), plus MWAA's Secrets Manager backend with its prefixes when secretsBackend asks for
    it and the project did not configure the backend itself."""
    options = dict(settings.airflow_config)
    if settings.secrets_backend == "SecretsManager":
        facts = catalog.mwaa()
        options.setdefault("secrets.backend", facts.secrets_backend)
        options.setdefault("secrets.backend_kwargs", json.dumps(facts.secrets_backend_kwargs))
    return dict(sorted(options.items()))


class Environment(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        network: Network,
        source_bucket: s3.IBucket,
        execution_role: iam.IRole,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        logging = mwaa.CfnEnvironment.LoggingConfigurationProperty(
            **{
                log_type: mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(
                    enabled=True, log_level=settings.log_level
                )
                for log_type in LOG_TYPES
            }
        )
        bundle: dict[str, str] = {}
        # MWAA reloads plugins.zip, requirements.txt and startup.sh only when their S3 object
        # version changes, so each is configured together with its version or not at all
        # (MWAA refuses a path whose object does not exist yet, e.g. on the first deploy).
        for name in ("plugins", "requirements", "startup_script"):
            version = getattr(settings, f"{name}_s3_object_version")
            if version:
                bundle[f"{name}_s3_path"] = getattr(settings, f"{name}_s3_path")
                bundle[f"{name}_s3_object_version"] = version
        self.cfn = mwaa.CfnEnvironment(
            self,
            "Environment",
            name=settings.env_name,
            airflow_version=settings.airflow_version,
            environment_class=settings.environment_class,
            execution_role_arn=execution_role.role_arn,
            source_bucket_arn=source_bucket.bucket_arn,
            dag_s3_path=settings.dag_s3_path,
            **bundle,
            network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                security_group_ids=[network.security_group.security_group_id],
                subnet_ids=network.subnet_ids,
            ),
            logging_configuration=logging,
            max_workers=settings.max_workers,
            min_workers=settings.min_workers,
            schedulers=settings.schedulers,
            webserver_access_mode=settings.webserver_access_mode,
            airflow_configuration_options=airflow_configuration_options(settings) or None,
            kms_key=key.key_arn if key else None,
            tags=dict(settings.env_tags) or None,
        )
        # The role's policy is inline, so it exists before MWAA validates the role.
        self.cfn.node.add_dependency(execution_role)
