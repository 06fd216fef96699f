"""moto server that keeps the emulated account across restarts and crashes.

moto holds everything in memory, so the S3 objects and secrets a developer or a DAG made
vanished with every `down`, `restart` or crash of the emulator. This runs moto's own WSGI
application and keeps the backends of the services the kit seeds and DAGs use (S3 with
every object version and its version id, Secrets Manager, SSM, SQS) in one pickle file:
written after each change (at most every SAVE_INTERVAL seconds, to a side file renamed into
place, so a crash leaves the previous complete copy) and on SIGTERM, loaded back on start.

Written by hand: moto offers no persistence of its own (its request recorder replays
requests, which gives S3 objects new version ids, and MWAA pins plugins.zip and
requirements.txt by version id). Usage:
    python -m mwaa_kit.emulators.aws.persistent_moto --port P --state FILE
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import pickle
import signal
import threading
import time
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends
from moto.ssm.models import ssm_backends
from werkzeug.serving import make_server

BACKENDS = {"s3": s3_backends, "secretsmanager": secretsmanager_backends,
            "ssm": ssm_backends, "sqs": sqs_backends}
# State a service keeps beside its accounts: S3's bucket-name registry, without which a
# CreateBucket of an existing bucket (every `up` seeds again) would replace it, empty.
REGISTRIES = {"s3": ("bucket_accounts",)}
SAVE_INTERVAL = 0.5  # seconds: changes are written at most this often
_READS = {"GET", "HEAD", "OPTIONS"}
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _nested_tags() -> collections.defaultdict:
    return collections.defaultdict(dict)


def _tags_table(items: dict) -> collections.defaultdict:
    """SSM's resource tags: a defaultdict whose factory is a lambda, which pickle refuses."""
    table = collections.defaultdict(_nested_tags)
    table.update(items)
    return table


def _defaultdict_subclass(cls: type, factory, attributes: dict, items: dict):
    """A defaultdict subclass whose __init__ takes other arguments (SSM's ParameterDict)."""
    table = cls.__new__(cls)
    collections.defaultdict.__init__(table, factory)
    table.__dict__.update(attributes)
    table.update(items)
    return table


def _dict_subclass(cls: type, attributes: dict, raw_items: dict):
    """A dict subclass rebuilt from its raw entries: S3's key store shows only each key's
    latest version through items(), which is all pickle would otherwise keep."""
    table = cls.__new__(cls)
    dict.update(table, raw_items)  # the C-level merge: no overridden __setitem__ runs
    table.__dict__.update(attributes)
    return table


class _StatePickler(pickle.Pickler):
    """Pickles moto's backends: locks and conditions are made anew when loaded, and the
    defaultdicts pickle cannot rebuild by itself are rebuilt by the functions above."""

    def reducer_override(self, obj):
        if isinstance(obj, _LOCK_TYPES):
            return threading.RLock, ()
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, collections.defaultdict):
            if type(obj) is not collections.defaultdict:
                return _defaultdict_subclass, (type(obj), obj.default_factory, obj.__dict__,
                                               dict(obj))
            if getattr(obj.default_factory, "__name__", "") == "<lambda>":
                return _tags_table, (dict(obj),)
        elif isinstance(obj, dict) and type(obj) is not dict:
            return _dict_subclass, (type(obj), getattr(obj, "__dict__", {}),
                                    dict(dict.items(obj)))
        return NotImplemented


class PersistentState:
    """The backends' state in `path`; `changed()` after each write request."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()  # a save never sees half a request
        self._dirty = threading.Event()

    def load(self) -> None:
        """Load the saved account; a file this moto cannot read (made by another moto
        version, say) is set aside, never overwritten, and the account starts empty."""
        if not self.path.exists():
            return
        try:
            with self.path.open("rb") as stream:
                saved = {name: (dict(accounts), dict(registries))
                         for name, (accounts, registries) in pickle.load(stream).items()}
        except Exception as error:  # noqa: BLE001 - any unpickling or shape failure
            kept = self.path.with_suffix(f".unreadable-{int(time.time())}")
            os.replace(self.path, kept)
            print(f"mwaa-kit: could not load {self.path} ({error}); kept it as {kept} and "
                  "started with an empty account", flush=True)
            return
        for name, (accounts, registries) in saved.items():
            BACKENDS[name].update(accounts)
            for attribute, value in registries.items():
                getattr(BACKENDS[name], attribute).update(value)

    def save(self) -> None:
        """Write every backend to the state file now, through a side file renamed into place
        (owner-only: it holds the account's secrets)."""
        buffer = io.BytesIO()
        with self.lock:
            _StatePickler(buffer).dump({
                name: (dict(backends), {attribute: dict(getattr(backends, attribute))
                                        for attribute in REGISTRIES.get(name, ())})
                for name, backends in BACKENDS.items()})
        partial = self.path.with_suffix(".partial")
        # Owner-only: it holds the account's secrets (Secrets Manager values).
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                       "wb") as stream:
            stream.write(buffer.getvalue())
        os.replace(partial, self.path)

    def changed(self) -> None:
        """Note that a write request changed the state; keep_saving() writes it SAVE_INTERVAL
        seconds later."""
        self._dirty.set()

    def keep_saving(self) -> None:
        """Save once changes stop for SAVE_INTERVAL (or at least that often)."""
        while True:
            self._dirty.wait()
            self._dirty.clear()
            time.sleep(SAVE_INTERVAL)
            self.save()


def persisting(app, state: PersistentState):
    """WSGI middleware: write requests run one at a time and mark the state changed."""
    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") in _READS:
            return app(environ, start_response)
        with state.lock:
            response = app(environ, start_response)
        state.changed()
        return response

    return application


def main(argv: list[str] | None = None) -> None:
    """Serve moto on `--port` with the account loaded from `--state`, saved after changes and on
    SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True, help="the pickle file")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(arguments.port))
    arguments.state.parent.mkdir(parents=True, exist_ok=True)
    state = PersistentState(arguments.state)
    state.load()

    def stop(signum, frame):
        state.save()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=state.keep_saving, daemon=True, name="save-state").start()
    app = persisting(DomainDispatcherApplication(create_backend_app), state)
    make_server(arguments.host, arguments.port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    # Through the importable module, so that the pickle names its functions by a path a
    # later process can import, not `__main__`.
    from mwaa_kit.emulators.aws import persistent_moto

    persistent_moto.main()
