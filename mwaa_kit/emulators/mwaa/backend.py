"""The MWAA control plane's state: the environments, their pending changes, and the operations
of the API over them (moto's `models.py` part, with the rules in `models`).

Environments live in `<state dir>/environments.json`, so a restarted emulator still knows
them. The S3 emulator (an S3 endpoint reached over HTTP) answers the checks MWAA makes
against the source bucket: the bucket exists and is versioned, and every object version an
environment names exists.

States follow MWAA: CreateEnvironment -> CREATING -> AVAILABLE; UpdateEnvironment ->
UPDATING -> AVAILABLE, or UPDATE_FAILED when the new bundle cannot be applied (a missing
object version, or an error from the `apply` hook); MWAA then keeps running the previous
versions, and so does the emulator. DeleteEnvironment -> DELETING -> gone. When a change is
over is the state manager's (`transitions`): after some seconds, some reads, or when
`advance` is called; `tick()` completes what is over.

InvokeRestApi goes to the `rest_api` forwarder the runtime gives (the emulator knows no
Airflow), with the rules of `restapi` around it.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from mwaa_kit.emulators.mwaa import models, restapi, tokens
from mwaa_kit.emulators.mwaa.exceptions import (
    NotFoundError,
    NotSupportedError,
    ValidationError,
)
from mwaa_kit.emulators.mwaa.transitions import StateManager, due

STATE_FILE = "environments.json"
__all__ = ["STATE_FILE", "ApplyHook", "MwaaBackend", "RestApiForwarder"]

# The hook that applies an environment's bundle to something real (the local Airflow):
# called with the environment as it would be after the update; raising fails the update.
ApplyHook = Callable[[dict], None]
# What answers InvokeRestApi: called with the environment, the checked call and the seconds
# it may take, it returns Airflow's (status, body bytes) as the Airflow role the call maps to;
# TimeoutError when Airflow is too slow, another OSError when nothing answers.
RestApiForwarder = Callable[[dict, restapi.RestApiCall, float], tuple[int, bytes]]


class MwaaBackend:
    """The emulated control plane: environments by region, kept in `state_dir`, bucket checks
    made through `s3_client`, `apply` (when given) making updates real and `rest_api` (when
    given) answering InvokeRestApi. The delays are the seconds an environment stays
    CREATING, UPDATING or DELETING until `transitions` (the state manager) is told
    otherwise."""

    def __init__(self, state_dir: Path, s3_client=None, create_delay: float = 5.0,
                 update_delay: float = 5.0, delete_delay: float = 2.0,
                 apply: ApplyHook | None = None, webserver_hostname: str | None = None,
                 rest_api: RestApiForwarder | None = None):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.s3 = s3_client
        self.transitions = StateManager(create_delay, update_delay, delete_delay)
        self.apply = apply
        self.rest_api = rest_api
        self.webserver_hostname = webserver_hostname
        self.tokens = tokens.TokenStore()
        self._lock = threading.RLock()
        self._busy: set[str] = set()  # keys whose pending change is being completed
        self._state = self._load()

    # -- persistence -------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        """environments.json in the state dir: what a restarted emulator reads back."""
        return self.state_dir / STATE_FILE

    def _load(self) -> dict:
        if self.state_file.exists():
            return json.loads(self.state_file.read_text())
        return {"environments": {}}

    def _save(self) -> None:
        scratch = self.state_file.with_suffix(".tmp")
        scratch.write_text(json.dumps(self._state, indent=2, sort_keys=True))
        os.replace(scratch, self.state_file)

    @property
    def _environments(self) -> dict[str, dict]:
        return self._state["environments"]

    # -- the API -----------------------------------------------------------------------

    def create_environment(self, region: str, name: str, body: dict) -> dict:
        """CreateEnvironment: validated as MWAA does (models.new_environment), then CREATING
        until the state manager says the create is over. Returns {"Arn": ...}."""
        models.check_create_request(name, body)
        self.tick()
        with self._lock:
            if _key(region, name) in self._environments:
                raise ValidationError(f"Environment {name} already exists.")
        now = time.time()
        hostname = models.webserver_hostname(region, name, self.webserver_hostname)
        environment = models.new_environment(self.s3, region, name, body, hostname, now)
        with self._lock:
            self._environments[_key(region, name)] = {
                "environment": environment,
                "pending": self.transitions.begin("create", environment, {}, now)}
            self._save()
        return {"Arn": environment["Arn"]}

    def get_environment(self, region: str, name: str) -> dict:
        """GetEnvironment: a copy of the environment, due transitions completed first; the read
        counts towards a transition by reads. NotFoundError when there is none."""
        self.tick()
        with self._lock:
            record = self._record(region, name)
            if record.get("pending"):
                record["pending"]["reads"] += 1
                self._save()
            return copy.deepcopy(record["environment"])

    def list_environments(self, region: str) -> list[str]:
        """ListEnvironments: the names in `region`, sorted."""
        self.tick()
        with self._lock:
            prefix = f"{region}/"
            return sorted(key[len(prefix):] for key in self._environments
                          if key.startswith(prefix))

    def update_environment(self, region: str, name: str, body: dict) -> dict:
        """UpdateEnvironment, from AVAILABLE or UPDATE_FAILED only: the changes are checked, the
        environment goes UPDATING, and they are applied when the state manager says the update
        is over."""
        self.tick()
        with self._lock:
            environment = copy.deepcopy(self._record(region, name)["environment"])
        models.check_updatable(environment)
        changes = models.update_changes(self.s3, region, environment, body)
        now = time.time()
        with self._lock:
            record = self._record(region, name)
            models.check_updatable(record["environment"])  # still, after the bucket checks
            models.start_update(record["environment"], body, now)
            record["pending"] = self.transitions.begin("update", record["environment"],
                                                       changes, now)
            self._save()
            return {"Arn": record["environment"]["Arn"]}

    def delete_environment(self, region: str, name: str) -> None:
        """DeleteEnvironment: DELETING, then gone when the state manager says so; refused while
        CREATING, UPDATING or DELETING."""
        self.tick()
        with self._lock:
            record = self._record(region, name)
            models.check_deletable(record["environment"])
            record["environment"]["Status"] = "DELETING"
            record["pending"] = self.transitions.begin("delete", record["environment"], {},
                                                       time.time())
            self._save()

    def forget_environment(self, region: str, name: str) -> None:
        """Drop an environment from the state at once (no DELETING), as a restarted local
        environment does before publishing itself again."""
        with self._lock:
            self._environments.pop(_key(region, name), None)
            self._save()

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """TagResource: add or replace tags (the mwaa-kit:*-delay tags set that environment's
        delays)."""
        with self._lock:
            self._by_arn(arn)["environment"].setdefault("Tags", {}).update(tags)
            self._save()

    def untag_resource(self, arn: str, keys: list[str]) -> None:
        """UntagResource: remove the tags `keys`; a key the environment lacks is ignored."""
        with self._lock:
            environment = self._by_arn(arn)["environment"]
            for key in keys:
                environment.get("Tags", {}).pop(key, None)
            self._save()

    def list_tags(self, arn: str) -> dict[str, str]:
        """ListTagsForResource of an environment ARN."""
        with self._lock:
            return dict(self._by_arn(arn)["environment"].get("Tags", {}))

    def create_cli_token(self, region: str, name: str) -> dict:
        """CreateCliToken: a token good for a minute on the environment's /aws_mwaa/cli
        (`tokens`) and the webserver host name; ValidationError unless the environment is
        AVAILABLE, UPDATING or UPDATE_FAILED."""
        environment = self._usable(region, name)
        return {"CliToken": self.tokens.issue("cli", region, name),
                "WebServerHostname": environment["WebserverUrl"].removeprefix("https://")}

    def create_web_login_token(self, region: str, name: str) -> dict:
        """CreateWebLoginToken: a token good for a minute on the environment's web login
        (`tokens`), the webserver host name and fixed identities; ValidationError unless the
        environment is usable, as for CLI tokens."""
        environment = self._usable(region, name)
        return {"WebToken": self.tokens.issue("web", region, name),
                "WebServerHostname": environment["WebserverUrl"].removeprefix("https://"),
                "IamIdentity": f"arn:aws:sts::{models.ACCOUNT_ID}:assumed-role/mwaa-kit/local",
                "AirflowIdentity": "admin"}

    def invoke_rest_api(self, region: str, name: str, body: dict) -> dict:
        """InvokeRestApi: the call checked (`restapi`), forwarded to the environment's Airflow
        by `rest_api` within MWAA's 10 seconds, and its answer returned as
        {RestApiStatusCode, RestApiResponse} or raised as RestApiClientException /
        RestApiServerException. ValidationError unless the environment is usable, as for
        tokens; NotSupportedError when this emulator was given no Airflow to forward to."""
        environment = self._usable(region, name)
        call = restapi.check_request(body)
        if self.rest_api is None:
            raise NotSupportedError(
                "This MWAA API has no local Airflow to forward InvokeRestApi to; the one "
                "`mwaa-kit up` starts has (see `mwaa-kit status` for its URL).")
        try:
            status, payload = self.rest_api(environment, call, restapi.TIMEOUT_SECONDS)
        except TimeoutError:
            raise restapi.timed_out() from None
        except OSError as error:
            raise restapi.unreachable(error) from None
        return restapi.result(status, payload)

    def redeem_token(self, kind: str, token: str) -> dict:
        """The environment a data-plane token (`kind` cli or web) opens, as it is now;
        tokens.TokenRefused when the token is unknown or expired, or its environment is gone
        or no longer usable."""
        grant = self.tokens.redeem(kind, token)
        try:
            return self._usable(grant.region, grant.name)
        except (ValidationError, NotFoundError) as error:
            raise tokens.TokenRefused(error.message) from None

    # -- state transitions -------------------------------------------------------------

    def tick(self) -> None:
        """Complete every pending change the state manager says is over."""
        with self._lock:
            now = time.time()
            over = [key for key, record in self._environments.items()
                    if record.get("pending") and key not in self._busy
                    and due(record["pending"], now)]
            self._busy.update(over)
        self._complete_all(over)

    def advance(self, region: str, name: str) -> str | None:
        """Complete the environment's pending change now, whatever its transition model (the
        explicit model's only way on); returns its status after, None once deleted.
        ValidationError when no change is pending."""
        key = _key(region, name)
        with self._lock:
            record = self._record(region, name)
            if not record.get("pending") or key in self._busy:
                raise ValidationError(f"Environment {name} has no change to advance.")
            self._busy.add(key)
        self._complete_all([key])
        with self._lock:
            record = self._environments.get(key)
            return record["environment"]["Status"] if record else None

    def _complete_all(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self._complete(key)
            finally:
                with self._lock:
                    self._busy.discard(key)

    def _complete(self, key: str) -> None:
        with self._lock:
            record = self._environments[key]
            pending = record["pending"]
            environment = copy.deepcopy(record["environment"])
        if pending["kind"] == "delete":
            with self._lock:
                del self._environments[key]
                self._save()
            return
        candidate = {**environment, **pending["changes"]}
        error = models.bundle_error(self.s3, candidate)
        if error is None and self.apply is not None:
            try:
                self.apply(copy.deepcopy(candidate))
            except Exception as failure:  # the hook's failure is the update's failure
                error = {"ErrorCode": "UPDATE_FAILED", "ErrorMessage": str(failure)[:1024]}
        with self._lock:
            record = self._environments.get(key)
            if record is None:
                return
            record["pending"] = None
            models.finish(record["environment"], pending["kind"], pending["changes"], error,
                          time.time())
            self._save()

    # -- lookups -----------------------------------------------------------------------

    def _record(self, region: str, name: str) -> dict:
        record = self._environments.get(_key(region, name))
        if record is None:
            raise models.not_found(name)
        return record

    def _by_arn(self, arn: str) -> dict:
        region, name = models.parse_environment_arn(arn)
        self.tick()
        return self._record(region, name)

    def _usable(self, region: str, name: str) -> dict:
        self.tick()
        with self._lock:
            environment = copy.deepcopy(self._record(region, name)["environment"])
        models.check_usable(environment)
        return environment


def _key(region: str, name: str) -> str:
    return f"{region}/{name}"

