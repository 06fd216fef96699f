"""One life-cycle command at a time in a project.

Two `up`s at once both start services and write the same files (one crashed on the other's
plugins.zip.partial, or claimed "is up" before the first had finished); a `down` during an
`up` stops what the `up` is still starting. `up`, `down` and `restart` hold an exclusive
lock on a file of the state folder for their whole length; a second one is refused at once,
naming the command and process that hold it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from mwaa_kit.errors import KitError

LOCK_NAME = "lifecycle.lock"


class ProjectBusyError(KitError, RuntimeError):
    """Another up/down/restart runs in this project, or its state folder is not writable."""


@contextlib.contextmanager
def exclusive(state_dir: Path, command: str) -> Iterator[None]:
    """Hold the project's life-cycle lock while `command` ("up", "down"...) runs."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        handle = (state_dir / LOCK_NAME).open("a+")
    except OSError as error:
        raise ProjectBusyError(
            f"Cannot write to {state_dir} ({error.strerror}): mwaa-kit keeps the local "
            "environment's state there. Make it writable (e.g. `chmod -R u+w "
            f"{state_dir}`) or run the command as its owner."
        ) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another command"
            raise ProjectBusyError(
                f"`mwaa-kit {holder}` is running in this project. Wait for it to finish, "
                f"then run `mwaa-kit {command}` again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{command} (pid {os.getpid()})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
