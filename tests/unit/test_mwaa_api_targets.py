"""Where the kit's MWAA API sends InvokeRestApi and web logins: the compose stack's webserver
container, named by options, with the admin password the init job wrote."""

from __future__ import annotations

import json

import pytest

from mwaa_kit.runtime import mwaa_api


def test_the_container_target_reads_the_init_job_s_password_at_each_call(tmp_path):
    password_file = tmp_path / "admin-password.json"
    target = mwaa_api.container_airflow("http://webserver:8080", "3.3.1", password_file)
    with pytest.raises(ConnectionError, match="no admin user yet"):
        target()
    password_file.write_text(json.dumps({"admin": "s3cret"}))
    assert target() == ("http://webserver:8080", "3.3.1", "s3cret")


def test_airflow_url_needs_its_version_and_password_file(capsys):
    with pytest.raises(SystemExit):
        mwaa_api.main(["--port", "1", "--s3-endpoint", "http://127.0.0.1:1", "--state-dir",
                       "/nonexistent", "--airflow-url", "http://webserver:8080"])
    assert "--airflow-url needs --airflow-version and --password-file" in capsys.readouterr().err
