"""When an environment's CREATING, UPDATING or DELETING ends: the emulator's state manager.

MWAA takes twenty minutes and more to create or update an environment; a local emulator must
not, yet its clients (promote, the CLI, a test) must still see the transitional state, and a
test must be able to say when it ends rather than sleep. As moto's state manager does for
moto's models, each kind of change (create, update, delete) follows a transition model:

- `time` (the served emulator's default): done `seconds` after the change began, so users
  still see CREATING for a few seconds, as on MWAA;
- `reads`: done once the environment was read (GetEnvironment) `reads` times in its
  transitional state: deterministic, with no clock;
- `explicit`: done only when asked, by `MwaaBackend.advance` or the admin endpoint
  POST /_mwaa_kit/state-manager/advance.

POST /_mwaa_kit/state-manager/set-transition changes a kind's model while serving; an
environment's `mwaa-kit:<kind>-delay` tag makes that environment's changes of the kind
time-based with its own seconds. Hand-written: moto's state manager serves moto's models,
not this emulator's.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass

from mwaa_kit.emulators.mwaa.exceptions import ValidationError

KINDS = ("create", "update", "delete")
PROGRESSIONS = ("time", "reads", "explicit")
# Tags that set one environment's delays (seconds), e.g. for a test that needs it to stay
# UPDATING a while: {"mwaa-kit:update-delay": "30"}.
DELAY_TAGS = {kind: f"mwaa-kit:{kind}-delay" for kind in KINDS}


@dataclass(frozen=True)
class Transition:
    """One kind's transition model: `progression` is time, reads or explicit; `seconds` counts
    for time, `reads` for reads."""

    progression: str = "time"
    seconds: float = 0.0
    reads: int = 0

    def done(self, pending: dict, now: float) -> bool:
        """Whether a change begun at pending["since"], read pending["reads"] times since, is
        over at `now`; an explicit one never is until advanced."""
        if self.progression == "time":
            return now >= pending["since"] + self.seconds
        if self.progression == "reads":
            return pending["reads"] >= self.reads
        return False

    def to_json(self) -> dict:
        """The model as the admin endpoint shows it."""
        return asdict(self)

    @classmethod
    def from_json(cls, value: object) -> Transition:
        """A model from the admin endpoint's JSON, e.g. {"progression": "reads", "reads": 1};
        ValidationError when it names no progression or a negative amount."""
        if not isinstance(value, dict) or value.get("progression") not in PROGRESSIONS:
            raise ValidationError("transition must be an object whose progression is one of "
                                  f"{', '.join(PROGRESSIONS)}.")
        try:
            seconds, reads = float(value.get("seconds", 0)), int(value.get("reads", 0))
        except (TypeError, ValueError):
            raise ValidationError("transition seconds and reads must be numbers.") from None
        if seconds < 0 or reads < 0:
            raise ValidationError("transition seconds and reads must not be negative.")
        return cls(value["progression"], seconds, reads)


def begin(kind: str, changes: dict, now: float) -> dict:
    """The pending change an environment record keeps (JSON) until its transition is done."""
    return {"kind": kind, "changes": changes, "since": now, "reads": 0}


class StateManager:
    """The transition model of each kind; time-based with the given delays until changed."""

    def __init__(self, create_delay: float, update_delay: float, delete_delay: float):
        self._models = {"create": Transition(seconds=create_delay),
                        "update": Transition(seconds=update_delay),
                        "delete": Transition(seconds=delete_delay)}

    def model(self, kind: str) -> Transition:
        """The model `kind` follows where no tag overrides it."""
        return self._models[kind]

    def set_transition(self, transition: Transition,
                       kinds: tuple[str, ...] = KINDS) -> dict[str, Transition]:
        """Make `kinds` follow `transition` from now on, pending changes included; returns the
        models they had, to restore later."""
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {unknown[0]}.")
        previous = {kind: self._models[kind] for kind in kinds}
        self._models.update(dict.fromkeys(kinds, transition))
        return previous

    def due(self, environment: dict, pending: dict, now: float) -> bool:
        """Whether `environment`'s pending change is over: its delay tag's seconds when it has
        one, else its kind's model."""
        model = self._models[pending["kind"]]
        tag = environment.get("Tags", {}).get(DELAY_TAGS[pending["kind"]])
        if tag is not None:
            with contextlib.suppress(ValueError):  # a tag that is not a number is ignored
                model = Transition(seconds=float(tag))
        return model.done(pending, now)
