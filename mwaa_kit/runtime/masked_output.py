"""Run one of the environment's processes with the project's secrets masked in its output.

Natively, Airflow's LocalExecutor echoes every task's output to the scheduler's console
(Airflow 3 hard-codes it), unmasked, and the kit keeps that console in its component logs:
a task printing a connection's password put it in .mwaa-kit/native/logs/scheduler.log.
Each Airflow process therefore runs under this relay, which masks every line before it
reaches the log. The relay ignores SIGTERM: a stop signals the whole process group, and the
relay ends when the process it relays closes its output, having written all of it.

Usage: python -m mwaa_kit.runtime.masked_output --project DIR -- COMMAND [ARG ...]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

from mwaa_kit.project import load_project
from mwaa_kit.runtime.redaction import Redactor, project_secrets


def main(argv: list[str] | None = None) -> int:
    """Relay the command's output, stderr merged, with the project's secrets masked; returns
    its exit status (128 + N when signal N killed it, as a shell reports it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="the project folder")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    redact = Redactor(project_secrets(load_project(arguments.project)))
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace") as process:
        # Ignored only now: the process relayed must not inherit the ignoring.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for line in process.stdout:
            sys.stdout.write(redact(line))
            sys.stdout.flush()
    code = process.returncode
    return code if code >= 0 else 128 - code  # killed by a signal: as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
