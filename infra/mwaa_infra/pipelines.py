"""Delivery: a provisioning pipeline that redeploys this stack, and a project pipeline that
validates, tests and promotes the project's bundle to this environment.

The source is a CodeCommit repository or a GitHub repository through a CodeConnections
connection (CodePipeline + CodeBuild), or, for teams whose CI runs outside AWS, a role that
GitHub Actions assumes with OIDC.
"""

from __future__ import annotations

import shlex

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mwaa_infra.settings import Settings

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The CDK bootstrap's default qualifier: `cdk deploy` assumes these roles, not the caller.
CDK_QUALIFIER = "hnb659fds"

# Context keys the provisioning build re-reads from the live environment, so a redeploy
# keeps what `mwaa-kit promote` installed since (context key, get-environment field, the
# Settings attribute).
LIVE_VERSIONS = (
    ("pluginsS3ObjectVersion", "PluginsS3ObjectVersion", "plugins_s3_object_version"),
    ("requirementsS3ObjectVersion", "RequirementsS3ObjectVersion",
     "requirements_s3_object_version"),
    ("startupScriptS3ObjectVersion", "StartupScriptS3ObjectVersion",
     "startup_script_s3_object_version"),
)
_BUILD_ENV = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


def deploy_commands(settings: Settings) -> list[str]:
    """Shell lines that redeploy the stack with the same full context; the three bundle
    object versions come from the live environment when it has them."""
    lines = ['CTX=""']
    for key, field, attribute in LIVE_VERSIONS:
        pinned = getattr(settings, attribute) or ""
        lines.append(
            f"V=$(aws mwaa get-environment --name {shlex.quote(settings.env_name)} "
            f"--query Environment.{field} --output text 2>/dev/null || true); "
            f'if [ -z "$V" ] || [ "$V" = None ]; then V={shlex.quote(pinned)}; fi; '
            f'if [ -n "$V" ]; then CTX="$CTX -c {key}=$V"; fi'
        )
    # The build checks out the project repository: its infra/ runs, its root is the project.
    fixed = settings.context_arguments(
        skip=("projectDir", *(key for key, _, _ in LIVE_VERSIONS))
    )
    lines.append(
        f"cd infra && npx cdk deploy {shlex.quote(settings.stack_name)} "
        f"--require-approval never -c projectDir=.. {fixed} $CTX"
    )
    return lines


class Delivery(Construct):
    """The pipelines (or the GitHub Actions role) of one environment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        source_bucket: s3.IBucket,
        artifact_bucket: s3.IBucket | None,
        execution_role: iam.IRole,
        key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.source_bucket = source_bucket
        self.execution_role = execution_role
        self.key = key
        stack = Stack.of(self)
        self.environment_arn = stack.format_arn(
            service="airflow", resource="environment", resource_name=settings.env_name
        )
        # The stack id CloudFormation appends is unknown before it exists: '/*'.
        self.stack_arn = stack.format_arn(
            service="cloudformation", resource="stack",
            resource_name=f"{settings.stack_name}/*",
        )
        self.pipelines: dict[str, codepipeline.Pipeline] = {}
        self.github_actions_role: iam.Role | None = None
        if settings.source == "github-actions":
            self.github_actions_role = self._github_actions_role()
        elif settings.source in ("codecommit", "github"):
            assert artifact_bucket is not None
            self.artifact_bucket = artifact_bucket
            self.pipelines["provisioning"] = self._provisioning_pipeline()
            self.pipelines["project"] = self._project_pipeline()
            self._acknowledge_cdk_grants()

    # ---- permissions shared by the CodeBuild roles and the GitHub Actions role ----------

    def _promotion_statements(self) -> list[iam.PolicyStatement]:
        """What `mwaa-kit promote` does: upload the bundle to the source bucket, read and
        update this one environment (update-environment passes the execution role)."""
        statements = [
            iam.PolicyStatement(
                sid="BundleBucket",
                actions=["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"],
                resources=[self.source_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="BundleObjects",
                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
                         "s3:DeleteObject"],
                resources=[self.source_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="UpdateEnvironment",
                actions=["airflow:GetEnvironment", "airflow:UpdateEnvironment"],
                resources=[self.environment_arn],
            ),
            iam.PolicyStatement(
                sid="ReadStackOutputs",
                actions=["cloudformation:DescribeStacks"],
                resources=[self.stack_arn],
            ),
            iam.PolicyStatement(
                sid="PassExecutionRole",
                actions=["iam:PassRole"],
                resources=[self.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}},
            ),
        ]
        if self.key is not None:
            statements.append(
                iam.PolicyStatement(
                    sid="BundleKey",
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=[self.key.key_arn],
                )
            )
        return statements

    def _deployment_statements(self) -> list[iam.PolicyStatement]:
        """What `cdk deploy` needs from its caller: the bootstrap roles do the work."""
        stack = Stack.of(self)
        return [
            iam.PolicyStatement(
                sid="AssumeCdkBootstrapRoles",
                actions=["sts:AssumeRole"],
                resources=[
                    f"arn:{stack.partition}:iam::{stack.account}:role/cdk-{CDK_QUALIFIER}-*-"
                    f"{stack.account}-{stack.region}"
                ],
            ),
            iam.PolicyStatement(
                sid="ReadLiveBundleVersions",
                actions=["airflow:GetEnvironment"],
                resources=[self.environment_arn],
            ),
        ]

    def _acknowledge_bootstrap_roles(self, construct: Construct) -> None:
        stack = Stack.of(self)
        Validations.of(construct).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:{stack.partition}:iam::{stack.account}:"
                f"role/cdk-{CDK_QUALIFIER}-*-{stack.account}-{stack.region}]",
                reason="cdk deploy assumes the CDK bootstrap roles of this account and region "
                "(deploy, file-publishing, image-publishing, lookup): the '*' is the role kind; "
                "the qualifier, account and region are fixed.",
            )
        )

    def _acknowledge_promotion(self, construct: Construct) -> None:
        stack = Stack.of(self)
        Validations.of(construct).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:{stack.partition}:cloudformation:"
                f"{stack.region}:{stack.account}:stack/{self.settings.stack_name}/*]",
                reason="mwaa-kit promote reads this stack's outputs; the '*' is the stack id "
                "CloudFormation appends to the (fixed) stack name.",
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{_logical_id(self.source_bucket)}.Arn>/*]",
                reason="Promotion writes any key of the bundle (dags/..., plugins.zip, "
                "requirements.txt, startup.sh) in the environment's own source bucket only.",
            )
        )

    def _acknowledge_cdk_grants(self) -> None:
        """The grants CodePipeline and CodeBuild's L2 constructs write on the artifact
        bucket: read/write of the pipeline's own artifacts, in that bucket only."""
        bucket = _logical_id(self.artifact_bucket)
        why = ("CodePipeline's generated grant on its own artifact bucket (each execution "
               "writes and reads artifacts under fresh keys); no other bucket is reachable.")
        Validations.of(self).acknowledge(
            *[
                Acknowledgment(id=f"AwsSolutions-IAM5[Action::s3:{action}]", reason=why)
                for action in ("GetObject*", "GetBucket*", "List*", "Abort*", "DeleteObject*")
            ],
            Acknowledgment(id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]", reason=why),
        )
        if self.key is not None:
            Validations.of(self).acknowledge(
                *[
                    Acknowledgment(
                        id=f"AwsSolutions-IAM5[Action::kms:{action}]",
                        reason="CDK's generated grant on the environment's own customer key, "
                        "which encrypts the pipeline artifacts: the action family, not the key, "
                        "is wildcarded.",
                    )
                    for action in ("GenerateDataKey*", "ReEncrypt*")
                ]
            )

    def _acknowledge_build_logs(self, project: codebuild.PipelineProject) -> None:
        stack = Stack.of(self)
        name = _logical_id(project)
        prefix = f"arn:{stack.partition}:{{}}:{stack.region}:{stack.account}:"
        Validations.of(project).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::" + prefix.format("logs")
                + f"log-group:/aws/codebuild/<{name}>:*]",
                reason="CodeBuild's generated grant: the log streams (':*') of this project's "
                "own log group.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::" + prefix.format("codebuild")
                + f"report-group/<{name}>-*]",
                reason="CodeBuild's generated grant: test report groups named after this "
                "project only.",
            ),
        )

    # ---- CodePipeline sources ---------------------------------------------------------

    def _source_action(self, output: codepipeline.Artifact) -> codepipeline.IAction:
        settings = self.settings
        if settings.source == "codecommit":
            # Both pipelines follow the same (existing) repository: import it once.
            repository = self.node.try_find_child("Repository") or \
                codecommit.Repository.from_repository_name(
                    self, "Repository", settings.repository_name
                )
            return actions.CodeCommitSourceAction(
                action_name="Source",
                repository=repository,
                branch=settings.branch,
                output=output,
                trigger=actions.CodeCommitTrigger.EVENTS,
            )
        owner, name = settings.github_repository.split("/", 1)
        return actions.CodeStarConnectionsSourceAction(
            action_name="Source",
            connection_arn=settings.connection_arn,
            owner=owner,
            repo=name,
            branch=settings.branch,
            output=output,
        )

    def _project(self, construct_id: str, description: str, commands: dict[str, list[str]],
                 statements: list[iam.PolicyStatement]) -> codebuild.PipelineProject:
        project = codebuild.PipelineProject(
            self,
            construct_id,
            description=description,
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=codebuild.ComputeType.SMALL,
                environment_variables={
                    name: codebuild.BuildEnvironmentVariable(value=value)
                    for name, value in _BUILD_ENV.items()
                },
            ),
            encryption_key=self.key,
            timeout=Duration.minutes(60),
            build_spec=codebuild.BuildSpec.from_object(
                {
                    "version": "0.2",
                    "phases": {
                        "install": {
                            "runtime-versions": {
                                "python": self.settings.version.python_version,
                                "nodejs": "20",
                            },
                            "commands": commands["install"],
                        },
                        "build": {"commands": commands["build"]},
                    },
                }
            ),
        )
        for statement in statements:
            project.add_to_role_policy(statement)
        self._acknowledge_build_logs(project)
        if self.key is None:
            Validations.of(project).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-CB4",
                    reason="encryption=s3: build artifacts are encrypted with the AWS-managed "
                    "S3 key; -c encryption=kms gives the projects the customer key.",
                )
            )
        return project

    @staticmethod
    def _in_venv(install: list[str], build: list[str]) -> dict[str, list[str]]:
        """Build phases run in a fresh virtualenv: `install` fills it, `build` uses it."""
        activate = ". /tmp/venv/bin/activate"
        return {"install": ["python -m venv /tmp/venv", activate, *install],
                "build": [activate, *build]}

    def _pipeline(self, construct_id: str, name: str,
                  builds: list[tuple[str, str, codebuild.PipelineProject]],
                  ) -> codepipeline.Pipeline:
        """A pipeline of the repository source, then one CodeBuild stage per
        (stage name, action name, project)."""
        source = codepipeline.Artifact("Source")
        stages = [codepipeline.StageProps(stage_name="Source",
                                          actions=[self._source_action(source)])]
        stages += [codepipeline.StageProps(
            stage_name=stage_name,
            actions=[actions.CodeBuildAction(action_name=action_name, project=project,
                                             input=source)],
        ) for stage_name, action_name, project in builds]
        return codepipeline.Pipeline(
            self,
            construct_id,
            pipeline_name=name,
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifact_bucket,
            restart_execution_on_update=construct_id == "Provisioning",
            stages=stages,
        )

    def _provisioning_pipeline(self) -> codepipeline.Pipeline:
        settings = self.settings
        deploy = self._project(
            "DeployProject",
            f"Redeploys the {settings.stack_name} stack of MWAA environment {settings.env_name}",
            self._in_venv(["pip install -e '.[infra]'", "npm ci --prefix infra"],
                          deploy_commands(settings)),
            self._deployment_statements(),
        )
        self._acknowledge_bootstrap_roles(deploy)
        return self._pipeline("Provisioning", f"{settings.env_name}-provisioning",
                              [("Deploy", "CdkDeploy", deploy)])

    def _project_pipeline(self) -> codepipeline.Pipeline:
        settings = self.settings
        validate = self._project(
            "ValidateProject",
            f"Validates and tests the project bundle of MWAA environment {settings.env_name}",
            self._in_venv([settings.install_command],
                          ["mwaa-kit validate", settings.test_command]),
            [],
        )
        promote = self._project(
            "PromoteProject",
            f"Promotes the validated bundle to MWAA environment {settings.env_name}",
            self._in_venv([settings.install_command],
                          [f"mwaa-kit promote --target {shlex.quote(settings.promote_target)}"]),
            self._promotion_statements(),
        )
        self._acknowledge_promotion(promote)
        return self._pipeline("Project", f"{settings.env_name}-project",
                              [("Validate", "ValidateAndTest", validate),
                               ("Promote", "Promote", promote)])

    # ---- GitHub Actions with OIDC -----------------------------------------------------

    def _github_actions_role(self) -> iam.Role:
        settings = self.settings
        if settings.github_oidc_provider_arn:
            provider_arn = settings.github_oidc_provider_arn
        else:
            # One per account: pass -c githubOidcProviderArn=... when it already exists.
            provider = iam.OidcProviderNative(
                self, "GitHubOidcProvider", url=GITHUB_OIDC_URL, client_ids=["sts.amazonaws.com"]
            )
            provider_arn = provider.oidc_provider_arn
        role = iam.Role(
            self,
            "GitHubActionsRole",
            description=f"Assumed by GitHub Actions of {settings.github_repository} to deploy "
            f"and promote MWAA environment {settings.env_name}",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC_HOST}:sub": f"repo:{settings.github_repository}:ref:"
                        f"refs/heads/{settings.branch}",
                    }
                },
            ),
            inline_policies={
                "deliver": iam.PolicyDocument(
                    statements=self._promotion_statements() + self._deployment_statements()
                )
            },
        )
        self._acknowledge_bootstrap_roles(role)
        self._acknowledge_promotion(role)
        return role


def _logical_id(construct: Construct) -> str:
    """The logical id cdk-nag writes in a finding for a construct's ARN (`<Id.Arn>`)."""
    return Stack.of(construct).get_logical_id(construct.node.default_child)
