"""Starting, finding and stopping the long-running processes of a local environment.

Each process runs in its own session (so its children stop with it), writes to its own
log file, and is recorded with its pid and start time, which tells a live process from
a recycled pid after a crash.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from mwaa_kit.errors import KitError, ProcessStartError, StartTimeoutError


class PortInUseError(KitError, RuntimeError):
    """A port the user asked for is already taken."""


@dataclass(frozen=True)
class ProcessRecord:
    """A started process as state.json keeps it; `started` tells it from a later process that
    reuses its pid."""

    name: str
    pid: int
    started: float  # the process's start time, as /proc reports it
    log: str
    port: int | None = None

    def to_dict(self) -> dict:
        """The record as state.json keeps it; ProcessRecord(**entry) reads it back."""
        return asdict(self)


def start(
    name: str,
    command: list[str],
    env: dict[str, str],
    log: Path,
    cwd: Path | None = None,
    port: int | None = None,
    user: str | None = None,
) -> ProcessRecord:
    """Start `command` detached from the caller, appending its output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        output.write(f"\n--- mwaa-kit: starting {name}: {' '.join(command)}\n".encode())
        output.flush()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, user=user,
        )
    return ProcessRecord(name, process.pid, _start_time(process.pid), str(log), port)


def is_alive(record: ProcessRecord) -> bool:
    """True when the recorded process still runs (and is the same process, not a reused pid)."""
    started = _start_time(record.pid)
    return started is not None and abs(started - record.started) < 1e-6 and not _is_zombie(
        record.pid
    )


def stop(record: ProcessRecord, timeout: float = 20) -> bool:
    """SIGTERM the process group, then SIGKILL whatever is left of it after `timeout`;
    False when nothing of it was running.

    The whole group, not only its leader: after a crash of the leader (kill -9 of the
    scheduler) its workers and log server live on in the group with PPID 1. A pid is never
    reused while a group of that id has members, so members found for a dead leader are
    this record's own, never another program's.
    """
    if not is_alive(record) and not group_members(record.pid):
        return False
    _signal_group(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_members(record.pid):
            return True
        time.sleep(0.2)
    _signal_group(record.pid, signal.SIGKILL)
    while group_members(record.pid) and time.monotonic() < deadline + 5:
        time.sleep(0.1)
    return True


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group `pgid`, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
        on_line: Callable[[str], None] | None = None,
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `command` to its end: its stdout and stderr captured in the result, or, with
    `on_line`, handed over (stderr merged) a line at a time as it comes (nothing kept).
    `timeout` bounds a captured run: the command is killed after that many seconds and
    subprocess.TimeoutExpired raised."""
    if on_line is None:
        return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    with subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                          errors="replace") as process:
        for line in process.stdout:
            on_line(line)
    return subprocess.CompletedProcess(command, process.returncode)


def free_port(preferred: int | None = None) -> int:
    """`preferred` if it is free, else any free loopback port."""
    if preferred and port_is_free(preferred):
        return preferred
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether `port` can be bound on 127.0.0.1 now (another process may still take it before
    ours does)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_for_port(port: int, record: ProcessRecord, timeout: float) -> None:
    """Wait until something accepts connections on `port`, failing early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(record):
            raise ProcessStartError(record.name, record.log)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise StartTimeoutError(
        f"{record.name} did not open port {port} in {timeout:.0f} s; see {record.log}")


def wait_for_http(url: str, timeout: float, record: ProcessRecord | None = None,
                  hint: str = "") -> None:
    """Wait until `url` answers, failing early if `record`'s process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if record is not None and not is_alive(record):
            raise ProcessStartError(record.name, record.log)
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except OSError:
            time.sleep(0.3)
    where = f"; see {record.log}" if record else (f"; {hint}" if hint else "")
    raise StartTimeoutError(f"{url} did not answer within {timeout:.0f} s{where}")


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _start_time(pid: int) -> float | None:
    """The process's start time in clock ticks since boot, from /proc (None if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return float(fields[19])


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
