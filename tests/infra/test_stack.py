"""The synthesized template, checked with aws_cdk.assertions: bucket hardening, the
execution role's scoping, each parameter's effect, both pipeline sources and the GitHub
Actions role. Every synth here also runs cdk-nag (it fails on an unacknowledged finding)."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match
from mwaa_infra.execution_role import WILDCARD_REASONS
from mwaa_infra.stack import build_app

from mwaa_kit import catalog  # noqa: E402

from .conftest import CUSTOM  # noqa: E402


def _flat(value) -> str:
    """A CloudFormation value as text (intrinsics included) for substring checks."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _bucket(synth_result, logical_prefix: str) -> dict:
    found = [props for name, props in synth_result.resources("AWS::S3::Bucket").items()
             if name.startswith(logical_prefix)]
    assert len(found) == 1, logical_prefix
    return found[0]["Properties"]


def _execution_statements(synth_result) -> list[dict]:
    role = next(r for name, r in synth_result.resources("AWS::IAM::Role").items()
                if name.startswith("ExecutionRole"))
    statements = [s for policy in role["Properties"]["Policies"]
                  for s in policy["PolicyDocument"]["Statement"]]
    for name, policy in synth_result.resources("AWS::IAM::Policy").items():
        if name.startswith("ExecutionRole"):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


# ---- synth itself --------------------------------------------------------------------

def test_synth_is_offline_fast_and_has_no_missing_context(default, custom, github_actions):
    for result in (default, custom, github_actions):
        assert "missing" not in result.manifest, result.manifest.get("missing")
        assert result.seconds < 60


def test_cdk_nag_reports_nothing_unacknowledged(default, custom, github_actions):
    for result in (default, custom, github_actions):
        report = json.loads((result.outdir / "validation-report.json").read_text())
        violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
        assert violations == []


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding(tmp_path, empty_project):
    app, stack = build_app({"projectDir": str(empty_project), "source": "none"},
                           outdir=str(tmp_path))
    iam.Role(stack, "Careless", assumed_by=iam.AccountRootPrincipal()).add_to_policy(
        iam.PolicyStatement(actions=["s3:*"], resources=["*"])
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    found = {(v["ruleName"], c["constructPath"].split("/")[1])
             for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"
             for v in plugin["violations"] for c in v["violatingConstructs"]}
    assert found == {("AwsSolutions-IAM5[Action::s3:*]", "Careless"),
                     ("AwsSolutions-IAM5[Resource::*]", "Careless")}


def test_every_acknowledgement_has_a_written_reason(default, custom, github_actions):
    for result in (default, custom, github_actions):
        acknowledged = []
        for construct in result.stack.node.find_all():
            for entry in construct.node.metadata:
                if "acknowledg" in entry.type.lower():
                    acknowledged.append(entry.data)
        assert acknowledged, "no acknowledgements recorded"
        for data in acknowledged:
            items = data if isinstance(data, list) else [data]
            for item in items:
                reasons = item.values() if isinstance(item, dict) and "reason" not in item \
                    else [item.get("reason") if isinstance(item, dict) else item]
                for reason in reasons:
                    text = reason if isinstance(reason, str) else json.dumps(reason)
                    assert len(text) > 30, item


# ---- buckets -------------------------------------------------------------------------

@pytest.mark.parametrize("bucket", ["BucketsSourceBucket", "BucketsDataBucket",
                                    "BucketsArtifactBucket"])
def test_buckets_are_hardened(default, bucket):
    props = _bucket(default, bucket)
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert "LoggingConfiguration" in props
    assert _flat(props["LoggingConfiguration"]["DestinationBucketName"]).count("AccessLogs")


def test_every_bucket_requires_tls(default):
    buckets = set(default.resources("AWS::S3::Bucket"))
    enforced = set()
    for policy in default.resources("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
                enforced.add(policy["Properties"]["Bucket"]["Ref"])
    assert enforced == buckets


def test_source_bucket_keeps_versions_for_rollback(default, custom):
    for result, keep in ((default, 10), (custom, 25)):
        rules = _bucket(result, "BucketsSourceBucket")["LifecycleConfiguration"]["Rules"]
        noncurrent = [r["NoncurrentVersionExpiration"] for r in rules
                      if "NoncurrentVersionExpiration" in r]
        assert noncurrent == [{"NoncurrentDays": 30, "NewerNoncurrentVersions": keep}]


def test_kms_encryption_by_context(custom):
    key = custom.properties("AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    for bucket in ("BucketsSourceBucket", "BucketsDataBucket", "BucketsArtifactBucket"):
        default = _bucket(custom, bucket)["BucketEncryption"][
            "ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms"
        assert "Key" in _flat(default["KMSMasterKeyID"])
    environment = custom.properties("AWS::MWAA::Environment")
    assert "Key" in _flat(environment["KmsKey"])
    # CloudWatch Logs may use the key for this environment's log groups only
    logs = [s for s in key["KeyPolicy"]["Statement"]
            if s.get("Sid") == "CloudWatchLogsOfThisEnvironment"][0]
    assert "airflow-Ingestion_Prod-*" in _flat(logs["Condition"])


# ---- execution role ------------------------------------------------------------------

def test_execution_role_is_trusted_by_mwaa_only(default):
    role = next(r for name, r in default.resources("AWS::IAM::Role").items()
                if name.startswith("ExecutionRole"))
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    principals = sorted(p for s in trust for p in _as_list(s["Principal"]["Service"]))
    assert principals == ["airflow-env.amazonaws.com", "airflow.amazonaws.com"]


@pytest.mark.parametrize("variant", ["default", "custom"])
def test_execution_role_statements_name_their_resources(request, variant):
    result = request.getfixturevalue(variant)
    for statement in _execution_statements(result):
        if statement["Effect"] == "Deny":
            continue  # a Deny only narrows
        actions = _as_list(statement["Action"])
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), statement
        resources = _as_list(statement.get("Resource", statement.get("NotResource")))
        for resource in resources:
            if "*" in _flat(resource):
                # the only wildcards are the commented ones
                assert statement.get("Sid") in WILDCARD_REASONS, statement


def test_execution_role_scopes(default):
    by_sid = {s.get("Sid"): s for s in _execution_statements(default)}
    assert _flat(by_sid["OwnLogGroups"]["Resource"]).endswith(
        ':log-group:airflow-MwaaEnvironment-*"]]}') or "airflow-MwaaEnvironment-*" in _flat(
        by_sid["OwnLogGroups"]["Resource"])
    assert _flat(by_sid["CelerySqsQueues"]["Resource"]) == \
        "arn:aws:sqs:us-east-1:*:airflow-celery-*"
    assert "BucketsSourceBucket" in _flat(by_sid["SourceBucketObjects"]["Resource"])
    assert by_sid["NoListAllBuckets"]["Effect"] == "Deny"
    secrets = by_sid["ReadAirflowSecrets"]
    assert sorted(_as_list(secrets["Action"])) == ["secretsmanager:DescribeSecret",
                                                   "secretsmanager:GetSecretValue"]
    assert _flat(secrets["Resource"]).endswith(":secret:airflow/*")
    assert "SqsAwsOwnedKey" in by_sid and "OwnKmsKey" not in by_sid
    assert "DataWriterRole" in _flat(by_sid["AssumeDataWriterRole"]["Resource"])


def test_execution_role_with_customer_key_and_airflow_backend(custom):
    by_sid = {s.get("Sid"): s for s in _execution_statements(custom)}
    assert "ReadAirflowSecrets" not in by_sid
    assert "SqsAwsOwnedKey" not in by_sid
    assert "Key" in _flat(by_sid["OwnKmsKey"]["Resource"])
    assert _flat(by_sid["CelerySqsQueues"]["Resource"]) == \
        "arn:aws:sqs:eu-west-1:*:airflow-celery-*"


def test_data_writer_role(default):
    role = next(r for name, r in default.resources("AWS::IAM::Role").items()
                if name.startswith("DataWriterRole"))
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert "ExecutionRole" in _flat(trust["Principal"])
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    actions = {a: _flat(s["Resource"]) for s in statements for a in _as_list(s["Action"])}
    assert set(actions) == {"s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject"}
    assert all("BucketsDataBucket" in resource for resource in actions.values())
    assert actions["s3:PutObject"].endswith('"/*"]]}')


# ---- the environment's parameters ----------------------------------------------------

def test_environment_defaults(default):
    default.template.has_resource_properties("AWS::MWAA::Environment", {
        "Name": "MwaaEnvironment",
        "AirflowVersion": catalog.DEFAULT_VERSION,
        "EnvironmentClass": "mw1.small",
        "MaxWorkers": 10,
        "MinWorkers": 1,
        "Schedulers": 2,
        "WebserverAccessMode": "PRIVATE_ONLY",
        "DagS3Path": "dags",
        "AirflowConfigurationOptions": {
            "secrets.backend": catalog.mwaa().secrets_backend,
            "secrets.backend_kwargs": json.dumps(catalog.mwaa().secrets_backend_kwargs),
        },
        "LoggingConfiguration": {
            kind: {"Enabled": True, "LogLevel": "INFO"}
            for kind in ("DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs",
                         "WorkerLogs")
        },
    })
    props = default.properties("AWS::MWAA::Environment")
    # without object versions, MWAA is given no plugins/requirements/startup paths
    for key in ("PluginsS3Path", "RequirementsS3Path", "StartupScriptS3Path",
                "PluginsS3ObjectVersion", "KmsKey", "Tags"):
        assert key not in props


def test_environment_parameters_from_context(custom):
    custom.template.has_resource_properties("AWS::MWAA::Environment", {
        "Name": "Ingestion_Prod",
        "AirflowVersion": "2.10.3",
        "EnvironmentClass": "mw1.large",
        "MaxWorkers": 7,
        "MinWorkers": 3,
        "Schedulers": 3,
        "WebserverAccessMode": "PUBLIC_ONLY",
        "Tags": {"team": "data", "cost-center": "42"},
        "PluginsS3Path": "plugins.zip",
        "PluginsS3ObjectVersion": "pv.1",
        "RequirementsS3Path": "requirements.txt",
        "RequirementsS3ObjectVersion": "rv.2",
        "StartupScriptS3Path": "startup.sh",
        "StartupScriptS3ObjectVersion": "sv.3",
        "LoggingConfiguration": {"TaskLogs": {"Enabled": True, "LogLevel": "WARNING"}},
        "NetworkConfiguration": {
            "SubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        },
    })
    props = custom.properties("AWS::MWAA::Environment")
    assert "AirflowConfigurationOptions" not in props  # Airflow backend, no project options
    assert custom.json["Resources"] and custom.stack.region == "eu-west-1"
    assert custom.stack.account == "222222222222"


def test_airflow_options_come_from_the_project(synth, tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    (project / "mwaa-kit.toml").write_text(
        '[environment]\nname = "FromToml"\n'
        '[airflow_config]\n"core.default_task_retries" = "2"\n"secrets.backend_kwargs" = "{}"\n'
    )
    result = synth({"projectDir": str(project), "source": "none", "dataBucket": "false"})
    result.template.has_resource_properties("AWS::MWAA::Environment", {
        "Name": "FromToml",
        "AirflowConfigurationOptions": {
            "core.default_task_retries": "2",
            "secrets.backend": catalog.mwaa().secrets_backend,
            "secrets.backend_kwargs": "{}",  # the project's own value wins
        },
    })
    assert not result.resources("AWS::CodePipeline::Pipeline")
    assert not [n for n in result.resources("AWS::S3::Bucket") if "DataBucket" in n]


# ---- network -------------------------------------------------------------------------

def test_new_vpc_from_cidr(default):
    default.template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "172.31.0.0/16"})
    subnets = default.resources("AWS::EC2::Subnet").values()
    zones = sorted({s["Properties"]["AvailabilityZone"] for s in subnets})
    assert zones == ["us-east-1a", "us-east-1b"]
    assert len(subnets) == 4
    assert len(default.resources("AWS::EC2::NatGateway")) == 2
    environment = default.properties("AWS::MWAA::Environment")
    assert all("privateSubnet" in _flat(s) for s in
               environment["NetworkConfiguration"]["SubnetIds"])
    default.template.resource_count_is("AWS::EC2::FlowLog", 1)


def test_existing_vpc_is_not_created_or_looked_up(custom):
    assert not custom.resources("AWS::EC2::VPC")
    assert not custom.resources("AWS::EC2::NatGateway")
    custom.template.has_resource_properties("AWS::EC2::SecurityGroup", {
        "VpcId": "vpc-0123456789abcdef0",
    })


def test_security_group_admits_only_itself(default):
    ingress = list(default.resources("AWS::EC2::SecurityGroupIngress").values())
    assert len(ingress) == 1
    props = ingress[0]["Properties"]
    assert props["IpProtocol"] == "-1"
    assert props["SourceSecurityGroupId"] == props["GroupId"]
    group = default.properties("AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in group


# ---- delivery ------------------------------------------------------------------------

def _stage(result, pipeline_prefix: str, stage: str) -> list[dict]:
    pipeline = next(p for name, p in result.resources("AWS::CodePipeline::Pipeline").items()
                    if name.startswith(pipeline_prefix))
    return next(s["Actions"] for s in pipeline["Properties"]["Stages"] if s["Name"] == stage)


def _buildspec(result, project_prefix: str) -> str:
    project = next(p for name, p in result.resources("AWS::CodeBuild::Project").items()
                   if name.startswith(project_prefix))
    return project["Properties"]["Source"]["BuildSpec"]


def test_codecommit_source(default):
    for pipeline in ("DeliveryProvisioning", "DeliveryProject"):
        (source,) = _stage(default, pipeline, "Source")
        assert source["ActionTypeId"]["Provider"] == "CodeCommit"
        assert source["Configuration"]["RepositoryName"] == "mwaaenvironment"
        assert source["Configuration"]["BranchName"] == "main"


def test_github_source_through_codeconnections(custom):
    for pipeline in ("DeliveryProvisioning", "DeliveryProject"):
        (source,) = _stage(custom, pipeline, "Source")
        assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
        assert source["Configuration"]["ConnectionArn"] == CUSTOM["connectionArn"]
        assert source["Configuration"]["FullRepositoryId"] == "acme/airflow-project"
        assert source["Configuration"]["BranchName"] == "release"


def test_project_pipeline_validates_tests_then_promotes(default, custom):
    stages = [s["Name"] for p in default.resources("AWS::CodePipeline::Pipeline").values()
              for s in p["Properties"]["Stages"]]
    assert stages == ["Source", "Deploy", "Source", "Validate", "Promote"] or \
        sorted(stages) == sorted(["Source", "Deploy", "Source", "Validate", "Promote"])
    validate = _buildspec(default, "DeliveryValidateProject")
    assert "mwaa-kit validate" in validate and "python -m pytest" in validate
    assert '"python": "3.12"' in validate or "python: '3.12'" in validate or "3.12" in validate
    assert "mwaa-kit promote --target MwaaEnvironment" in _buildspec(
        default, "DeliveryPromoteProject")
    assert "mwaa-kit promote --target prod" in _buildspec(custom, "DeliveryPromoteProject")
    assert "3.11" in _buildspec(custom, "DeliveryValidateProject")  # Airflow 2.10.3's Python


def test_provisioning_redeploys_with_the_full_context(custom):
    spec = _buildspec(custom, "DeliveryDeployProject")
    assert "npx cdk deploy mwaa-Ingestion-Prod --require-approval never" in spec
    for key in ("envName=Ingestion_Prod", "environmentClass=mw1.large", "maxWorkers=7",
                "vpcId=vpc-0123456789abcdef0", "encryption=kms", "source=github",
                "projectDir=..", "account=222222222222", "region=eu-west-1"):
        assert key in spec, key
    assert "cidr=" not in spec
    # bundle versions: the live environment's, else the pinned ones
    assert "Environment.PluginsS3ObjectVersion" in spec and "V=pv.1" in spec


def test_promotion_permissions_are_scoped(default):
    project = next(name for name in default.resources("AWS::IAM::Policy")
                   if name.startswith("DeliveryPromoteProjectRole"))
    statements = default.json["Resources"][project]["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s.get("Sid"): s for s in statements}
    assert _flat(by_sid["UpdateEnvironment"]["Resource"]).endswith(
        ':environment/MwaaEnvironment"]]}') or "environment/MwaaEnvironment" in _flat(
        by_sid["UpdateEnvironment"]["Resource"])
    assert ":stack/mwaa-MwaaEnvironment/*" in _flat(by_sid["ReadStackOutputs"]["Resource"])
    assert by_sid["PassExecutionRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}}


def test_github_actions_role_with_oidc(github_actions):
    result = github_actions
    assert not result.resources("AWS::CodePipeline::Pipeline")
    result.template.has_resource_properties("AWS::IAM::OIDCProvider", {
        "Url": "https://token.actions.githubusercontent.com",
        "ClientIdList": ["sts.amazonaws.com"],
    })
    result.template.has_resource_properties("AWS::IAM::Role", {
        "MaxSessionDuration": 3600,
        "AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub":
                    "repo:acme/airflow-project:ref:refs/heads/main",
            }},
        })]},
    })
    assert "GitHubActionsRoleArn" in result.json["Outputs"]


def test_outputs_that_promote_reads(default):
    outputs = default.json["Outputs"]
    for name in ("EnvironmentName", "SourceBucketName", "Region", "ExecutionRoleArn",
                 "DataBucketName", "DataWriterRoleArn", "ProvisioningPipelineName",
                 "ProjectPipelineName"):
        assert name in outputs
    assert outputs["Region"]["Value"] == "us-east-1"


TUNED = {
    "stackName": "airflow-dev",
    "cidr": "10.20.0.0/20",
    "natGateways": "1",
    "availabilityZones": '["us-east-1c", "us-east-1d"]',
    "noncurrentDays": "90",
    "dagS3Path": "airflow/dags",
    "source": "github-actions",
    "githubRepository": "acme/airflow-project",
    "githubOidcProviderArn":
        "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
    "branch": "trunk",
}


@pytest.fixture(scope="module")
def tuned(synth):
    return synth(TUNED)


def test_remaining_parameters(tuned):
    assert tuned.stack.stack_name == "airflow-dev"
    assert "missing" not in tuned.manifest
    tuned.template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/20"})
    subnets = [s["Properties"] for s in tuned.resources("AWS::EC2::Subnet").values()]
    assert sorted({s["AvailabilityZone"] for s in subnets}) == ["us-east-1c", "us-east-1d"]
    assert sorted(s["CidrBlock"] for s in subnets) == [
        "10.20.0.0/22", "10.20.12.0/22", "10.20.4.0/22", "10.20.8.0/22"]
    assert len(tuned.resources("AWS::EC2::NatGateway")) == 1
    rules = _bucket(tuned, "BucketsSourceBucket")["LifecycleConfiguration"]["Rules"]
    assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    tuned.template.has_resource_properties("AWS::MWAA::Environment",
                                           {"DagS3Path": "airflow/dags"})
    # an existing OIDC provider is used, not created
    assert not tuned.resources("AWS::IAM::OIDCProvider")
    tuned.template.has_resource_properties("AWS::IAM::Role", {
        "AssumeRolePolicyDocument": {"Statement": [Match.object_like({
            "Principal": {"Federated": TUNED["githubOidcProviderArn"]},
            "Condition": Match.object_like({"StringEquals": Match.object_like({
                "token.actions.githubusercontent.com:sub":
                    "repo:acme/airflow-project:ref:refs/heads/trunk"})}),
        })]},
    })


def test_pipeline_commands_and_repository_from_context(synth):
    result = synth({"repositoryName": "airflow-dags", "installCommand": "pip install -r ci.txt",
                    "testCommand": "pytest tests/dags", "dataBucket": "false"})
    (source,) = _stage(result, "DeliveryProject", "Source")
    assert source["Configuration"]["RepositoryName"] == "airflow-dags"
    validate = _buildspec(result, "DeliveryValidateProject")
    assert "pip install -r ci.txt" in validate and "pytest tests/dags" in validate
    assert "DataBucketName" not in result.json["Outputs"]
