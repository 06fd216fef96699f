"""The compose image's part of the web server origin: every container trusts one kit CA,
made once in the state volume however many containers start together; the mwaa container
serves the origin (HTTPS, named as the host reaches it) with its CLI endpoint running
commands in the environment that container prepared."""

from __future__ import annotations

import multiprocessing

import pytest
from cryptography import x509

from mwaa_kit import catalog
from mwaa_kit.runtime.compose import entrypoint
from mwaa_kit.runtime.mwaa_cli import PreparedCliRunner


def _make_ca(tls_dir) -> str:
    entrypoint.TLS_DIR = tls_dir
    return entrypoint._kit_ca()


def test_containers_starting_together_make_and_trust_one_ca(tmp_path):
    tls_dir = tmp_path / "state" / "tls"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pems = pool.map(_make_ca, [tls_dir] * 8)
    assert len(set(pems)) == 1
    assert x509.load_pem_x509_certificate(pems[0].encode()).extensions.get_extension_for_class(
        x509.BasicConstraints).value.ca
    assert pems[0] == (tls_dir / "ca.pem").read_text()


def test_the_ca_bundle_adds_the_kit_s_ca_to_the_image_s(tmp_path, monkeypatch):
    monkeypatch.setattr(entrypoint, "TLS_DIR", tmp_path / "tls")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca-bundle.pem"))
    monkeypatch.setenv("MWAA_KIT_WAIT_FOR", "postgres:5432")
    entrypoint._write_ca_bundle()
    bundle = (tmp_path / "ca-bundle.pem").read_text()
    assert (tmp_path / "tls" / "ca.pem").read_text() in bundle
    assert bundle.count("BEGIN CERTIFICATE") > 1  # the image's own CAs stay


def test_the_mwaa_container_serves_the_origin_with_its_own_cli_runner(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("MWAA_KIT_WEB_HOSTNAME", "127.0.0.1:8555")
    monkeypatch.setenv("MWAA_KIT_ENVIRONMENT_NAME", "StackEnv")
    served = {}
    monkeypatch.setattr(entrypoint, "_wait_for_services", lambda: None)
    monkeypatch.setattr(entrypoint, "_require_writable_volumes", lambda: None)
    monkeypatch.setattr(entrypoint, "_write_ca_bundle", lambda: None)
    monkeypatch.setattr(entrypoint, "_wait_for_init", lambda: None)
    monkeypatch.setattr(entrypoint, "_prepared", lambda version: "prepared")
    monkeypatch.setattr(entrypoint.mwaa_api, "main",
                        lambda argv, runner, rollout: served.update(argv=argv, runner=runner,
                                                                    rollout=rollout))
    assert entrypoint.main("mwaa-api") == 0
    argv = served["argv"]
    option = {name: value for name, value in zip(argv, argv[1:], strict=False)}
    assert option["--webserver-hostname"] == "127.0.0.1:8555"
    assert option["--web-port"] == str(entrypoint.WEB_PORT)
    assert option["--web-upstream"] == option["--airflow-url"] == "http://webserver:8080"
    assert option["--tls-dir"] == str(entrypoint.TLS_DIR)
    assert option["--airflow-version"] == catalog.DEFAULT_VERSION
    assert isinstance(served["runner"], PreparedCliRunner)
    assert served["runner"].prepared() == "prepared"
    # Updates are checked with the contract, then rolled out to this stack's containers.
    assert option["--apply"] == "compose"
    assert served["rollout"].environment_name == "StackEnv"
    assert served["rollout"].health_url == "http://webserver:8080" + catalog.get_version(
        catalog.DEFAULT_VERSION).health_path


@pytest.fixture(autouse=True)
def _keep_tls_dir():
    tls_dir = entrypoint.TLS_DIR
    yield
    entrypoint.TLS_DIR = tls_dir


def test_the_cli_endpoint_follows_each_rolled_out_bundle_preparing_it_once(monkeypatch):
    """A rollout restarts the Airflow containers' processes, not the mwaa container's: its
    CLI endpoint must run commands with the new bundle's plugins and requirements."""
    bundles = iter(["bundle-1", "bundle-1", "bundle-2", "bundle-2"])
    monkeypatch.setattr(entrypoint.rollout, "current_bundle", lambda: None)
    prepared = []
    monkeypatch.setattr(entrypoint, "_prepared",
                        lambda version: prepared.append(version) or f"prepared-{len(prepared)}")
    follow = entrypoint._follow_rollouts("3.3.1", "at-start")
    assert follow() == "at-start"
    monkeypatch.setattr(entrypoint.rollout, "current_bundle", lambda: next(bundles))
    assert [follow() for _ in range(4)] == ["prepared-1", "prepared-1", "prepared-2",
                                            "prepared-2"]
    assert prepared == ["3.3.1", "3.3.1"]
