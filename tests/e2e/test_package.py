"""`mwaa-kit package` through the CLI: dist/ holds what MWAA consumes, byte-stable."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from mwaa_kit import catalog
from tests.e2e.conftest import run_cli

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def _example(target: Path) -> Path:
    for part in ("dags", "plugins", "requirements"):
        shutil.copytree(REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "mwaa-kit.toml", target / "mwaa-kit.toml")
    return target


def test_package_twice_in_two_checkouts_gives_identical_files(project_dir):
    first = _example(project_dir / "one")
    second = _example(project_dir / "two")
    out = [json.loads(run_cli("package", "--format", "json", project=p, check=True).stdout)
           for p in (first, second)]
    assert out[0]["files"] == out[1]["files"]
    assert set(out[0]["files"]) == {"plugins.zip", "requirements.txt", "startup.sh"}
    assert (first / "dist/plugins.zip").read_bytes() == (second / "dist/plugins.zip").read_bytes()
    example_version = catalog.get_version(catalog.DEFAULT_VERSION)  # the example follows it
    assert f"-c {example_version.constraints_url}" in (first / "dist/requirements.txt").read_text()


def test_package_wheels_ships_manylinux_wheels_installed_offline(project_dir):
    project = _example(project_dir / "offline")
    result = run_cli("package", "--wheels", "--format", "json", project=project, check=True)
    wheels = json.loads(result.stdout)["wheels"]
    assert any(name.startswith("simple_salesforce-") for name in wheels)
    assert all(("manylinux" in n and "x86_64" in n and "cp312" in n) or n.endswith("-any.whl")
               for n in wheels), wheels
    lines = (project / "dist/requirements.txt").read_text().splitlines()
    assert "--no-index" in lines and "--find-links /usr/local/airflow/plugins/wheels" in lines
    with zipfile.ZipFile(project / "dist/plugins.zip") as archive:
        names = archive.namelist()
    assert "wheels/constraints.txt" in names and "operators/salesforce_to_s3_operator.py" in names
    assert {f"wheels/{name}" for name in wheels} <= set(names)
