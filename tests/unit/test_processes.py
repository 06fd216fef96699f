"""Stopping a recorded process stops its whole process group, a crashed leader's orphans too."""

import os
import signal
import time

from mwaa_kit.runtime import processes


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _start_leader_with_children(tmp_path):
    record = processes.start(
        "scheduler", ["bash", "-c", "sleep 300 & sleep 300 & wait"],
        env={"PATH": os.environ["PATH"]}, log=tmp_path / "scheduler.log")
    assert _wait_until(lambda: len(processes.group_members(record.pid)) == 3)
    return record


def test_stop_ends_the_leader_and_its_children(tmp_path):
    record = _start_leader_with_children(tmp_path)
    assert processes.stop(record, timeout=5) is True
    assert processes.group_members(record.pid) == []


def test_stop_after_the_leader_was_killed_ends_its_orphans(tmp_path):
    record = _start_leader_with_children(tmp_path)
    os.kill(record.pid, signal.SIGKILL)
    assert _wait_until(lambda: not processes.is_alive(record))
    orphans = processes.group_members(record.pid)
    assert len(orphans) == 2, "the children outlive their leader until stopped"
    assert processes.stop(record, timeout=5) is True
    assert processes.group_members(record.pid) == []


def test_stop_of_a_finished_group_reports_nothing_stopped(tmp_path):
    record = processes.start("done", ["true"], env={"PATH": os.environ["PATH"]},
                             log=tmp_path / "done.log")
    assert _wait_until(lambda: not processes.group_members(record.pid))
    assert processes.stop(record) is False
