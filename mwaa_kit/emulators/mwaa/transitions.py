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

POST /_mwaa_kit/state-manager/set-transition changes a kind's model while serving, for the
changes begun after; an environment's `mwaa-kit:<kind>-delay` tag makes that environment's
changes of the kind time-based with its own seconds. Hand-written: moto's state manager
serves moto's models, not this emulator's.
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


def due(pending: dict, now: float) -> bool:
    """Whether a pending change is over at `now`, by the model it began under."""
    if "transition" not in pending:  # begun by an emulator that kept no model: over
        return True
    return Transition(**pending["transition"]).done(pending, now)


class StateManager:
    """The transition model of each kind; time-based with the given delays until changed."""

    def __init__(self, create_delay: float, update_delay: float, delete_delay: float):
        self._models = {"create": Transition(seconds=create_delay),
                        "update": Transition(seconds=update_delay),
                        "delete": Transition(seconds=delete_delay)}

    def model(self, kind: str) -> Transition:
        """The model changes of `kind` begin under where no tag overrides it."""
        return self._models[kind]

    def set_transition(self, transition: Transition,
                       kinds: tuple[str, ...] = KINDS) -> dict[str, Transition]:
        """Make the changes of `kinds` that begin from now on follow `transition`; returns the
        models they had, to restore later."""
        unknown = [kind for kind in kinds if kind not in KINDS]
        if unknown:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}, not {unknown[0]}.")
        previous = {kind: self._models[kind] for kind in kinds}
        self._models.update(dict.fromkeys(kinds, transition))
        return previous

    def begin(self, kind: str, environment: dict, changes: dict, now: float) -> dict:
        """The pending change an environment record keeps (JSON) until it is over. It keeps the
        model in effect now, `environment`'s delay tag's seconds when it has one: a change
        follows the model it began under (a restarted emulator's too); `advance` ends any."""
        model = self._models[kind]
        tag = environment.get("Tags", {}).get(DELAY_TAGS[kind])
        if tag is not None:
            with contextlib.suppress(ValueError):  # a tag that is not a number is ignored
                model = Transition(seconds=float(tag))
        return {"kind": kind, "changes": changes, "since": now, "reads": 0,
                "transition": model.to_json()}
