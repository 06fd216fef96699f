"""`python -m mwaa_kit.runtime.mwaa_api --port P --s3-endpoint URL --state-dir DIR
[--apply none|contract|native]`: the MWAA API emulator as the kit runs it, with
UpdateEnvironment applied to something real.

- `contract`: each update's bundle is prepared with the MWAA contract in its own
  AIRFLOW_HOME (mwaa_updates.ContractApplier); a bundle that fails to install ends
  UPDATE_FAILED with the contract's message.
- `compose`: as `contract`, then the bundle is rolled out to the compose stack's running
  Airflow containers (compose/rollout.py), which restart on it; the update fails, and
  they go back to the previous bundle, when one cannot start on it.
- `native`: the bundle is re-applied to `--project`'s running native environment
  (`NativeApplier`): the Airflow components restart on it, or keep running the previous
  versions when anything fails (NativeEnvironment.apply_bundle), as MWAA does.

With `--project`, InvokeRestApi is forwarded to that project's running native Airflow
(`native_airflow`); with `--airflow-url`, to the compose stack's webserver container.
Either way as Admin: the emulator evaluates no IAM, so no call maps to a lesser Airflow
role. With `--web-port` too, the same process serves the environment's web server origin
(emulators/mwaa/webserver.py) over HTTPS on that port, its certificate signed by the kit's
CA in `--tls-dir`: MWAA's web login and paths, and the Airflow UI at `--web-upstream`
behind them; a web login logs in as Admin, for the same reason. Its /aws_mwaa/cli runs
Airflow CLI commands in the `--project`'s native Airflow (`mwaa_cli.NativeCliRunner`), or
with the runner `main`'s caller gives (the compose stack's mwaa container runs the API in
its entrypoint, beside the environment it prepared).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.mwaa.__main__ import add_serve_arguments, backend_from, serve_from
from mwaa_kit.emulators.mwaa.cli_endpoint import CliRunner
from mwaa_kit.emulators.mwaa.restapi import TIMEOUT_SECONDS, RestApiCall
from mwaa_kit.emulators.mwaa.server import s3_client
from mwaa_kit.emulators.mwaa.webserver import WebServer
from mwaa_kit.project import cache_dir, load_project
from mwaa_kit.runtime.airflow_login import ADMIN, log_in
from mwaa_kit.runtime.airflow_rest import AirflowRestClient
from mwaa_kit.runtime.mwaa_cli import NativeCliRunner
from mwaa_kit.runtime.mwaa_updates import ContractApplier, fetch_bundle
from mwaa_kit.runtime.native.environment import NativeEnvironment


class NativeApplier:
    """The `native` apply hook: an update re-applied to a project's running environment.

    :param s3: an S3 client of the AWS emulator that holds the environment's bucket.
    :param project_dir: the project whose native environment runs.
    """

    def __init__(self, s3, project_dir: Path):
        self.s3 = s3
        self.project_dir = Path(project_dir)

    def __call__(self, environment: dict) -> None:
        project = load_project(self.project_dir)
        local = NativeEnvironment(project, report=lambda message: print(message, flush=True))
        # Its DAG folder is the project's dags/ or the bucket's, synced: no copy needed here.
        bundle = fetch_bundle(self.s3, environment, project.state_dir / "mwaa" / "applying",
                              with_dags=False)
        local.apply_bundle(bundle, environment["AirflowVersion"])


# Where the Airflow that answers InvokeRestApi and web logins runs now: (UI URL, Airflow
# version, admin password); ConnectionError when it is not up.
AirflowTarget = Callable[[], tuple[str, str, str]]


def native_airflow(project_dir: Path) -> AirflowTarget:
    """The project's native environment as it runs at each call (its UI URL and version read
    from its state, so a restart on other ports or a version switch is followed)."""
    def target() -> tuple[str, str, str]:
        local = NativeEnvironment(load_project(project_dir))
        status = local.status()
        ui = status.endpoints.get("ui")
        if not (ui and status.airflow_version and local.password_file().exists()):
            raise ConnectionError("the local environment is not up (`mwaa-kit up`)")
        return ui, status.airflow_version, local.admin_password()
    return target


def container_airflow(ui_url: str, airflow_version: str, password_file: Path) -> AirflowTarget:
    """The compose stack's webserver container: its address (as this process reaches it)
    and version are the stack's; the admin password is the JSON file the init job wrote."""
    def target() -> tuple[str, str, str]:
        try:
            password = json.loads(Path(password_file).read_text())[ADMIN]
        except (OSError, ValueError, KeyError):
            raise ConnectionError("the stack's Airflow has no admin user yet") from None
        return ui_url, airflow_version, password
    return target


class AirflowRestApi:
    """InvokeRestApi's forwarder: each call goes, as Admin, to the REST API of the Airflow
    `target` names now, through one AirflowRestClient kept per target (URL, version and
    password), so its login is reused and a changed target is followed.

    :param target: where the Airflow runs (`native_airflow`, `container_airflow`).
    """

    def __init__(self, target: AirflowTarget):
        self.target = target
        self._clients: dict[tuple[str, str, str], AirflowRestClient] = {}
        self._lock = threading.Lock()

    def __call__(self, environment: dict, call: RestApiCall,
                 timeout: float) -> tuple[int, bytes]:
        key = self.target()
        with self._lock:
            if key not in self._clients:
                self._clients = {key: AirflowRestClient(key[0], catalog.get_version(key[1]),
                                                        key[2])}
            client = self._clients[key]
        return client(call, timeout)


class AirflowWebLogin:
    """The web login's `WebLogin`: a fresh Admin login to the Airflow `target` names now, its
    cookies handed to the browser or client that showed the token.

    :param target: where the Airflow runs (`native_airflow`, `container_airflow`).
    """

    def __init__(self, target: AirflowTarget):
        self.target = target

    def __call__(self, environment: dict) -> dict[str, str]:
        ui, version, password = self.target()
        return log_in(ui, catalog.get_version(version), password,
                      time.monotonic() + TIMEOUT_SECONDS)


def main(argv: list[str] | None = None, cli_runner: CliRunner | None = None,
         rollout: Callable | None = None) -> None:
    """Serve the MWAA API with the update hook `--apply` chooses: none, the contract, the
    contract then `rollout` (the compose stack's entrypoint gives its StackRollout: the
    stack's side stays in runtime/compose), or the project's running native environment;
    the origin's /aws_mwaa/cli runs commands with `cli_runner` (the `--project`'s own
    Airflow with --project)."""
    parser = argparse.ArgumentParser(prog="python -m mwaa_kit.runtime.mwaa_api",
                                     description="The MWAA API, its updates applied locally.")
    add_serve_arguments(parser)
    parser.add_argument("--apply", choices=["none", "contract", "compose", "native"],
                        default="none",
                        help="contract: UpdateEnvironment prepares the new bundle with the "
                             "kit's MWAA contract (startup script, requirements install, "
                             "plugins) and fails the update as MWAA would when that fails. "
                             "compose: it also restarts the compose stack's Airflow "
                             "containers on it (run by the stack's entrypoint, which gives "
                             "the rollout). native: it also "
                             "restarts the --project's running native environment on it.")
    parser.add_argument("--project", type=Path,
                        help="The project whose running native Airflow answers InvokeRestApi "
                             "(and, with --apply native, takes the updates).")
    parser.add_argument("--web-port", type=int,
                        help="Also serve the environment's web server origin over HTTPS on "
                             "this port (needs --project or --airflow-url, and "
                             "--web-upstream).")
    parser.add_argument("--web-upstream",
                        help="The Airflow UI the origin proxies (http://127.0.0.1:PORT).")
    parser.add_argument("--tls-dir", type=Path,
                        help="Where the kit's CA and the origin's certificate are kept "
                             "(default: STATE_DIR/tls).")
    parser.add_argument("--airflow-url",
                        help="Instead of --project: the Airflow UI that answers InvokeRestApi "
                             "(the compose stack's webserver), with --airflow-version and "
                             "--password-file.")
    parser.add_argument("--airflow-version", help="The Airflow version at --airflow-url.")
    parser.add_argument("--password-file", type=Path,
                        help="The JSON file of the admin password of --airflow-url.")
    parser.add_argument("--work-dir", type=Path,
                        help="Where --apply contract prepares bundles (default: "
                             "STATE_DIR/apply).")
    arguments = parser.parse_args(argv)
    s3 = s3_client(arguments.s3_endpoint)
    apply = None
    if arguments.apply == "contract":
        apply = ContractApplier(s3, arguments.work_dir or arguments.state_dir / "apply",
                                cache_dir())
    elif arguments.apply == "compose":
        if rollout is None:
            parser.error("--apply compose is the compose stack's: its entrypoint gives the "
                         "rollout")
        apply = ContractApplier(s3, arguments.work_dir or arguments.state_dir / "apply",
                                cache_dir(), then=rollout)
    elif arguments.apply == "native":
        if arguments.project is None:
            parser.error("--apply native needs --project")
        apply = NativeApplier(s3, arguments.project)
    target = _airflow_target(parser, arguments)
    if arguments.web_port and not (target and arguments.web_upstream):
        parser.error("--web-port needs --project (or --airflow-url) and --web-upstream")
    backend = backend_from(arguments, apply, AirflowRestApi(target) if target else None)
    web = None
    if arguments.web_port:
        certificate, key = tls.ensure_certificates(arguments.tls_dir
                                                   or arguments.state_dir / "tls")
        web = WebServer(arguments.web_port, backend, arguments.web_upstream,
                        AirflowWebLogin(target), certificate, key, arguments.host,
                        NativeCliRunner(arguments.project) if arguments.project else cli_runner)
    serve_from(arguments, backend, web)


def _airflow_target(parser: argparse.ArgumentParser,
                    arguments: argparse.Namespace) -> AirflowTarget | None:
    """The Airflow the options name for InvokeRestApi and web logins: the Airflow at
    --airflow-url, the --project's native one, or none."""
    if arguments.airflow_url:
        if not (arguments.airflow_version and arguments.password_file):
            parser.error("--airflow-url needs --airflow-version and --password-file")
        return container_airflow(arguments.airflow_url, arguments.airflow_version,
                                 arguments.password_file)
    return native_airflow(arguments.project) if arguments.project else None


if __name__ == "__main__":
    main()
