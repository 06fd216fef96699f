"""The app's parameters: CDK context (`-c key=value`, cdk.json) over the project's
mwaa-kit.toml over built-in defaults, parsed into types and validated.

Context values given with `-c` always arrive as strings; values from cdk.json or a test's
context keep their JSON types. Both are accepted. This module imports nothing from aws_cdk,
so its checks run (and are tested) without starting jsii.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mwaa_kit import catalog
from mwaa_kit.contract.configuration import ForcedConfigError, refuse_forced_overrides
from mwaa_kit.project import ProjectConfigError, load_project

DEFAULT_ACCOUNT = "111111111111"
DEFAULT_REGION = "us-east-1"
DEFAULT_ENV_NAME = "MwaaEnvironment"
DEFAULT_CLASS = "mw1.small"
DEFAULT_CIDR = "172.31.0.0/16"

SECRETS_BACKENDS = ("Airflow", "SecretsManager")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
ENCRYPTIONS = ("s3", "kms")
SOURCES = ("codecommit", "github", "github-actions", "none")

_ENV_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[\w-]+$"
)
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)
_REPOSITORY_NAME = re.compile(r"^[\w.-]{1,100}$")
_BRANCH = re.compile(r"^[\w./-]{1,255}$")
_OBJECT_VERSION = re.compile(r"^[\w.\-+/=]{1,1024}$")
_S3_KEY = re.compile(r"^[\w!.*'()/-]{1,1024}$")
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


class InfraContextError(ValueError):
    """A context value (or the project's mwaa-kit.toml) cannot make a valid environment."""


@dataclass(frozen=True)
class Settings:
    """Every parameter of the app, typed. `to_context()` gives back the `-c` form."""

    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    stack_name: str = ""
    env_name: str = DEFAULT_ENV_NAME
    env_tags: dict[str, str] = field(default_factory=dict)
    environment_class: str = DEFAULT_CLASS
    max_workers: int = 10
    min_workers: int = 1
    schedulers: int = 2
    webserver_access_mode: str = "PRIVATE_ONLY"
    airflow_version: str = catalog.DEFAULT_VERSION
    secrets_backend: str = "SecretsManager"
    log_level: str = "INFO"
    airflow_config: dict[str, str] = field(default_factory=dict)
    # network: a new VPC from cidr, or an existing one
    cidr: str = DEFAULT_CIDR
    availability_zones: tuple[str, ...] = ()
    nat_gateways: int = 2
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()
    # buckets
    encryption: str = "s3"
    retained_versions: int = 10
    noncurrent_days: int = 30
    data_bucket: bool = True
    # the bundle in the source bucket
    dag_s3_path: str = "dags"
    plugins_s3_path: str = "plugins.zip"
    plugins_s3_object_version: str | None = None
    requirements_s3_path: str = "requirements.txt"
    requirements_s3_object_version: str | None = None
    startup_script_s3_path: str = "startup.sh"
    startup_script_s3_object_version: str | None = None
    # pipelines
    source: str = "codecommit"
    repository_name: str = ""
    branch: str = "main"
    connection_arn: str | None = None
    github_repository: str | None = None
    github_oidc_provider_arn: str | None = None
    promote_target: str = ""
    install_command: str = "pip install -e '.[test]'"
    test_command: str = "python -m pytest -q -m 'not e2e'"
    project_dir: str = ".."

    @property
    def version(self) -> catalog.AirflowVersion:
        return catalog.get_version(self.airflow_version)

    @property
    def uses_existing_vpc(self) -> bool:
        return self.vpc_id is not None

    def to_context(self) -> dict[str, str]:
        """The `-c key=value` pairs that reproduce these settings exactly (every value a
        string, as the CDK CLI passes them), e.g. for the provisioning pipeline."""
        result = {}
        # cidr and natGateways make a new VPC: they exclude vpcId (and subnetIds).
        skip = {"cidr", "nat_gateways"} if self.uses_existing_vpc else {"subnet_ids"}
        for name, value in asdict(self).items():
            key = _CONTEXT_KEYS[name]
            if value is None or name in skip:
                continue
            if isinstance(value, bool):
                result[key] = "true" if value else "false"
            elif isinstance(value, (dict, list, tuple)):
                result[key] = json.dumps(value if not isinstance(value, tuple) else list(value),
                                         sort_keys=True)
            else:
                result[key] = str(value)
        return result

    def context_arguments(self, skip: tuple[str, ...] = ()) -> str:
        """The settings as a shell-quoted `-c key=value ...` string."""
        return " ".join(
            f"-c {shlex.quote(f'{key}={value}')}"
            for key, value in self.to_context().items() if key not in skip
        )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_CONTEXT_KEYS = {f.name: _camel(f.name) for f in fields(Settings)}
_CONTEXT_KEYS.update({
    "dag_s3_path": "dagS3Path",
    "plugins_s3_path": "pluginsS3Path",
    "plugins_s3_object_version": "pluginsS3ObjectVersion",
    "requirements_s3_path": "requirementsS3Path",
    "requirements_s3_object_version": "requirementsS3ObjectVersion",
    "startup_script_s3_path": "startupScriptS3Path",
    "startup_script_s3_object_version": "startupScriptS3ObjectVersion",
    "airflow_config": "airflowConfigurationOptions",
    "cidr": "cidr",
})
CONTEXT_KEYS: tuple[str, ...] = tuple(_CONTEXT_KEYS.values())


# ---- parsing helpers: each names the context key in its error --------------------------

def _string(key: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise InfraContextError(f"context {key}: expected a string, got {json.dumps(value)}")
    return str(value).strip()


def _matching(key: str, value: Any, pattern: re.Pattern, what: str) -> str:
    text = _string(key, value)
    if not pattern.match(text):
        raise InfraContextError(f"context {key}={text!r} is not {what}.")
    return text


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = _string(key, value)
    if text not in choices:
        raise InfraContextError(
            f"context {key}={text!r} is not one of: {', '.join(choices)}."
        )
    return text


def _integer(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise InfraContextError(f"context {key}: expected a whole number, got {value}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InfraContextError(
            f"context {key}={value!r} is not a whole number."
        ) from None
    if not low <= number <= high:
        raise InfraContextError(f"context {key}={number} must be between {low} and {high}.")
    return number


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise InfraContextError(f"context {key}={value!r} is not true or false.")


def _json(key: str, value: Any, kind: type, example: str) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise InfraContextError(
                f"context {key} is not valid JSON ({error.msg} at character {error.pos}); "
                f"write it like {example}."
            ) from None
    if not isinstance(value, kind):
        raise InfraContextError(
            f"context {key} must be a JSON {'object' if kind is dict else 'list'}, "
            f"like {example}."
        )
    return value


def _string_map(key: str, value: Any, example: str) -> dict[str, str]:
    table = _json(key, value, dict, example)
    result = {}
    for name, item in table.items():
        if isinstance(item, (dict, list)) or item is None:
            raise InfraContextError(f"context {key}: the value of {name!r} must be a string.")
        result[str(name)] = item if isinstance(item, str) else json.dumps(item)
    return result


def _string_list(key: str, value: Any, example: str) -> tuple[str, ...]:
    """A JSON list, or (what a shell makes easy) comma-separated words."""
    if isinstance(value, str) and not value.strip().startswith("["):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    items = _json(key, value, list, example)
    if not all(isinstance(item, str) for item in items):
        raise InfraContextError(f"context {key}: every entry must be a string.")
    return tuple(items)


def _cidr(key: str, value: Any) -> str:
    text = _string(key, value)
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        raise InfraContextError(
            f"context {key}={text!r} is not an IPv4 CIDR block such as {DEFAULT_CIDR} ({error})."
        ) from None
    if network.version != 4:
        raise InfraContextError(f"context {key}={text!r}: the VPC needs an IPv4 block.")
    if not 16 <= network.prefixlen <= 22:
        raise InfraContextError(
            f"context {key}={text!r}: the prefix must be /16 to /22, room for two public and "
            f"two private subnets across two availability zones."
        )
    return str(network)


# ---- the settings ---------------------------------------------------------------------

def load_settings(context: dict[str, Any], base_dir: Path | str = ".") -> Settings:
    """Settings from `context` (key -> value as the CDK gives them); the project named by
    `projectDir` (relative to `base_dir`, default its parent) fills what context leaves out.
    Raises InfraContextError with a message that names the key and the fix."""
    ctx = {key: value for key, value in context.items() if value is not None}
    unknown_like = [key for key in ctx if key.lower() in _LOWER_KEYS and key not in CONTEXT_KEYS]
    if unknown_like:
        raise InfraContextError(
            f"context {', '.join(unknown_like)}: did you mean "
            f"{', '.join(_LOWER_KEYS[key.lower()] for key in unknown_like)}? (keys are "
            "case-sensitive)"
        )

    project_dir = _string("projectDir", ctx.get("projectDir", ".."))
    root = (Path(base_dir) / project_dir).resolve()
    try:
        project = load_project(root)
    except ProjectConfigError as error:
        raise InfraContextError(f"projectDir={project_dir}: {error}") from None
    from_toml = project.config_file.exists()

    values: dict[str, Any] = {"project_dir": project_dir}
    values["account"] = _matching(
        "account", ctx.get("account", DEFAULT_ACCOUNT), _ACCOUNT, "a 12-digit AWS account id"
    )
    values["region"] = _matching(
        "region", ctx.get("region", project.region if from_toml else DEFAULT_REGION),
        _REGION, "an AWS region such as us-east-1",
    )
    env_name = ctx.get("envName", project.environment_name if from_toml else DEFAULT_ENV_NAME)
    values["env_name"] = _matching(
        "envName", env_name, _ENV_NAME,
        "an MWAA environment name (a letter, then letters, digits, - or _; 80 at most)",
    )
    values["stack_name"] = _matching(
        "stackName", ctx.get("stackName", f"mwaa-{values['env_name']}".replace("_", "-")),
        _STACK_NAME, "a CloudFormation stack name",
    )
    if "envTags" in ctx:
        values["env_tags"] = _string_map("envTags", ctx["envTags"], '{"team": "data"}')

    classes = catalog.mwaa().environment_class_details
    env_class = _string(
        "environmentClass",
        ctx.get("environmentClass", project.environment_class if from_toml else DEFAULT_CLASS),
    )
    if env_class not in classes:
        raise InfraContextError(
            f"context environmentClass={env_class!r} is not an MWAA environment class; "
            f"choose one of: {', '.join(classes)}."
        )
    values["environment_class"] = env_class
    micro = env_class == "mw1.micro"
    values["max_workers"] = _integer("maxWorkers", ctx.get("maxWorkers", 1 if micro else 10),
                                     1, 1 if micro else 25)
    values["min_workers"] = _integer("minWorkers", ctx.get("minWorkers", 1),
                                     1, values["max_workers"])
    default_schedulers = classes[env_class].schedulers
    values["schedulers"] = _integer(
        "schedulers", ctx.get("schedulers", default_schedulers), 1 if micro else 2,
        1 if micro else 5,
    )
    default_version = project.airflow_version if from_toml else catalog.DEFAULT_VERSION
    version = _string("airflowVersion", ctx.get("airflowVersion", default_version))
    try:
        catalog.get_version(version)
    except catalog.UnknownVersionError as error:
        raise InfraContextError(f"context airflowVersion: {error}") from None
    values["airflow_version"] = version
    access_modes = catalog.mwaa().webserver_access_modes
    access_mode = _choice("webserverAccessMode", ctx.get("webserverAccessMode", "PRIVATE_ONLY"),
                          tuple(access_modes))
    if not catalog.mwaa().access_mode_allowed(access_mode, version):
        raise InfraContextError(
            f"context webserverAccessMode={access_mode} needs Airflow "
            f"{access_modes[access_mode]} or later (MWAA refuses it); airflowVersion is "
            f"{version}.")
    values["webserver_access_mode"] = access_mode
    values["secrets_backend"] = _choice(
        "secretsBackend", ctx.get("secretsBackend", "SecretsManager"), SECRETS_BACKENDS
    )
    values["log_level"] = _choice("logLevel", ctx.get("logLevel", "INFO"), LOG_LEVELS)

    if "airflowConfigurationOptions" in ctx:
        options = _string_map("airflowConfigurationOptions", ctx["airflowConfigurationOptions"],
                              '{"core.default_task_retries": "2"}')
    else:
        options = dict(project.airflow_config)
    for option in options:
        if not re.match(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$", option):
            raise InfraContextError(
                f'Airflow option {option!r} is not a "section.key" name.'
            )
    try:
        refuse_forced_overrides(catalog.get_version(version), options)
    except ForcedConfigError as error:
        raise InfraContextError(str(error)) from None
    values["airflow_config"] = options

    _network(ctx, values)

    values["encryption"] = _choice("encryption", ctx.get("encryption", "s3"), ENCRYPTIONS)
    values["retained_versions"] = _integer(
        "retainedVersions", ctx.get("retainedVersions", 10), 1, 100
    )
    values["noncurrent_days"] = _integer(
        "noncurrentDays", ctx.get("noncurrentDays", 30), 1, 3650
    )
    values["data_bucket"] = _boolean("dataBucket", ctx.get("dataBucket", True))

    for name in ("dag", "plugins", "requirements", "startup_script"):
        key = _CONTEXT_KEYS[f"{name}_s3_path"]
        if key in ctx:
            path = _matching(key, ctx[key], _S3_KEY, "an S3 key inside the source bucket")
            if path.startswith("/"):
                raise InfraContextError(f"context {key}={path!r}: no leading '/'.")
            values[f"{name}_s3_path"] = path
        if name != "dag":
            key = _CONTEXT_KEYS[f"{name}_s3_object_version"]
            if ctx.get(key) not in (None, "", "None", "null"):
                values[f"{name}_s3_object_version"] = _matching(
                    key, ctx[key], _OBJECT_VERSION, "an S3 object version id"
                )

    _pipelines(ctx, values, project)
    return Settings(**values)


_LOWER_KEYS = {key.lower(): key for key in CONTEXT_KEYS}


def _network(ctx: dict[str, Any], values: dict[str, Any]) -> None:
    region = values["region"]
    if "subnetIds" in ctx and "vpcId" not in ctx:
        raise InfraContextError(
            "context subnetIds needs vpcId: name the VPC the subnets belong to "
            "(-c vpcId=vpc-...), or drop subnetIds to create a new VPC from cidr."
        )
    if "vpcId" in ctx:
        if "cidr" in ctx:
            raise InfraContextError(
                "context vpcId and cidr exclude each other: cidr makes a new VPC, vpcId uses "
                "an existing one."
            )
        values["vpc_id"] = _matching("vpcId", ctx["vpcId"], _VPC_ID, "a VPC id (vpc-...)")
        if "subnetIds" not in ctx:
            raise InfraContextError(
                "context vpcId needs subnetIds: two private subnets (in two availability "
                "zones) with a route to a NAT gateway, e.g. "
                "-c 'subnetIds=[\"subnet-a\",\"subnet-b\"]'."
            )
        subnets = _string_list("subnetIds", ctx["subnetIds"], '["subnet-0a...", "subnet-0b..."]')
        for subnet in subnets:
            if not _SUBNET_ID.match(subnet):
                raise InfraContextError(f"context subnetIds: {subnet!r} is not a subnet id.")
        if len(subnets) != 2 or len(set(subnets)) != 2:
            raise InfraContextError(
                f"context subnetIds: MWAA takes exactly two private subnets, got {len(subnets)}."
            )
        values["subnet_ids"] = subnets
    else:
        values["cidr"] = _cidr("cidr", ctx.get("cidr", DEFAULT_CIDR))
        values["nat_gateways"] = _integer("natGateways", ctx.get("natGateways", 2), 1, 2)
    if "availabilityZones" in ctx:
        zones = _string_list("availabilityZones", ctx["availabilityZones"],
                             f'["{region}a", "{region}b"]')
    else:
        zones = (f"{region}a", f"{region}b")
    if len(zones) != 2 or len(set(zones)) != 2 or not all(z.startswith(region) for z in zones):
        raise InfraContextError(
            f"context availabilityZones: two distinct zones of {region} are needed, got "
            f"{list(zones)}."
        )
    values["availability_zones"] = tuple(zones)


def _pipelines(ctx: dict[str, Any], values: dict[str, Any], project) -> None:
    source = _choice("source", ctx.get("source", "codecommit"), SOURCES)
    values["source"] = source
    values["branch"] = _matching("branch", ctx.get("branch", "main"), _BRANCH, "a branch name")
    default_repo = values["env_name"].lower().replace("_", "-")
    values["repository_name"] = _matching(
        "repositoryName", ctx.get("repositoryName", default_repo), _REPOSITORY_NAME,
        "a CodeCommit repository name",
    )
    if source == "github":
        if "connectionArn" not in ctx:
            raise InfraContextError(
                "context source=github needs connectionArn: the ARN of a CodeConnections "
                "connection to GitHub (create it in the console, then -c connectionArn=arn:...)."
            )
        values["connection_arn"] = _matching(
            "connectionArn", ctx["connectionArn"], _CONNECTION_ARN,
            "a CodeConnections connection ARN (arn:aws:codeconnections:REGION:ACCOUNT:"
            "connection/ID)",
        )
    if source in ("github", "github-actions"):
        if "githubRepository" not in ctx:
            raise InfraContextError(
                f"context source={source} needs githubRepository=OWNER/NAME."
            )
        values["github_repository"] = _matching(
            "githubRepository", ctx["githubRepository"], _GITHUB_REPO, "OWNER/NAME"
        )
    if source == "github-actions" and "githubOidcProviderArn" in ctx:
        values["github_oidc_provider_arn"] = _matching(
            "githubOidcProviderArn", ctx["githubOidcProviderArn"], _OIDC_PROVIDER_ARN,
            "the ARN of the account's token.actions.githubusercontent.com OIDC provider",
        )
    # The target `mwaa-kit promote --target` names: the project's target for this
    # environment, else one named after the environment.
    matching = [t.name for t in project.targets.values()
                if t.environment_name == values["env_name"] and t.region == values["region"]]
    values["promote_target"] = _matching(
        "promoteTarget", ctx.get("promoteTarget", matching[0] if matching else values["env_name"]),
        re.compile(r"^[\w.-]{1,100}$"), "a target name of mwaa-kit.toml",
    )
    for key in ("installCommand", "testCommand"):
        if key in ctx:
            command = _string(key, ctx[key])
            if not command or "\n" in command:
                raise InfraContextError(f"context {key}: one non-empty shell command line.")
            values[_snake(key)] = command


def _snake(key: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), key)
