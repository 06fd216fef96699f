"""tox has exactly one `airflowNNN` env per catalog version, each running the suite on
its version (MWAA_KIT_AIRFLOW_VERSION), and all of them in envlist."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from mwaa_kit import catalog

TOX_INI = Path(__file__).resolve().parents[2] / "tox.ini"


def _tox() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(TOX_INI)
    return parser


def _env_name(version: str) -> str:
    return "airflow" + version.replace(".", "")


def _setenv(parser: configparser.ConfigParser, env: str) -> dict[str, str]:
    lines = parser.get(f"testenv:{env}", "setenv", fallback="").strip().splitlines()
    return {name.strip(): value.strip() for name, _, value in
            (line.partition("=") for line in lines if line.strip())}


def test_envlist_has_one_airflow_env_per_catalog_version():
    parser = _tox()
    envlist = [env.strip() for env in re.split(r"[,\s]+", parser.get("tox", "envlist")) if env]
    airflow_envs = [env for env in envlist if re.fullmatch(r"airflow\d+", env)]
    assert sorted(airflow_envs) == sorted(_env_name(v) for v in catalog.supported_versions())
    assert len(airflow_envs) == len(set(airflow_envs))


def test_each_airflow_env_runs_its_version():
    parser = _tox()
    sections = [name.removeprefix("testenv:") for name in parser.sections()
                if re.fullmatch(r"testenv:airflow\d+", name)]
    assert sorted(sections) == sorted(_env_name(v) for v in catalog.supported_versions())
    for version in catalog.supported_versions():
        assert _setenv(parser, _env_name(version)).get("MWAA_KIT_AIRFLOW_VERSION") == version, \
            f"[testenv:{_env_name(version)}] must set MWAA_KIT_AIRFLOW_VERSION = {version}"


def test_env_names_cannot_collide():
    # dots dropped, two versions must still give two names (2.1.10 vs 2.11.0 would not)
    names = [_env_name(version) for version in catalog.supported_versions()]
    assert len(names) == len(set(names))
