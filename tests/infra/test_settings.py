"""Context parsing: values arrive as strings (or JSON types from cdk.json), are typed, and a
bad one stops synth with a message that names it. No jsii here: these run in milliseconds."""

from __future__ import annotations

import shlex

import pytest
from mwaa_infra.settings import CONTEXT_KEYS, InfraContextError, Settings, load_settings

from mwaa_kit import catalog


@pytest.fixture()
def load(empty_project):
    def run(**context):
        return load_settings({"projectDir": str(empty_project), **context})

    return run


def test_defaults_without_context_or_project(load):
    settings = load()
    assert settings.env_name == "MwaaEnvironment"
    assert settings.environment_class == "mw1.small"
    assert settings.airflow_version == catalog.DEFAULT_VERSION
    assert settings.cidr == "172.31.0.0/16"
    assert (settings.account, settings.region) == ("111111111111", "us-east-1")
    assert settings.availability_zones == ("us-east-1a", "us-east-1b")
    assert settings.secrets_backend == "SecretsManager"
    assert settings.source == "codecommit"
    assert settings.stack_name == "mwaa-MwaaEnvironment"
    assert settings.schedulers == catalog.mwaa().environment_class_details["mw1.small"].schedulers


def test_strings_are_parsed_into_types(load):
    settings = load(maxWorkers="7", minWorkers="2", schedulers="3", envTags='{"team": "data"}',
                    dataBucket="false", retainedVersions="20", natGateways="1")
    assert (settings.max_workers, settings.min_workers, settings.schedulers) == (7, 2, 3)
    assert settings.env_tags == {"team": "data"}
    assert settings.data_bucket is False
    assert settings.retained_versions == 20
    assert settings.nat_gateways == 1


def test_json_types_from_cdk_json_are_accepted(load):
    settings = load(maxWorkers=4, envTags={"team": "data", "tier": 1}, dataBucket=False,
                    subnetIds=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
                    vpcId="vpc-0123456789abcdef0")
    assert settings.max_workers == 4
    assert settings.env_tags == {"team": "data", "tier": "1"}
    assert settings.subnet_ids == ("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2")


def test_public_and_private_access_from_airflow_3_2(load):
    settings = load(webserverAccessMode="PUBLIC_AND_PRIVATE", airflowVersion="3.2.1")
    assert (settings.webserver_access_mode, settings.airflow_version) == (
        "PUBLIC_AND_PRIVATE", "3.2.1")


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"cidr": "10.0.0.0/33"}, "cidr='10.0.0.0/33' is not an IPv4 CIDR"),
        ({"cidr": "10.0.0.1/16"}, "is not an IPv4 CIDR"),  # host bits set
        ({"cidr": "banana"}, "is not an IPv4 CIDR"),
        ({"cidr": "10.0.0.0/26"}, "prefix must be /16 to /22"),
        ({"cidr": "fd00::/48"}, "IPv4"),
        ({"environmentClass": "mw1.huge"}, "mw1.huge' is not an MWAA environment class"),
        ({"envTags": '{"team": '}, "envTags is not valid JSON"),
        ({"envTags": '["team"]'}, "envTags must be a JSON object"),
        ({"envTags": '{"team": {"a": 1}}'}, "must be a string"),
        ({"subnetIds": "subnet-0aaaaaaaaaaaaaaa1"}, "subnetIds needs vpcId"),
        ({"vpcId": "vpc-0123456789abcdef0"}, "vpcId needs subnetIds"),
        ({"vpcId": "vpc-0123456789abcdef0", "cidr": "10.0.0.0/16",
          "subnetIds": "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2"}, "exclude each other"),
        ({"vpcId": "vpc-0123456789abcdef0", "subnetIds": "subnet-0aaaaaaaaaaaaaaa1"},
         "exactly two private subnets"),
        ({"vpcId": "vpc-1", "subnetIds": "subnet-0aaaaaaaaaaaaaaa1"}, "is not a VPC id"),
        ({"maxWorkers": "ten"}, "maxWorkers='ten' is not a whole number"),
        ({"maxWorkers": "26"}, "maxWorkers=26 must be between 1 and 25"),
        ({"maxWorkers": "3", "minWorkers": "4"}, "minWorkers=4 must be between 1 and 3"),
        ({"schedulers": "1"}, "schedulers=1 must be between 2 and 5"),
        ({"environmentClass": "mw1.micro", "schedulers": "2"}, "between 1 and 1"),
        ({"webserverAccessMode": "PUBLIC"},
         "is not one of: PRIVATE_ONLY, PUBLIC_ONLY, PUBLIC_AND_PRIVATE"),
        ({"webserverAccessMode": "PUBLIC_AND_PRIVATE", "airflowVersion": "3.0.6"},
         "webserverAccessMode=PUBLIC_AND_PRIVATE needs Airflow 3.2 or later"),
        ({"secretsBackend": "Vault"}, "is not one of: Airflow, SecretsManager"),
        ({"airflowVersion": "2.4.3"}, "Airflow 2.4.3 is not in the MWAA catalog"),
        ({"encryption": "aes"}, "encryption='aes'"),
        ({"envName": "1bad"}, "is not an MWAA environment name"),
        ({"account": "12345"}, "12-digit"),
        ({"region": "moon"}, "region"),
        ({"availabilityZones": "us-east-1a"}, "two distinct zones"),
        ({"availabilityZones": "eu-west-1a,eu-west-1b"}, "two distinct zones of us-east-1"),
        ({"source": "svn"}, "source='svn'"),
        ({"source": "github", "githubRepository": "a/b"}, "needs connectionArn"),
        ({"source": "github", "connectionArn": "arn:aws:s3:::x", "githubRepository": "a/b"},
         "not a CodeConnections connection ARN"),
        ({"source": "github-actions"}, "needs githubRepository"),
        ({"airflowConfigurationOptions": '{"core.executor": "LocalExecutor"}'},
         "MWAA manages core.executor itself"),
        ({"airflowConfigurationOptions": '{"retries": "1"}'}, "is not a \"section.key\" name"),
        ({"pluginsS3ObjectVersion": "bad version"}, "is not an S3 object version id"),
        ({"maxworkers": "3"}, "did you mean maxWorkers"),
        ({"dataBucket": "maybe"}, "is not true or false"),
    ],
)
def test_bad_values_are_refused_with_a_clear_error(load, context, message):
    with pytest.raises(InfraContextError) as caught:
        load(**context)
    assert message in str(caught.value)


def test_project_toml_fills_what_context_leaves_out(tmp_path):
    (tmp_path / "mwaa-kit.toml").write_text(
        '[environment]\nname = "FromToml"\nairflow_version = "2.11.0"\n'
        'environment_class = "mw1.medium"\nregion = "eu-central-1"\n'
        '[airflow_config]\n"core.default_task_retries" = "3"\n'
        '[targets.staging]\nenvironment_name = "FromToml"\nregion = "eu-central-1"\n'
    )
    settings = load_settings({"projectDir": str(tmp_path)})
    assert settings.env_name == "FromToml"
    assert settings.airflow_version == "2.11.0"
    assert settings.environment_class == "mw1.medium"
    assert settings.region == "eu-central-1"
    assert settings.airflow_config == {"core.default_task_retries": "3"}
    assert settings.promote_target == "staging"
    # context wins over the file
    assert load_settings({"projectDir": str(tmp_path), "envName": "Other"}).env_name == "Other"


def test_forced_airflow_option_in_the_project_is_refused(tmp_path):
    (tmp_path / "mwaa-kit.toml").write_text('[airflow_config]\n"core.executor" = "LocalExecutor"\n')
    with pytest.raises(InfraContextError, match="MWAA manages core.executor itself"):
        load_settings({"projectDir": str(tmp_path)})


def test_to_context_round_trips(load, empty_project):
    settings = load(envTags='{"team": "data"}', vpcId="vpc-0123456789abcdef0",
                    subnetIds="subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
                    pluginsS3ObjectVersion="v1", source="github-actions",
                    githubRepository="acme/project", maxWorkers="5")
    context = settings.to_context()
    assert all(isinstance(value, str) for value in context.values())
    assert set(context) <= set(CONTEXT_KEYS)
    # an existing VPC's settings carry no cidr (the two exclude each other)
    assert "cidr" not in context and "natGateways" not in context
    assert load_settings(context) == settings
    assert isinstance(settings, Settings)


def test_default_settings_round_trip_too(load, empty_project):
    settings = load(envTags='{"team": "data eng"}', pluginsS3ObjectVersion="v1")
    context = settings.to_context()
    assert "subnetIds" not in context and "vpcId" not in context
    assert load_settings(context) == settings


def test_the_provisioning_build_redeploys_with_settings_that_parse_back(load, empty_project):
    from mwaa_infra.pipelines import deploy_commands  # noqa: PLC0415 — needs aws_cdk, settings not

    for settings in (
        load(envTags='{"team": "data eng"}', testCommand="pytest -q -k 'not slow'"),
        load(vpcId="vpc-0123456789abcdef0",
             subnetIds="subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2"),
    ):
        argv = shlex.split(deploy_commands(settings)[-1].removesuffix("$CTX"))
        context = dict(argv[i + 1].split("=", 1) for i, arg in enumerate(argv) if arg == "-c")
        assert context.pop("projectDir") == ".."
        assert load_settings({**context, "projectDir": str(empty_project)}) == settings


def test_micro_class_defaults_to_one_scheduler_and_worker(load):
    settings = load(environmentClass="mw1.micro")
    assert (settings.schedulers, settings.max_workers, settings.min_workers) == (1, 1, 1)
