"""`mwaa-kit infra synth|diff|deploy`: the project's settings become context of the pinned
CDK CLI, and a real `synth` works offline."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from mwaa_kit.cli import main

from .conftest import INFRA_DIR


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "mwaa-kit.toml").write_text(
        '[environment]\nname = "CliEnv"\nairflow_version = "2.11.0"\n'
        'environment_class = "mw1.medium"\nregion = "eu-west-1"\n'
        '[targets.prod]\nenvironment_name = "ProdEnv"\nregion = "eu-central-1"\n'
    )
    return tmp_path


def _dry_run(command, *args):
    # --dry-run before any `--`: what follows `--` goes to the CDK CLI untouched
    result = CliRunner().invoke(main, ["infra", command, "--dry-run", *args])
    assert result.exit_code == 0, result.output
    return shlex.split(result.output.strip())


def _context(argv):
    return dict(argv[i + 1].split("=", 1) for i, arg in enumerate(argv) if arg == "--context")


def test_synth_passes_the_project_as_context(project):
    argv = _dry_run("synth", "-p", str(project), "--infra-dir", str(INFRA_DIR))
    assert argv[0].endswith("infra/node_modules/.bin/cdk") and argv[1] == "synth"
    assert argv[argv.index("--app") + 1] == f"{shlex.quote(sys.executable)} app.py"
    assert _context(argv) == {
        "projectDir": str(project), "envName": "CliEnv", "region": "eu-west-1",
        "environmentClass": "mw1.medium", "airflowVersion": "2.11.0",
    }


def test_target_and_context_options(project):
    argv = _dry_run("deploy", "-p", str(project), "--infra-dir", str(INFRA_DIR), "-t", "prod",
                    "-c", "maxWorkers=4", "-c", 'envTags={"team": "data"}', "--profile", "ops",
                    "--", "--require-approval", "never")
    context = _context(argv)
    assert (context["envName"], context["region"]) == ("ProdEnv", "eu-central-1")
    assert context["promoteTarget"] == "prod"
    assert context["maxWorkers"] == "4" and json.loads(context["envTags"]) == {"team": "data"}
    assert argv[argv.index("--profile") + 1] == "ops"
    assert argv[-2:] == ["--require-approval", "never"]


def test_unknown_target_is_a_clear_error(project):
    result = CliRunner().invoke(main, ["infra", "diff", "-p", str(project), "-t", "nope",
                                       "--infra-dir", str(INFRA_DIR), "--dry-run"])
    assert result.exit_code == 1
    assert "No target 'nope'" in result.output


def test_real_synth_through_the_cdk_cli_offline(project, tmp_path, monkeypatch):
    # No credentials at all: synth must not need them.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    out = tmp_path / "cdk.out"
    started = time.monotonic()
    result = CliRunner().invoke(main, ["infra", "synth", "-p", str(project), "--infra-dir",
                                       str(INFRA_DIR), "--", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    manifest = json.loads((out / "manifest.json").read_text())
    assert "missing" not in manifest
    template = json.loads((out / "mwaa-CliEnv.template.json").read_text())
    (environment,) = [r for r in template["Resources"].values()
                      if r["Type"] == "AWS::MWAA::Environment"]
    assert environment["Properties"]["Name"] == "CliEnv"
    assert environment["Properties"]["AirflowVersion"] == "2.11.0"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"cidr": "10.0.0.0/33"}, "context cidr='10.0.0.0/33' is not an IPv4 CIDR block"),
        ({"envTags": "{team: data}"}, "context envTags is not valid JSON"),
    ],
)
def test_app_stops_on_a_bad_context_value(empty_project, tmp_path, context, message):
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path),
           "CDK_CONTEXT_JSON": json.dumps({"projectDir": str(empty_project), **context})}
    result = subprocess.run([sys.executable, "app.py"], cwd=INFRA_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
