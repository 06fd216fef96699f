"""The relay in front of each Airflow process masks the project's secrets in its output and
passes its exit status on; a stop signal reaches the relayed process, not the relay."""

import os
import signal
import subprocess
import sys
import time

SEED = '[connections.probe]\nconn_type = "http"\npassword = "pw-unit-4c2e"\n'


def _relay(tmp_path, script):
    (tmp_path / "seed.toml").write_text(SEED)
    return subprocess.Popen(
        [sys.executable, "-m", "mwaa_kit.runtime.masked_output", "--project", str(tmp_path),
         "--", sys.executable, "-c", script],
        stdout=subprocess.PIPE, text=True, start_new_session=True)


def test_the_relay_masks_secrets_and_keeps_the_exit_status(tmp_path):
    relay = _relay(tmp_path, "print('password: pw-unit-4c2e'); raise SystemExit(3)")
    output, _ = relay.communicate(timeout=60)
    assert output == "password: ***\n"
    assert relay.returncode == 3


def test_a_stop_of_the_group_ends_the_relayed_process_and_then_the_relay(tmp_path):
    relay = _relay(tmp_path, "import time\nprint('up', flush=True)\ntime.sleep(300)\n"
                             "print('never')")
    assert relay.stdout.readline() == "up\n"
    os.killpg(relay.pid, signal.SIGTERM)
    started = time.monotonic()
    assert relay.wait(timeout=30) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 30
