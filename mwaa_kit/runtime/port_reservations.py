"""Ports chosen by one `up` and not yet bound, kept from every other `up` on this machine.

`up` chooses its ports first and binds them up to a minute later, when each service has
started. Two environments started at once would both see 8080 free and both choose it;
the one whose API server then fails to bind would find its UI check answered by the
other's, report success, and be left with a dead API server. A reservation is a file
named after the port in a folder shared by every user, holding the pid of the process
that chose it; it stands while that process lives (so a crashed `up` frees its ports). A
native `up` that succeeds hands its reservations to its environment's first service, so
they stand while the environment runs, even while a crashed component waits to be
restarted on its port.

Hand-written: no library reserves loopback ports across processes; the file system's
exclusive create is the lock.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

from mwaa_kit.errors import KitError
from mwaa_kit.runtime.processes import free_port, port_is_free

FOLDER = Path(tempfile.gettempdir()) / "mwaa-kit-port-reservations"
_held: list[int] = []  # reserved by this process, released when it exits


def release_all() -> None:
    """Drop this process's reservations (at exit: its services have bound their ports)."""
    while _held:
        marker = FOLDER / str(_held.pop())
        if _holder(marker) == os.getpid():
            marker.unlink(missing_ok=True)


def reserve(preferred: int | None = None) -> int:
    """A free loopback port that no live `up` has reserved, reserved for this process:
    `preferred` when it is free and unreserved, else another."""
    _ensure_folder()
    for _ in range(200):
        port = free_port(preferred)
        if _claim(port):
            if not _held:
                atexit.register(release_all)
            _held.append(port)
            return port
        preferred = None  # taken by another `up`: any other port will do
    raise KitError("No free loopback port could be reserved: 200 were taken in a row.",
                   hint="Stop environments you no longer need (`mwaa-kit down`), then retry.")


def reclaim(ports) -> None:
    """Reserve an environment's own `ports` again for this process where their reservation
    ended with its holder (the environment's first service crashed): the restart on them is
    then not raced by another `up` that finds them free for a moment. A port another live
    process has reserved is left to it."""
    _ensure_folder()
    for port in ports:
        marker = FOLDER / str(port)
        if port in _held or _holder_alive(marker):
            continue
        marker.unlink(missing_ok=True)
        try:
            _create_holding_pid(marker)
        except FileExistsError:
            continue  # another `up` reserved it just now
        if not _held:
            atexit.register(release_all)
        _held.append(port)


def hand_over(ports, pid: int) -> None:
    """Let `pid` hold this process's reservations of `ports` from now on: an environment's
    ports stay reserved while it runs, so that a component restarted after a crash does
    not find its port taken by another environment starting meanwhile."""
    for port in ports:
        if port not in _held:
            continue
        os.replace(_written_pid_file(pid), FOLDER / str(port))
        _held.remove(port)


def _claim(port: int) -> bool:
    marker = FOLDER / str(port)
    for _ in range(2):
        try:
            _create_holding_pid(marker)
        except FileExistsError:
            if _holder_alive(marker) or not port_is_free(port):
                return False
            marker.unlink(missing_ok=True)  # left by an `up` that has ended
            continue
        return True
    return False


def _create_holding_pid(marker: Path) -> None:
    """Create `marker` with this pid in it, whole or not at all (a hard link of a written
    temporary file). FileExistsError when it exists."""
    written = _written_pid_file(os.getpid())
    try:
        os.link(written, marker)
    finally:
        os.unlink(written)


def _written_pid_file(pid: int) -> str:
    """A temporary file in FOLDER holding `pid`, readable by all, to link or move into place
    whole: a reader never sees a reservation empty or half-written."""
    with tempfile.NamedTemporaryFile("w", dir=FOLDER, prefix=".", delete=False) as stream:
        stream.write(str(pid))
    os.chmod(stream.name, 0o644)
    return stream.name


def _holder(marker: Path) -> int | None:
    """The pid a reservation names; None when it is gone or not a reservation."""
    try:
        return int(marker.read_text())
    except (OSError, ValueError):
        return None


def _holder_alive(marker: Path) -> bool:
    pid = _holder(marker)
    if pid is None:
        return False  # gone since, or not a reservation
    if pid == os.getpid():
        return True  # this process reserved it already
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _ensure_folder() -> None:
    """A folder every user may create reservations in (sticky, as /tmp itself)."""
    try:
        FOLDER.mkdir(mode=0o1777)
        FOLDER.chmod(0o1777)  # mkdir's mode is cut by the umask
    except FileExistsError:
        pass
