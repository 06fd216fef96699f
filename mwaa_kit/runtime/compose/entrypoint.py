"""The entrypoint of the MWAA-like Airflow image: apply the contract, then run the
processes of one MWAA container.

    python -m mwaa_kit.runtime.compose.entrypoint scheduler|webserver|worker|init
    python -m mwaa_kit.runtime.compose.entrypoint airflow ARGS...     (one-off command)
    python -m mwaa_kit.runtime.compose.entrypoint run-states DAG_ID [RUN_ID]
    python -m mwaa_kit.runtime.compose.entrypoint mwaa-api  (the MWAA API, the web origin)

Like an MWAA container, each one sources startup.sh, installs requirements.txt (into a
virtualenv shared through a volume, built once under a lock), extracts plugins.zip and
applies the forced configuration before starting Airflow. `init` migrates the metadata
database and seeds the emulated AWS account from seed.toml, then exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from mwaa_kit import catalog
from mwaa_kit.contract.bundle import Bundle, PreparedEnvironment, prepare
from mwaa_kit.emulators import tls
from mwaa_kit.emulators.aws import seed as aws_seed
from mwaa_kit.emulators.mwaa import server as mwaa_server
from mwaa_kit.errors import KitError
from mwaa_kit.runtime import mwaa_api
from mwaa_kit.runtime.compose import rollout
from mwaa_kit.runtime.compose.volumes import ADMIN_PASSWORD_FILE, STATE, TLS_DIR
from mwaa_kit.runtime.mwaa_cli import PreparedCliRunner

HOME = Path(os.environ.get("AIRFLOW_HOME", "/usr/local/airflow"))
BUNDLE = Path(os.environ.get("MWAA_KIT_BUNDLE_DIR", "/mwaa/bundle"))
# Where the mwaa service serves the MWAA API, and the environment's HTTPS web server
# origin, inside the stack (docker-compose.yml publishes both on the host's loopback).
MWAA_API_PORT = 8000
WEB_PORT = 8443


def _bundle() -> Bundle:
    """The bundle `up` mounted, or the one the last UpdateEnvironment rolled out (with its
    Airflow options)."""
    source = rollout.current_bundle() or BUNDLE
    plugins = source / "plugins.zip"
    requirements = source / "requirements" / "requirements.txt"
    startup = source / "requirements" / "startup.sh"
    config = source / rollout.CONFIG_FILE
    return Bundle(
        dags_dir=HOME / "dags",
        plugins_zip=plugins if plugins.exists() else None,
        requirements_text=requirements.read_text() if requirements.exists() else "",
        startup_script=startup if startup.exists() else None,
        airflow_config=json.loads(config.read_text() if config.exists()
                                  else os.environ.get("MWAA_KIT_AIRFLOW_CONFIG", "{}")),
    )


def _runtime_options(version: catalog.AirflowVersion) -> dict[str, str]:
    """What only the stack knows: its database, its SQS broker, its ports."""
    env = os.environ
    concurrency = catalog.mwaa().environment_classes[env.get("MWAA_KIT_ENVIRONMENT_CLASS",
                                                             "mw1.small")]
    options = {
        "database.sql_alchemy_conn": env["MWAA_KIT_DATABASE_URL"],
        "celery.broker_url": env["MWAA_KIT_BROKER_URL"],
        "celery.result_backend": "db+" + env["MWAA_KIT_DATABASE_URL"].replace(
            "postgresql+psycopg2", "postgresql"),
        "celery_broker_transport_options.region": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        "celery_broker_transport_options.is_secure": "False",
        "celery.worker_concurrency": str(concurrency),
        "core.parallelism": str(concurrency * int(env.get("MWAA_KIT_WORKERS", "1"))),
        # One shared key, as every MWAA container of an environment has the same.
        "core.fernet_key": env["MWAA_KIT_FERNET_KEY"],
        # dags/ is mounted live: a new file is seen within seconds, as natively.
        version.rescan_option: "5",
    }
    if version.webserver_component == "api-server":
        options.update({
            "api.port": "8080",
            "api.workers": "1",
            "api.base_url": env.get("MWAA_KIT_UI_URL", "http://localhost:8080"),
            "core.execution_api_server_url": "http://webserver:8080/execution/",
            "api_auth.jwt_secret": env["MWAA_KIT_FERNET_KEY"],
            "core.simple_auth_manager_users": "admin:admin",
            "core.simple_auth_manager_passwords_file": str(ADMIN_PASSWORD_FILE),
        })
    else:
        options.update({"webserver.web_server_port": "8080", "webserver.workers": "1",
                        "webserver.secret_key": env["MWAA_KIT_FERNET_KEY"]})
    return options


# The container's variables (docker-compose.yml) that Airflow's processes are given: the
# contract passes on only MWAA's own and these. The MWAA ones let a task's boto3 `mwaa`
# client (the Amazon provider's MwaaHook) reach the stack's MWAA API, not LocalStack.
FORWARDED_VARIABLES = (
    "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL_MWAA", "AWS_DISABLE_HOST_PREFIX_INJECTION",
    "REQUESTS_CA_BUNDLE", "AWS_CA_BUNDLE",
)


def _runtime_environment(version: catalog.AirflowVersion) -> dict[str, str]:
    """What only the stack knows, for Airflow's processes: the forwarded variables, and
    aws_default's botocore config where the version's botocore needs it."""
    return {**{name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ},
            **mwaa_server.airflow_connection_environment(version)}


def _prepared(version: catalog.AirflowVersion) -> PreparedEnvironment:
    runtime_env = _runtime_environment(version)
    return prepare(
        _bundle(), version, os.environ.get("MWAA_KIT_ENVIRONMENT_NAME", "MwaaEnvironment"),
        os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), HOME,
        Path(os.environ["MWAA_KIT_CACHE_DIR"]), _runtime_options(version), runtime_env,
        report=lambda message: print(f"mwaa-kit: {message}", flush=True),
    )


def _run_states(command: list[str], env: dict[str, str], attempts: int = 5) -> int:
    """Print a run's states (run_states.py), asking again while the database does not
    answer: the stack's DNS (aardvark-dns under podman) can miss a name for a moment when
    a container leaves the network, e.g. a killed worker, and one missed poll must not end
    a caller's wait for the run."""
    attempt = 1
    while True:
        result = subprocess.run(command, env=env, cwd=HOME, capture_output=True, text=True)
        if result.returncode == 0 or "OperationalError" not in result.stderr or (
                attempt == attempts):
            break
        time.sleep(attempt)
        attempt += 1
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


def _init(prepared: PreparedEnvironment) -> int:
    env = prepared.env("scheduler")
    # One database per Airflow version in the postgres volume (MWAA_KIT_DATABASE): after
    # a version switch, `db migrate` never meets the other version's schema.
    script = Path(__file__).resolve().parent.parent / "in_airflow" / "create_database.py"
    subprocess.run([str(prepared.virtualenv.python), str(script),
                    os.environ["MWAA_KIT_DATABASE_URL"]], env=env, check=True, cwd=HOME)
    subprocess.run(prepared.airflow("db", "migrate"), env=env, check=True, cwd=HOME)
    password = ADMIN_PASSWORD_FILE
    if not password.exists():
        password.write_text(json.dumps({"admin": secrets.token_urlsafe(12)}))
        password.chmod(0o644)
    values = {key.removeprefix("MWAA_KIT_SEED_").lower(): value
              for key, value in os.environ.items() if key.startswith("MWAA_KIT_SEED_")}
    seed = aws_seed.load_seed(BUNDLE / "seed.toml", values)
    written = aws_seed.apply_seed(seed, boto3.session.Session(), os.environ["AWS_ENDPOINT_URL"])
    print(f"mwaa-kit: seeded {json.dumps(written)}", flush=True)
    rollout.prune_other_runs()
    _init_marker().write_text("done\n")
    return 0


def _init_marker() -> Path:
    return STATE / f"init-{os.environ.get('MWAA_KIT_RUN_ID', 'manual')}"


def _wait_for_init(timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not _init_marker().exists():
        if time.monotonic() > deadline:
            raise SystemExit("mwaa-kit: the init job did not finish; see its logs")
        time.sleep(2)


def _wait_for_services(timeout: float = 300) -> None:
    """Wait for every host:port of MWAA_KIT_WAIT_FOR (compose's depends_on only orders
    starts; health conditions need an engine that runs healthchecks)."""
    for target in filter(None, os.environ.get("MWAA_KIT_WAIT_FOR", "").split(",")):
        host, port = target.rsplit(":", 1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((host, int(port)), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"mwaa-kit: {target} did not answer in {timeout:.0f} s") from None
                time.sleep(1)


def _require_writable_volumes() -> None:
    """The image runs as MWAA's non-root `airflow` user; volumes made by an image that ran
    as root stay root's, and nothing could be installed or written there."""
    for folder in (STATE, Path(os.environ["MWAA_KIT_CACHE_DIR"]) / "venvs"):
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            raise SystemExit(
                f"mwaa-kit: {folder} is not writable by uid {os.getuid()} (a volume made "
                "when the image ran as root?); run `mwaa-kit down --purge` to start afresh")


def _kit_ca() -> str:
    """The kit's CA, which signs the web server origin's certificate: made once in the
    state volume by the first container that starts, under a lock (containers start
    together, and two CAs would leave one container trusting the wrong one)."""
    TLS_DIR.mkdir(parents=True, exist_ok=True)
    with (TLS_DIR / "ca.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return tls.ensure_ca(TLS_DIR).read_text()


def _write_ca_bundle() -> None:
    """The image's CAs plus the kit's and the Salesforce stub's, for requests'
    REQUESTS_CA_BUNDLE and botocore's AWS_CA_BUNDLE (both name this file)."""
    target = os.environ.get("REQUESTS_CA_BUNDLE")
    if not target:
        return
    parts = [Path("/etc/ssl/certs/ca-certificates.crt").read_text(), _kit_ca()]
    stub_ca = Path("/mwaa/salesforce/ca.pem")
    for _ in range(60):  # the stub writes its CA when it first starts
        if stub_ca.exists() or "salesforce" not in os.environ.get("MWAA_KIT_WAIT_FOR", ""):
            break
        time.sleep(1)
    if stub_ca.exists():
        parts.append(stub_ca.read_text())
    # Every container and one-off command writes it, while tasks read it: replace it whole,
    # never truncate it under a task's TLS handshake.
    partial = Path(f"{target}.{socket.gethostname()}-{os.getpid()}")  # unique per container
    partial.write_text("\n".join(parts))
    partial.chmod(0o644)
    partial.replace(target)


def _mwaa_api_arguments(version: catalog.AirflowVersion) -> list[str]:
    """The stack's MWAA API (runtime/mwaa_api.py) on MWAA_API_PORT: changes complete on its
    next tick, as natively; InvokeRestApi and web logins go to the webserver container as
    Admin; the web server origin, HTTPS on WEB_PORT in front of that webserver, is named
    as the host reaches it (MWAA_KIT_WEB_HOSTNAME); an update's bundle is prepared with
    the contract and fails as it would on MWAA, then the Airflow containers restart on it
    (rollout.py)."""
    return ["--host", "0.0.0.0", "--port", str(MWAA_API_PORT),
            "--s3-endpoint", os.environ["AWS_ENDPOINT_URL"],
            "--state-dir", str(STATE / "mwaa"), "--create-delay", "0", "--delete-delay", "0",
            "--update-delay", "0.5", "--apply", "compose",
            "--webserver-hostname", os.environ["MWAA_KIT_WEB_HOSTNAME"],
            "--web-port", str(WEB_PORT), "--web-upstream", "http://webserver:8080",
            "--tls-dir", str(TLS_DIR),
            "--airflow-url", "http://webserver:8080", "--airflow-version",
            version.airflow_version, "--password-file", str(ADMIN_PASSWORD_FILE)]


def _follow_rollouts(version: catalog.AirflowVersion,
                     prepared: PreparedEnvironment) -> Callable[[], PreparedEnvironment]:
    """The environment of the bundle rolled out last, for the mwaa container's CLI endpoint:
    a rollout restarts the Airflow containers' processes, not this one's, so each new bundle
    is prepared here once, when a command first needs it."""
    current = {"bundle": rollout.current_bundle(), "prepared": prepared}
    lock = threading.Lock()  # the endpoint serves requests on threads

    def follow() -> PreparedEnvironment:
        with lock:
            bundle = rollout.current_bundle()
            if bundle != current["bundle"]:
                current.update(bundle=bundle, prepared=_prepared(version))
            return current["prepared"]
    return follow


def main(container: str, *arguments: str) -> int:
    """Apply the contract and run one container's processes: `init` migrates and seeds, the
    others wait for it first; `airflow` execs the CLI in place. Returns the exit status."""
    _wait_for_services()
    _require_writable_volumes()
    _write_ca_bundle()
    version = catalog.get_version(os.environ.get("MWAA_KIT_AIRFLOW_VERSION",
                                                 catalog.DEFAULT_VERSION))
    prepared = _prepared(version)
    if container == "init":
        return _init(prepared)
    _wait_for_init()
    if container == "airflow":
        command = prepared.airflow(*arguments)
        os.execve(command[0], command, prepared.env("worker"))
    if container == "run-states":
        script = Path(__file__).resolve().parent.parent / "in_airflow" / "run_states.py"
        return _run_states([str(prepared.virtualenv.python), str(script), *arguments],
                           prepared.env("worker"))
    if container == "mwaa-api":  # its CLI endpoint runs commands in this container's Airflow
        stack_rollout = rollout.StackRollout(
            os.environ["MWAA_KIT_ENVIRONMENT_NAME"], version.airflow_version,
            "http://webserver:8080" + version.health_path)
        mwaa_api.main(_mwaa_api_arguments(version),
                      PreparedCliRunner(_follow_rollouts(version, prepared)), stack_rollout)
        return 0

    def launch(prepared: PreparedEnvironment) -> rollout.Launched:
        return ([prepared.airflow(*command[1:]) for command in version.components[container]],
                prepared.env(container))
    # An update's bundle is prepared anew, as MWAA starts new containers on it.
    return rollout.supervise(container, launch(prepared), lambda: launch(_prepared(version)),
                             HOME)


def run(argv: list[str]) -> int:
    """`main`, with an expected failure (requirements that do not install, say) said as the
    CLI says it, `error:` and `hint:`, instead of a traceback in the container's log."""
    try:
        return main(*argv)
    except KitError as error:
        print(f"mwaa-kit: error: {error.message}", file=sys.stderr, flush=True)
        if error.hint:
            print(f"mwaa-kit: hint: {error.hint}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
