"""The promotion jobs of the CI files `mwaa-kit init --ci` writes (issue #15), run step by
step as read from those files, against the kit's MWAA API emulator and a moto server:
promote once, then the pull-request plan finds nothing to do, and so does a rerun.

The OIDC exchange is the one part faked: the role ARN of the repository variable goes
into an AWS config (role_arn + web_identity_token_file, as configure-aws-credentials or
GitLab's ID token would provide), and boto3 assumes it with moto's STS
(AssumeRoleWithWebIdentity). The job's environment has no other credentials. The kit the
jobs install is this checkout (MWAA_KIT_SPEC), into a fresh virtualenv under a fresh HOME.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mwaa_kit.project import load_project
from mwaa_kit.release.ci_recipes import recipe_path
from tests.e2e.ci_jobs import run_github_job, run_gitlab_job
from tests.e2e.conftest import new_folder
from tests.e2e.promote_emulators import new_environment

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ROLES = {"MWAA_ROLE_ARN": "arn:aws:iam::123456789012:role/mwaa-kit-ci-promote",
         "MWAA_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/mwaa-kit-ci-plan"}
# An OIDC token's shape (header.payload.signature); moto's STS does not verify it.
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvcHJvamVjdCJ9.c2lnbmF0dXJl"
# The caches of the machine, where a runner keeps uv's and pip's downloads.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
CONFIG = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


@pytest.fixture
def project(emulators, aws):
    """A scaffold with both CI files (the real CLI wrote them), its [targets.prod] naming
    an AVAILABLE environment of the emulator, committed to git."""
    root = new_folder("ci-promotion")
    written = subprocess.run([sys.executable, "-m", "mwaa_kit", "init", str(root), "--ci",
                              "github"], capture_output=True, text=True)
    assert written.returncode == 0, written.stderr
    subprocess.run([sys.executable, "-m", "mwaa_kit", "ci", "init", "gitlab", "--project",
                    str(root)], check=True, capture_output=True)
    environment = new_environment(aws, load_project(root).airflow_version)
    with (root / "mwaa-kit.toml").open("a") as config:
        config.write(f'\n[targets.prod]\nenvironment_name = "{environment["name"]}"\n'
                     'region = "us-east-1"\n')
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm",
                     "project"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    yield {"root": root, **environment}
    shutil.rmtree(root, ignore_errors=True)


def _runner(emulators, home: Path) -> dict[str, str]:
    """A runner's environment: the image's `python` (nothing of the kit on PATH), a fresh
    HOME, the machine's caches and network settings, the emulators' endpoints, and no AWS
    credentials or config of any kind."""
    shim = home / "image-bin"
    shim.mkdir()
    (shim / "python").symlink_to(sys._base_executable)
    kept = {name: value for name, value in os.environ.items()
            if not name.startswith(("AWS_", "MWAA_", "PYTHONPATH", "VIRTUAL_ENV"))}
    return {**kept, "PATH": f"{shim}:/usr/bin:/bin", "HOME": str(home),
            "XDG_CACHE_HOME": str(CACHE), "XDG_CONFIG_HOME": str(CONFIG),
            "AWS_ENDPOINT_URL": emulators["s3_url"],  # moto: S3, and STS for the role
            "AWS_ENDPOINT_URL_MWAA": emulators["mwaa_url"],
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "AWS_CONFIG_FILE": str(home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials")}


def _configure_aws_credentials(home: Path):
    """configure-aws-credentials' stand-in: the repository variable its `role-to-assume`
    names, assumed with a web identity token through an AWS config."""
    token = home / "oidc-token"
    token.write_text(TOKEN)

    def assume(inputs: dict) -> dict[str, str]:
        variable = re.fullmatch(r"\$\{\{ vars\.(\w+) \}\}", inputs["role-to-assume"])[1]
        config = home / f"aws-config-{variable}"
        config.write_text(f"[default]\nrole_arn = {ROLES[variable]}\n"
                          f"web_identity_token_file = {token}\n"
                          f"region = {inputs['aws-region']}\n")
        return {"AWS_CONFIG_FILE": str(config), "AWS_REGION": inputs["aws-region"]}

    return assume


def _github(project, emulators, tmp_path, job: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"github-{job}-", dir=tmp_path))
    actions = {"actions/checkout": lambda inputs: {},
               "actions/upload-artifact": lambda inputs: {},
               "aws-actions/configure-aws-credentials": _configure_aws_credentials(home)}
    run = run_github_job(recipe_path(project["root"], "github"), job, project["root"],
                         _runner(emulators, home), actions, {"MWAA_KIT_SPEC": str(REPO)})
    assert run.ok, run.output()
    return json.loads((project["root"] / "mwaa-reports" / f"{job}.json").read_text())


def _gitlab(project, emulators, tmp_path, job: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"gitlab-{job}-", dir=tmp_path))
    runner = {**_runner(emulators, home), "MWAA_ID_TOKEN": TOKEN, "CI_JOB_ID": "7"}
    settings = {**ROLES, "MWAA_KIT_SPEC": str(REPO), "UV_CACHE_DIR": str(CACHE / "uv")}
    run = run_gitlab_job(recipe_path(project["root"], "gitlab"), f"mwaa:{job}",
                         project["root"], runner, settings)
    assert run.ok, run.output()
    return json.loads((project["root"] / "mwaa-reports" / f"{job}.json").read_text())


@pytest.mark.parametrize("run_job", [_github, _gitlab], ids=["github", "gitlab"])
def test_promote_then_the_plan_and_a_rerun_find_nothing_to_do(run_job, project, emulators,
                                                              aws, tmp_path):
    first = run_job(project, emulators, tmp_path, "promote")
    assert first["status"] == "AVAILABLE" and first["update_called"], first
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project["root"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert first["record"]["git"]["commit"] == head
    listing = aws["s3"].list_objects_v2(Bucket=project["bucket"], Prefix="dags/")
    assert [item["Key"] for item in listing["Contents"]] == ["dags/hello_mwaa.py"]
    pinned = aws["mwaa"].get_environment(Name=project["name"])["Environment"]
    assert pinned["PluginsS3ObjectVersion"] and pinned["RequirementsS3ObjectVersion"]

    plan = run_job(project, emulators, tmp_path, "plan")
    assert plan["status"] == "DRY_RUN"
    assert plan["plan"]["empty"] and plan["plan"]["changes"] == [], plan["plan"]

    again = run_job(project, emulators, tmp_path, "promote")
    assert again["status"] == "NOTHING_TO_DO" and again["uploaded_bytes"] == 0, again
    after = aws["mwaa"].get_environment(Name=project["name"])["Environment"]
    assert after["PluginsS3ObjectVersion"] == pinned["PluginsS3ObjectVersion"]
