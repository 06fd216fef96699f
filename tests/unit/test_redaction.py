"""The project's secrets are masked in whatever Airflow output the kit relays or keeps."""

import json

from mwaa_kit.project import load_project
from mwaa_kit.runtime.redaction import Redactor, project_secrets

SEED = """
[variables]
bucket_name = "not-a-secret-bucket"
api_token = "var-token-7f3a"

[connections.salesforce_connection]
conn_type = "salesforce"
login = "dev@example.com"
password = "pw-91c2e"
extra = { security_token = "sf-token-55d1", domain = "$salesforce_domain" }

[connections.with_json_extra]
conn_type = "http"
extra = '{"private_key": "pk-0c9e", "timeout": 30}'
"""


def test_project_secrets_are_the_sensitive_values_of_seed_toml_and_the_admin_password(
        tmp_path):
    (tmp_path / "seed.toml").write_text(SEED)
    (tmp_path / ".mwaa-kit").mkdir()
    (tmp_path / ".mwaa-kit" / "admin-password.json").write_text(
        json.dumps({"admin": "admin-pw-3e8b"}))
    assert project_secrets(load_project(tmp_path)) == {
        "var-token-7f3a", "pw-91c2e", "sf-token-55d1", "pk-0c9e", "admin-pw-3e8b"}


def test_the_redactor_masks_every_secret_and_nothing_else():
    redact = Redactor({"pw-91c2e", "pw-91c2e-longer", "ab"})
    line = "MaskSecret(value='pw-91c2e', name='password') pw-91c2e-longer ab login=dev\n"
    assert redact(line) == "MaskSecret(value='***', name='password') *** ab login=dev\n"


def test_a_redactor_without_secrets_changes_nothing():
    assert Redactor(set())("anything [at] all\n") == "anything [at] all\n"
