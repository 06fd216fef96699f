"""plugins.zip is byte-identical from two builds at different times in different checkouts."""

import os
import shutil
import time
import zipfile

from mwaa_kit import catalog
from mwaa_kit.project import load_project
from mwaa_kit.release.package import offline_requirements, package, requirements_for_mwaa

REPO = __import__("pathlib").Path(__file__).resolve().parents[3]


def _checkout(target):
    for part in ("plugins", "requirements"):
        shutil.copytree(REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "mwaa-kit.toml", target / "mwaa-kit.toml")
    return target


def test_two_checkouts_at_different_times_give_the_same_bytes(tmp_path):
    first = _checkout(tmp_path / "a" / "checkout")
    built_first = package(load_project(first), first / "dist")
    time.sleep(1.1)
    second = _checkout(tmp_path / "elsewhere" / "b")
    for path in (second / "plugins").rglob("*"):  # other mtimes, modes and a stray cache
        os.utime(path, (1_900_000_000, 1_900_000_000))
        if path.is_file():
            path.chmod(0o600)
    (second / "plugins" / "operators" / "__pycache__").mkdir()
    (second / "plugins" / "operators" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"x")
    built_second = package(load_project(second), second / "dist")
    assert (first / "dist" / "plugins.zip").read_bytes() == (
        second / "dist" / "plugins.zip").read_bytes()
    assert built_first.files == built_second.files
    with zipfile.ZipFile(second / "dist" / "plugins.zip") as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert "operators/salesforce_to_s3_operator.py" in names
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert not any("__pycache__" in name for name in names)


def test_dist_has_requirements_with_the_constraints_line_and_startup(tmp_path):
    project = load_project(_checkout(tmp_path / "p"))
    result = package(project, tmp_path / "p" / "dist")
    text = (tmp_path / "p" / "dist" / "requirements.txt").read_text()
    assert text.rstrip().endswith(f"-c {project.version.constraints_url}")
    assert result.constraints_line == f"-c {project.version.constraints_url}"
    assert (tmp_path / "p" / "dist" / "startup.sh").read_bytes() == (
        REPO / "requirements" / "startup.sh").read_bytes()


def test_own_constraints_line_is_kept():
    version = catalog.get_version("3.0.6")
    text = "--constraint /usr/local/airflow/plugins/c.txt\nhumanize\n"
    assert requirements_for_mwaa(version, text) == text


def test_offline_requirements_install_from_the_shipped_wheels_only():
    text = offline_requirements("--index-url https://pypi.example\n-c https://x/c.txt\nhumanize\n")
    lines = text.splitlines()
    assert "--no-index" in lines
    assert "--find-links /usr/local/airflow/plugins/wheels" in lines
    assert "-c /usr/local/airflow/plugins/wheels/constraints.txt" in lines
    assert "humanize" in lines
    assert not any("pypi.example" in line or "https://x" in line for line in lines)
