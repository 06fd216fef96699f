"""seed.toml is checked before anything starts, and the stub's org is seeded all or nothing."""

import shutil
from pathlib import Path

import pytest

from mwaa_kit.checks import config
from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.emulators.aws.seed import SeedFileError, check_seed_file
from mwaa_kit.emulators.salesforce import generator, org
from mwaa_kit.project import load_project

EXAMPLE_SEED = Path(__file__).resolve().parents[2] / "seed.toml"


def _seed(tmp_path, salesforce: str) -> Path:
    path = tmp_path / "seed.toml"
    path.write_text(f"[salesforce]\n{salesforce}\n")
    return path


def test_the_example_seed_file_is_accepted():
    assert check_seed_file(EXAMPLE_SEED).salesforce["objects"]["Opportunity"] == 3000


@pytest.mark.parametrize(("salesforce", "message"), [
    ("objects = { Opportunity = -5 }", r"Opportunity = -5; write a count of 0 or more"),
    ("objects = { Opportunity = 'many' }", r"Opportunity = 'many'"),
    ("objects = { Opportunities = 5 }", r"unknown object 'Opportunities'; the stub knows"),
    ("objects = [1, 2]", r"objects must be a table"),
    ("seed = 'x'", r"seed must be a whole number"),
    ("sead = 42", r"unknown key\(s\) sead"),
])
def test_a_bad_salesforce_section_is_refused_with_what_to_write(tmp_path, salesforce, message):
    with pytest.raises(SeedFileError, match=message):
        check_seed_file(_seed(tmp_path, salesforce))


def test_validate_reports_a_bad_seed_file(tmp_path):
    _seed(tmp_path, "objects = { Opportunity = -5 }")
    result = CheckResult("config")
    config.seed_file(load_project(tmp_path), result)
    assert [finding.code for finding in result.errors] == ["config.seed_file"]
    assert "Opportunity = -5" in result.errors[0].message


def test_validate_accepts_the_example_seed_file(tmp_path):
    shutil.copy(EXAMPLE_SEED, tmp_path / "seed.toml")
    result = CheckResult("config")
    config.seed_file(load_project(tmp_path), result)
    assert result.findings == []


def test_a_seeded_org_has_its_records(tmp_path):
    org.seed_new_org(tmp_path, {"Account": 3, "Lead": 2}, 42)
    store = org.open_store(tmp_path)
    assert (store.count("Account"), store.count("Lead")) == (3, 2)
    assert not (tmp_path / "data.sqlite.partial").exists()


def test_a_seed_that_fails_half_way_leaves_no_org(tmp_path, monkeypatch):
    real_generate = generator.generate

    def fail_on_leads(store, name, count, seed_value, now):
        if name == "Lead":
            raise RuntimeError("disk full")
        real_generate(store, name, count, seed_value, now)

    monkeypatch.setattr(generator, "generate", fail_on_leads)
    with pytest.raises(RuntimeError, match="disk full"):
        org.seed_new_org(tmp_path, {"Account": 3, "Lead": 2}, 42)
    assert sorted(path.name for path in tmp_path.iterdir()) == []
