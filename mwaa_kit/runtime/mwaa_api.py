"""`python -m mwaa_kit.runtime.mwaa_api --port P --s3-endpoint URL --state-dir DIR
[--apply none|contract|native]`: the MWAA API emulator as the kit runs it, with
UpdateEnvironment applied to something real.

- `contract`: each update's bundle is prepared with the MWAA contract in its own
  AIRFLOW_HOME (mwaa_updates.ContractApplier); a bundle that fails to install ends
  UPDATE_FAILED with the contract's message.
- `native`: the bundle is re-applied to `--project`'s running native environment
  (`NativeApplier`): the Airflow components restart on it, or keep running the previous
  versions when anything fails (NativeEnvironment.apply_bundle), as MWAA does.

With `--project`, InvokeRestApi is forwarded to that project's running native Airflow
(`NativeRestApi`); with `--airflow-url`, to the compose stack's webserver container
(`ContainerRestApi`). Either way as Admin: the emulator evaluates no IAM, so no call maps
to a lesser Airflow role.
"""

from __future__ import annotations

import abc
import argparse
import json
import threading
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.emulators.mwaa.__main__ import add_serve_arguments, serve_from
from mwaa_kit.emulators.mwaa.restapi import RestApiCall
from mwaa_kit.emulators.mwaa.server import s3_client
from mwaa_kit.project import cache_dir, load_project
from mwaa_kit.runtime.airflow_rest import ADMIN, AirflowRestClient
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


class _AirflowRestApi(abc.ABC):
    """InvokeRestApi's forwarder: each call goes, as Admin, to the REST API of the Airflow
    `_target` names now, through one AirflowRestClient kept per target (URL, version and
    password), so its login is reused and a changed target is followed."""

    def __init__(self):
        self._clients: dict[tuple[str, str, str], AirflowRestClient] = {}
        self._lock = threading.Lock()

    def __call__(self, environment: dict, call: RestApiCall,
                 timeout: float) -> tuple[int, bytes]:
        ui, version, password = self._target()
        key = (ui, version, password)
        with self._lock:
            if key not in self._clients:
                self._clients = {key: AirflowRestClient(ui, catalog.get_version(version),
                                                        password)}
            client = self._clients[key]
        return client(call, timeout)

    @abc.abstractmethod
    def _target(self) -> tuple[str, str, str]:
        """(UI URL, Airflow version, admin password) of the Airflow to call; ConnectionError
        when there is none yet."""


class NativeRestApi(_AirflowRestApi):
    """The forwarder of a project's native environment: its UI URL and version are read from
    the environment's state at each call, so a restart on other ports or a version switch
    is followed.

    :param project_dir: the project whose native environment runs.
    """

    def __init__(self, project_dir: Path):
        super().__init__()
        self.project_dir = Path(project_dir)

    def _target(self) -> tuple[str, str, str]:
        local = NativeEnvironment(load_project(self.project_dir))
        status = local.status()
        ui = status.endpoints.get("ui")
        if not (ui and status.airflow_version and local.password_file().exists()):
            raise ConnectionError("the local environment is not up (`mwaa-kit up`)")
        return ui, status.airflow_version, local.admin_password()


class ContainerRestApi(_AirflowRestApi):
    """The forwarder of the compose stack: the webserver container's address and version are
    fixed for the stack; the admin password is the file the init job wrote.

    :param ui_url: the Airflow UI as this process reaches it (http://webserver:8080).
    :param airflow_version: the stack's Airflow version.
    :param password_file: the JSON file {"admin": password} the init job wrote.
    """

    def __init__(self, ui_url: str, airflow_version: str, password_file: Path):
        super().__init__()
        self.ui_url = ui_url
        self.airflow_version = airflow_version
        self.password_file = Path(password_file)

    def _target(self) -> tuple[str, str, str]:
        try:
            password = json.loads(self.password_file.read_text())[ADMIN]
        except (OSError, ValueError, KeyError):
            raise ConnectionError("the stack's Airflow has no admin user yet") from None
        return self.ui_url, self.airflow_version, password


def main(argv: list[str] | None = None) -> None:
    """Serve the MWAA API with the update hook `--apply` chooses: none, the contract, or the
    project's running native environment."""
    parser = argparse.ArgumentParser(prog="python -m mwaa_kit.runtime.mwaa_api",
                                     description="The MWAA API, its updates applied locally.")
    add_serve_arguments(parser)
    parser.add_argument("--apply", choices=["none", "contract", "native"], default="none",
                        help="contract: UpdateEnvironment prepares the new bundle with the "
                             "kit's MWAA contract (startup script, requirements install, "
                             "plugins) and fails the update as MWAA would when that fails. "
                             "native: it also restarts the --project's running native "
                             "environment on it.")
    parser.add_argument("--project", type=Path,
                        help="The project whose running native Airflow answers InvokeRestApi "
                             "(and, with --apply native, takes the updates).")
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
    elif arguments.apply == "native":
        if arguments.project is None:
            parser.error("--apply native needs --project")
        apply = NativeApplier(s3, arguments.project)
    serve_from(arguments, apply, _rest_api(parser, arguments))


def _rest_api(parser: argparse.ArgumentParser,
              arguments: argparse.Namespace) -> _AirflowRestApi | None:
    """InvokeRestApi's forwarder the options name: the --project's native Airflow, the
    Airflow at --airflow-url, or none."""
    if arguments.airflow_url:
        if not (arguments.airflow_version and arguments.password_file):
            parser.error("--airflow-url needs --airflow-version and --password-file")
        return ContainerRestApi(arguments.airflow_url, arguments.airflow_version,
                                arguments.password_file)
    return NativeRestApi(arguments.project) if arguments.project else None


if __name__ == "__main__":
    main()
