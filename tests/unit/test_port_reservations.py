"""Ports one `up` chose and has not bound yet are kept from the next (two environments
started at once both took 8080, and the loser's UI check was answered by the winner)."""

import os
import subprocess
import sys

import pytest

from mwaa_kit.runtime import port_reservations, processes


@pytest.fixture(autouse=True)
def own_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(port_reservations, "FOLDER", tmp_path / "reservations")
    monkeypatch.setattr(port_reservations, "_held", [])


def _reserve_in_another_process(port: int) -> subprocess.Popen:
    """A live process holding a reservation of `port`, as a concurrent `up` would."""
    code = ("import sys, time; from pathlib import Path\n"
            "from mwaa_kit.runtime import port_reservations as r\n"
            f"r.FOLDER = Path({str(port_reservations.FOLDER)!r})\n"
            f"print(r.reserve({port}), flush=True); time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert int(holder.stdout.readline()) == port
    return holder


def test_a_port_another_live_up_reserved_is_not_chosen_even_if_free():
    port = processes.free_port()
    holder = _reserve_in_another_process(port)
    try:
        assert processes.port_is_free(port)  # nothing listens yet...
        assert port_reservations.reserve(port) != port  # ...but it is taken
    finally:
        holder.kill()
        holder.wait()


def test_the_reservation_of_an_ended_up_is_stale():
    port = processes.free_port()
    holder = _reserve_in_another_process(port)
    holder.kill()
    holder.wait()
    assert port_reservations.reserve(port) == port


def test_this_process_releases_its_reservations():
    port = port_reservations.reserve(processes.free_port())
    marker = port_reservations.FOLDER / str(port)
    assert marker.read_text() == str(os.getpid())
    port_reservations.release_all()
    assert not marker.exists()


def test_a_port_handed_to_a_live_environment_process_stays_reserved():
    port = port_reservations.reserve(processes.free_port())
    service = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        port_reservations.hand_over([port], service.pid)
        port_reservations.release_all()  # `up` exits: the reservation is not its any more
        marker = port_reservations.FOLDER / str(port)
        assert marker.read_text() == str(service.pid)
        port_reservations._held.clear()
        assert not port_reservations._claim(port)  # another `up` may not take it
    finally:
        service.kill()
        service.wait()
    assert port_reservations._claim(port)  # the environment is gone: stale


def test_an_environment_reclaims_its_ports_when_their_holder_died_not_another_s():
    ours, theirs = processes.free_port(), processes.free_port()
    crashed = subprocess.Popen([sys.executable, "-c", "pass"])
    crashed.wait()  # the first service that held our reservations, dead
    port_reservations.FOLDER.mkdir(parents=True, exist_ok=True)
    (port_reservations.FOLDER / str(ours)).write_text(str(crashed.pid))
    holder = _reserve_in_another_process(theirs)
    try:
        port_reservations.reclaim([ours, theirs])
        assert (port_reservations.FOLDER / str(ours)).read_text() == str(os.getpid())
        assert (port_reservations.FOLDER / str(theirs)).read_text() == str(holder.pid)
        assert port_reservations._held == [ours]
    finally:
        holder.kill()
        holder.wait()
