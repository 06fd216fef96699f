"""AWS clients for a promotion target: its profile, its role (assumed through STS), its region.

Endpoints: `endpoint_url` (the `--endpoint-url` option) points the `mwaa` client elsewhere,
e.g. at the kit's MWAA emulator; otherwise boto3's own settings apply
(AWS_ENDPOINT_URL_MWAA, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL). Whenever the MWAA endpoint
is overridden, botocore's `api.`/`env.` host prefixes are turned off: a local endpoint has
no such host names.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.errors import KitError
from mwaa_kit.project import PromotionTarget

# `--target local`, unless mwaa-kit.toml defines a target of that name: the environment
# `mwaa-kit up` serves through the kit's MWAA API emulator.
LOCAL_TARGET = "local"


class TargetError(KitError, RuntimeError):
    """The target cannot be reached or is not configured; the message says what to do."""


@dataclass
class Clients:
    """The MWAA and S3 clients of one target, and who is promoting (the lock and the history
    name them)."""

    mwaa: object
    s3: object
    identity: str  # who is promoting, as AWS sees it (or the local user name)


def connect(target: PromotionTarget, endpoint_url: str | None = None,
            s3_endpoint_url: str | None = None) -> Clients:
    """Clients for `target`, through its profile and, when it names one, its role; TargetError
    when either fails. `endpoint_url` points the mwaa client elsewhere (the MWAA emulator)."""
    session, identity = _session(target)
    return _clients(session, identity, endpoint_url, s3_endpoint_url)


def _clients(session, identity: str, endpoint_url: str | None,
             s3_endpoint_url: str | None) -> Clients:
    overridden = bool(endpoint_url or os.environ.get("AWS_ENDPOINT_URL_MWAA")
                      or os.environ.get("AWS_ENDPOINT_URL"))
    config = Config(inject_host_prefix=False) if overridden else None
    mwaa = session.client("mwaa", endpoint_url=endpoint_url, config=config)
    s3 = session.client("s3", endpoint_url=s3_endpoint_url)
    return Clients(mwaa=mwaa, s3=s3, identity=identity)


def connect_local(project, mwaa_url: str, s3_url: str) -> tuple[PromotionTarget, Clients]:
    """The local environment as a target: the project's environment on the kit's
    emulators, with the emulators' credentials (whatever AWS profile the user has)."""
    session = boto3.Session(aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            region_name=project.region)
    target = PromotionTarget(name=LOCAL_TARGET, environment_name=project.environment_name,
                             region=project.region)
    return target, _clients(session, getpass.getuser(), mwaa_url, s3_url)


def target_from_stack(stack_name: str, base: PromotionTarget | None,
                      region: str) -> PromotionTarget:
    """The environment the CDK app's stack provisioned, from its outputs (EnvironmentName,
    Region); credentials from `base` (a target's profile and role) when given."""
    lookup = base or PromotionTarget(name=f"stack:{stack_name}", environment_name="unknown",
                                     region=region)
    session, _ = _session(lookup)
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)
    except (BotoCoreError, ClientError) as error:
        raise TargetError(f"cannot read stack {stack_name} in {lookup.region}: {error}") from None
    outputs = {output["OutputKey"]: output["OutputValue"]
               for output in stacks["Stacks"][0].get("Outputs", [])}
    if "EnvironmentName" not in outputs:
        raise TargetError(f"stack {stack_name} has no EnvironmentName output; is it the "
                          "CDK app of infra/?")
    return PromotionTarget(name=base.name if base else f"stack:{stack_name}",
                           environment_name=outputs["EnvironmentName"],
                           region=outputs.get("Region", lookup.region),
                           profile=lookup.profile, role_arn=lookup.role_arn)


def _session(target: PromotionTarget):
    try:
        session = boto3.Session(profile_name=target.profile, region_name=target.region)
    except BotoCoreError as error:
        raise TargetError(f"target {target.name}: {error}") from None
    identity = getpass.getuser()
    if target.role_arn:
        try:
            credentials = session.client("sts").assume_role(
                RoleArn=target.role_arn,
                RoleSessionName=f"mwaa-kit-promote-{identity}"[:64],
            )["Credentials"]
        except (BotoCoreError, ClientError) as error:
            raise TargetError(f"target {target.name}: cannot assume {target.role_arn}: "
                              f"{error}") from None
        session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"],
                                region_name=target.region)
        identity = f"{identity} as {target.role_arn}"
    return session, identity


def resolve_target(targets: dict[str, PromotionTarget], name: str | None) -> PromotionTarget:
    """The target `name` (`--target`), or the only one mwaa-kit.toml defines when no name is
    given; TargetError saying what to add or choose otherwise."""
    if not targets:
        raise TargetError("mwaa-kit.toml defines no promotion target; add one, e.g.\n"
                          "[targets.prod]\nenvironment_name = \"MyEnvironment\"\n"
                          "region = \"us-east-1\"")
    if name is None:
        if len(targets) == 1:
            return next(iter(targets.values()))
        raise TargetError(f"choose a target with --target: {', '.join(sorted(targets))}")
    if name not in targets:
        raise TargetError(f"no target {name!r} in mwaa-kit.toml; known: "
                          f"{', '.join(sorted(targets))}")
    return targets[name]
