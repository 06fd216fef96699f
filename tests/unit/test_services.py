"""The one service launcher: it starts a ServiceSpec's process, waits for its health (an
HTTP URL or a TCP port), and on failure raises the kit's errors and leaves nothing running."""

import os
import re
import sys
from pathlib import Path

import pytest

from mwaa_kit.errors import ProcessStartError, StartTimeoutError
from mwaa_kit.runtime import processes, services

ENV = {"PATH": os.environ["PATH"]}


def _http_server(tmp_path: Path, health) -> services.ServiceSpec:
    port = processes.free_port()
    return services.ServiceSpec(
        "web", (sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                "--directory", str(tmp_path)),
        ENV, health(port), 30, tmp_path / "web.log", port)


@pytest.mark.parametrize("health", [lambda port: f"http://127.0.0.1:{port}/", lambda port: port],
                         ids=["url", "port"])
def test_launch_returns_the_record_once_healthy(tmp_path, health):
    spec = _http_server(tmp_path, health)
    record = services.launch(spec)
    try:
        assert processes.is_alive(record)
        assert (record.name, record.port, record.log) == ("web", spec.port, str(spec.log))
        assert "mwaa-kit: starting web" in spec.log.read_text()
    finally:
        processes.stop(record, timeout=5)


def test_a_service_that_exits_raises_with_its_log_tail(tmp_path):
    spec = services.ServiceSpec(
        "broken", (sys.executable, "-c", "print('no such bucket', flush=True); exit(3)"),
        ENV, processes.free_port(), 30, tmp_path / "broken.log")
    with pytest.raises(ProcessStartError, match="no such bucket") as raised:
        services.launch(spec)
    assert str(spec.log) in raised.value.hint


def test_a_service_that_never_gets_healthy_times_out_and_is_stopped(tmp_path):
    pid_file = tmp_path / "silent.pid"
    spec = services.ServiceSpec(
        "silent", ("sh", "-c", f"echo $$ > {pid_file}; exec sleep 300"), ENV,
        processes.free_port(), 1, tmp_path / "silent.log")
    with pytest.raises(StartTimeoutError, match=re.escape(str(spec.log))):
        services.launch(spec)
    assert processes.group_members(int(pid_file.read_text())) == []


def test_a_service_without_health_is_ready_once_started(tmp_path):
    spec = services.ServiceSpec("sync", ("sleep", "300"), ENV, None, 0, tmp_path / "sync.log")
    record = services.launch(spec)
    try:
        assert processes.is_alive(record) and record.port is None
    finally:
        processes.stop(record, timeout=5)


def test_the_builders_health_checks(tmp_path):
    moto = services.moto_spec(tmp_path / "aws.log", 4566, state=tmp_path / "aws.json")
    assert "mwaa_kit.emulators.aws.persistent_moto" in moto.argv
    assert moto.health == "http://127.0.0.1:4566/moto-api/" and moto.port == 4566
    mwaa = services.mwaa_api_spec(tmp_path / "mwaa.log", 8081, "http://127.0.0.1:4566",
                                  tmp_path, apply="native", project_dir=tmp_path)
    assert mwaa.argv[-2:] == ("--project", str(tmp_path))
    assert mwaa.health.startswith("http://127.0.0.1:8081/")
    stub = services.salesforce_stub_spec(tmp_path / "sf.log", 8443, tmp_path)
    assert stub.health == stub.port == 8443  # HTTPS with its own CA: the port tells
    sync = services.dags_sync_spec(tmp_path / "sync.log", "http://127.0.0.1:4566", "bucket",
                                   "dags", tmp_path / "dags", 5.0, ENV)
    assert sync.health is None and sync.argv[-2:] == ("--interval", "5.0")
