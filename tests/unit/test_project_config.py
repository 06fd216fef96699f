import tomllib
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.catalog.api_model import accepts
from mwaa_kit.project import ProjectConfigError, load_project


def _write(tmp_path, text):
    (tmp_path / "mwaa-kit.toml").write_text(text)
    return tmp_path


def test_defaults_without_a_file(tmp_path):
    project = load_project(tmp_path)
    assert project.airflow_version == catalog.DEFAULT_VERSION
    assert project.environment_class == "mw1.small"
    assert project.aws_emulator == "moto"
    assert project.state_dir == tmp_path.resolve() / ".mwaa-kit"


def test_a_full_file_is_read(tmp_path):
    project = load_project(_write(tmp_path, """
[environment]
name = "Ingestion"
airflow_version = "2.11.0"
environment_class = "mw1.medium"
region = "eu-west-1"
[airflow_config]
"core.default_task_retries" = 2
"webserver.expose_config" = true
[aws]
emulator = "localstack"
[targets.prod]
environment_name = "IngestionProd"
region = "eu-west-1"
profile = "prod"
"""))
    assert project.environment_name == "Ingestion"
    assert project.version.python_version == "3.12"
    assert project.airflow_config == {"core.default_task_retries": "2",
                                      "webserver.expose_config": "True"}
    assert project.targets["prod"].profile == "prod"


def test_unknown_version_lists_the_supported_ones(tmp_path):
    _write(tmp_path, '[environment]\nairflow_version = "2.9.9"\n')
    with pytest.raises(ProjectConfigError) as error:
        load_project(tmp_path)
    for version in catalog.supported_versions():
        assert version in str(error.value)


@pytest.mark.parametrize("text, fragment", [
    ('[environment]\nenvironment_class = "mw1.huge"\n', "mw1.micro"),
    ('[environment]\ncolour = "blue"\n', "unknown setting(s) colour"),
    ('[airflow_config]\nretries = "1"\n', "section.key"),
    ('[aws]\nemulator = "minio"\n', "moto, localstack"),
    ('[targets.prod]\nregion = "us-east-1"\n', "needs environment_name"),
    ('[environment\n', "not valid TOML"),
    ('[environment]\nregion = "mars"\n', "environment.region"),
    ('[environment]\nname = "1st-env"\n', "not a valid MWAA environment name"),
    (f'[environment]\nname = "{"a" * 81}"\n', "not a valid MWAA environment name"),
    ('[targets.prod]\nenvironment_name = "prod env"\nregion = "us-east-1"\n',
     "targets.prod.environment_name"),
])
def test_bad_settings_get_a_clear_error(tmp_path, text, fragment):
    with pytest.raises(ProjectConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_project(_write(tmp_path, text))


@pytest.mark.parametrize("name, accepted", [
    ("MwaaEnvironment", True), ("a", True), ("a-b_C9", True), ("a" * 80, True),
    ("a" * 81, False), ("9lives", False), ("", False), ("with space", False),
])
def test_environment_names_follow_botocore_s_mwaa_model(name, accepted):
    assert accepts("EnvironmentName", name) is accepted


def test_the_package_metadata_names_its_licence_as_an_spdx_string():
    # A license table is deprecated by setuptools, whose builds of it stop on 2027-02-18.
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml")
                              .read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
