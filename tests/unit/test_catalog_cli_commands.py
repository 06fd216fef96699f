"""MWAA's Airflow CLI allow/deny data (catalog/cli_commands.toml): every catalog version has
rules, and the rules decide as MWAA's published lists say."""

from __future__ import annotations

import pytest

from mwaa_kit import catalog
from mwaa_kit.catalog import cli_commands
from mwaa_kit.catalog.cli_commands import CatalogError, Entry, cli_rules


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_every_catalog_version_has_rules_that_run_the_documented_examples(version):
    rules = cli_rules(version)
    assert rules.major == catalog.get_version(version).major
    for command in ("dags trigger my_dag -c {\"key\":\"value\"}", "dags list -o json",
                    "variables get x", "version"):
        assert rules.refusal(command.split()) is None, command


@pytest.mark.parametrize("version", catalog.supported_versions())
@pytest.mark.parametrize("command", ["db reset -y", "users create -r Admin", "scheduler",
                                     "webserver", "tasks run d t r", "pools import f.json",
                                     "dags show d --save out.png", "dags test d --save-dagrun=x",
                                     "", "airflow dags list"])
def test_what_mwaa_does_not_list_is_refused_with_the_reason(version, command):
    refusal = cli_rules(version).refusal(command.split())
    assert refusal and "Amazon MWAA" in refusal and f"v{version[0]}" in refusal


def test_each_major_names_its_own_commands():
    assert cli_rules("2.11.0").refusal(["dags", "backfill", "d"]) is None
    assert cli_rules("3.3.1").refusal(["dags", "backfill", "d"])
    assert cli_rules("3.3.1").refusal(["backfill", "create", "--dag-id", "d"]) is None


def test_an_entry_matches_its_words_and_options_only():
    entry = Entry.parse("dags show --save", "here")
    assert entry.matches(["dags", "show", "d", "--save", "x"])
    assert entry.matches(["dags", "show", "d", "--save=x"])
    assert not entry.matches(["dags", "show", "d"])
    assert not entry.matches(["dags", "showx", "--save"])
    with pytest.raises(CatalogError):
        Entry.parse("--save dags", "here")


def test_a_major_without_rules_is_a_catalog_error(monkeypatch):
    monkeypatch.setattr(cli_commands, "_rules", lambda: {})
    with pytest.raises(CatalogError, match=r"\[majors\.3\]"):
        cli_rules("3.3.1")
