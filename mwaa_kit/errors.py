"""The root of every failure the kit expects, in the manner of pip's diagnostic errors.

An expected failure (bad input, a port taken, a process that does not start, a refused
promotion...) is a `KitError`: a message saying what went wrong and, where the message
does not already say it, a hint saying what to do next. The CLI prints it as
`error: ...` / `hint: ...` with exit status 1 and never a traceback, or, under
`--format json`, as `{"error": {"type", "message", "hint"}}` on stdout. Anything else is a
bug in the kit and keeps its traceback.

Each module keeps its own subclass (for callers that catch one kind); a subclass may set a
class-wide `hint`, and a raise may pass its own.
"""

from __future__ import annotations

from pathlib import Path


class KitError(Exception):
    """An expected failure, written for the kit's user."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def to_json(self) -> dict[str, str | None]:
        return {"type": type(self).__name__, "message": self.message, "hint": self.hint}


def log_tail(log: Path, lines: int = 15) -> str:
    """The last `lines` lines of a process's log, for an error that names the log."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class ProcessStartError(KitError, RuntimeError):
    """A process of the environment exited while starting. The message ends with the last
    lines of its log; the hint names the whole log."""

    def __init__(self, name: str, log: Path | str) -> None:
        tail = log_tail(Path(log))
        super().__init__(f"{name} exited while starting" + (f":\n{tail}" if tail else "."),
                         hint=f"Its whole log is {log}; fix what it reports and run the "
                              "command again.")


class StartTimeoutError(KitError, TimeoutError):
    """A process or service did not become ready in its time."""

    hint = ("The machine may be busy: run the command again. If it keeps failing, read "
            "the log named above.")
