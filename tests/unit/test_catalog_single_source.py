"""The catalog is the one list of MWAA's Airflow versions (and of the web server access
modes): the emulator, `validate`, `promote`, the CLI and the CDK app read it, and no code
outside mwaa_kit/catalog keeps a copy of a version number, a list of them or a pattern
that would accept some."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.project import ProjectConfigError, load_project

REPO = Path(__file__).resolve().parents[2]
CODE = [path for root in ("mwaa_kit", "infra/mwaa_infra") for path in (REPO / root).rglob("*.py")
        if "catalog" not in path.relative_to(REPO).parts]
# Patterns that match the number of a release (`\d+\.\d+\.\d+`-like) outside the places that
# parse a user's constraints URL or an API's own version (Salesforce's /vNN.N).
_DIGIT = r"(?:\\d|[0-9])"
_VERSION_PATTERN = re.compile(rf"{_DIGIT}[+*]?\\\.{_DIGIT}[+*]?\\\.{_DIGIT}")


def _names_a_release_pattern(text: str) -> bool:
    r"""True for a regex such as r"^3\.\d+\.\d+$" or r"(\d+)\.(\d+)\.(\d+)"."""
    plain = re.sub(r"\[[0-9-]+\]", r"\\d", re.sub(r"\(\?:|[()]", "", text))
    return bool(_VERSION_PATTERN.search(plain))


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_the_scan_sees_the_package():
    names = {path.relative_to(REPO).as_posix() for path in CODE}
    assert {"mwaa_kit/emulators/mwaa/backend.py", "mwaa_kit/checks/requirements.py",
            "mwaa_kit/release/promote.py", "infra/mwaa_infra/settings.py"} <= names
    assert not any(name.startswith("mwaa_kit/catalog/") for name in names)


def test_no_code_outside_the_catalog_names_a_catalog_version():
    versions = "|".join(re.escape(version) for version in catalog.supported_versions())
    named = re.compile(rf"(?<![\w.])({versions})(?![\w.])")
    found = [f"{path.relative_to(REPO)}:{line}: {text[:80]!r}" for path in CODE
             for line, text in _string_constants(path) if named.search(text)]
    assert found == [], "read the version from mwaa_kit.catalog instead:\n" + "\n".join(found)


def test_no_code_outside_the_catalog_keeps_a_version_pattern():
    found = [f"{path.relative_to(REPO)}:{line}: {text[:80]!r}" for path in CODE
             for line, text in _string_constants(path) if _names_a_release_pattern(text)]
    assert found == [], "use catalog.supported_versions():\n" + "\n".join(found)


def test_no_code_outside_the_catalog_lists_the_access_modes():
    modes = set(catalog.mwaa().webserver_access_modes)
    found = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                values = {element.value for element in node.elts
                          if isinstance(element, ast.Constant)}
                if len(values & modes) >= 2:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert found == [], "read catalog.mwaa().webserver_access_modes instead: " + ", ".join(found)


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_a_project_may_name_every_catalog_version(tmp_path, version):
    (tmp_path / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    project = load_project(tmp_path)
    assert project.airflow_version == version
    assert project.version is catalog.get_version(version)


@pytest.mark.parametrize("version", ["3.1.0", "3.2.0", "2.9.2", "3.3"])
def test_a_project_may_name_no_other_version(tmp_path, version):
    (tmp_path / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    with pytest.raises(ProjectConfigError, match=", ".join(catalog.supported_versions())):
        load_project(tmp_path)
