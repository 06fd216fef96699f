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


def test_the_origin_of_an_airflow_url_runs_the_cli_with_the_caller_s_runner(tmp_path,
                                                                            monkeypatch):
    built = {}
    monkeypatch.setattr(mwaa_api, "s3_client", lambda endpoint: None)
    monkeypatch.setattr(mwaa_api.tls, "ensure_certificates",
                        lambda tls_dir: (tls_dir / "server.pem", tls_dir / "server-key.pem"))
    monkeypatch.setattr(mwaa_api, "WebServer", lambda *arguments: built.update(
        upstream=arguments[2], login=arguments[3], runner=arguments[-1]) or "web")
    monkeypatch.setattr(mwaa_api, "serve_from", lambda arguments, backend, web: built.update(
        web=web))

    def runner(environment, arguments, timeout):
        raise AssertionError("not run here")

    mwaa_api.main(["--port", "1", "--s3-endpoint", "http://localstack:4566", "--state-dir",
                   str(tmp_path), "--airflow-url", "http://webserver:8080",
                   "--airflow-version", "3.3.1", "--password-file", str(tmp_path / "p.json"),
                   "--web-port", "8443", "--web-upstream", "http://webserver:8080"], runner)
    assert built["runner"] is runner and built["web"] == "web"
    assert built["upstream"] == "http://webserver:8080"
    assert isinstance(built["login"], mwaa_api.AirflowWebLogin)
