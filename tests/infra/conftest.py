"""Fixtures of the CDK app's tests: each distinct context is synthesized once per session
(jsii starts once; a synth then takes a few seconds) into its own cloud assembly."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
if str(INFRA_DIR) not in sys.path:
    sys.path.insert(0, str(INFRA_DIR))


@dataclass
class Synthesized:
    stack: object
    template: object  # aws_cdk.assertions.Template
    json: dict
    manifest: dict
    outdir: Path
    seconds: float

    def resources(self, kind: str) -> dict[str, dict]:
        return {name: resource for name, resource in self.json["Resources"].items()
                if resource["Type"] == kind}

    def only(self, kind: str) -> dict:
        found = list(self.resources(kind).values())
        assert len(found) == 1, f"{len(found)} {kind} resources"
        return found[0]

    def properties(self, kind: str) -> dict:
        return self.only(kind)["Properties"]


@pytest.fixture(scope="session")
def empty_project(tmp_path_factory) -> Path:
    """A project folder without mwaa-kit.toml: the app's own defaults apply."""
    return tmp_path_factory.mktemp("empty-project")


@pytest.fixture(scope="session")
def synth(tmp_path_factory, empty_project):
    """synth(context) -> Synthesized; cached per context. cdk-nag runs in every synth, so a
    finding nobody acknowledged fails the synth (and the test)."""
    from aws_cdk.assertions import Template  # noqa: PLC0415 — only where a test synthesizes
    from mwaa_infra.stack import build_app  # noqa: PLC0415 — imports aws_cdk

    cache: dict[str, Synthesized] = {}

    def run(context: dict | None = None) -> Synthesized:
        context = {"projectDir": str(empty_project), **(context or {})}
        key = json.dumps(context, sort_keys=True)
        if key not in cache:
            outdir = tmp_path_factory.mktemp("cdk.out")
            started = time.monotonic()
            app, stack = build_app(context, outdir=str(outdir))
            app.synth()
            seconds = time.monotonic() - started
            cache[key] = Synthesized(
                stack=stack,
                template=Template.from_stack(stack),
                json=json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()),
                manifest=json.loads((outdir / "manifest.json").read_text()),
                outdir=outdir,
                seconds=seconds,
            )
        return cache[key]

    return run


CUSTOM = {
    "account": "222222222222",
    "region": "eu-west-1",
    "envName": "Ingestion_Prod",
    "envTags": '{"team": "data", "cost-center": "42"}',
    "environmentClass": "mw1.large",
    "maxWorkers": "7",
    "minWorkers": "3",
    "schedulers": "3",
    "webserverAccessMode": "PUBLIC_ONLY",
    "airflowVersion": "2.10.3",
    "secretsBackend": "Airflow",
    "logLevel": "WARNING",
    "vpcId": "vpc-0123456789abcdef0",
    "subnetIds": '["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]',
    "availabilityZones": "eu-west-1b,eu-west-1c",
    "encryption": "kms",
    "retainedVersions": "25",
    "pluginsS3ObjectVersion": "pv.1",
    "requirementsS3ObjectVersion": "rv.2",
    "startupScriptS3ObjectVersion": "sv.3",
    "source": "github",
    "githubRepository": "acme/airflow-project",
    "connectionArn": "arn:aws:codeconnections:eu-west-1:222222222222:connection/abc-123",
    "branch": "release",
    "promoteTarget": "prod",
}

GITHUB_ACTIONS = {
    "source": "github-actions",
    "githubRepository": "acme/airflow-project",
    "dataBucket": "false",
}


@pytest.fixture(scope="session")
def default(synth) -> Synthesized:
    return synth()


@pytest.fixture(scope="session")
def custom(synth) -> Synthesized:
    return synth(CUSTOM)


@pytest.fixture(scope="session")
def github_actions(synth) -> Synthesized:
    return synth(GITHUB_ACTIONS)
