"""The MWAA API emulator as an HTTP server process.

`python -m mwaa_kit.emulators.mwaa serve --port P --s3-endpoint URL --state-dir DIR`
serves the API on 127.0.0.1:P; the kit starts that process as it starts its other
services (runtime/services.py).
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

from mwaa_kit import catalog
from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.emulators.mwaa.backend import ApplyHook, MwaaBackend, RestApiForwarder
from mwaa_kit.emulators.mwaa.models import DEFAULT_REGION
from mwaa_kit.emulators.mwaa.urls import dispatch

HEALTH_PATH = "/_mwaa_kit/health"


def client_environment(endpoint_url: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """What an unmodified boto3 `mwaa` client or the AWS CLI needs to reach the emulator:
    its endpoint, and no `api.`/`env.` host prefixes (a local host has no such names)."""
    return {"AWS_ENDPOINT_URL_MWAA": endpoint_url, "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
            "AWS_DEFAULT_REGION": region, **EMULATOR_CREDENTIALS}


# The first botocore that reads AWS_DISABLE_HOST_PREFIX_INJECTION; the images of Airflow
# 2.10.3 and 2.11.0 pin older ones (1.35.36, 1.37.3), which would call `env.127.0.0.1`.
FIRST_BOTOCORE_READING_THE_VARIABLE = (1, 37, 5)


def airflow_connection_environment(version: catalog.AirflowVersion) -> dict[str, str]:
    """For an Airflow whose botocore predates AWS_DISABLE_HOST_PREFIX_INJECTION, the
    `aws_default` connection carries the same setting as botocore config, which the Amazon
    provider's hooks (MwaaHook and its operators among them) give their clients; nothing
    otherwise, leaving MWAA's own `aws_default` ("aws://")."""
    botocore = version.locked_version("botocore")
    if botocore is None or tuple(map(int, botocore.split(".")[:3])) >= (
            FIRST_BOTOCORE_READING_THE_VARIABLE):
        return {}
    connection = {"conn_type": "aws", "extra": {"config_kwargs": {"inject_host_prefix": False}}}
    return {"AIRFLOW_CONN_AWS_DEFAULT": json.dumps(connection)}


def s3_client(endpoint_url: str, region: str = DEFAULT_REGION):
    """A boto3 S3 client of the AWS emulator at `endpoint_url`, with the emulator's credentials
    whatever the user's profile holds."""
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def make_server(port: int, backend: MwaaBackend, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A threaded HTTP server of the MWAA API over `backend`, with a health path; the caller
    runs it."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mwaa-kit-mwaa"

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == HEALTH_PATH:
                self._send(200, b'{"status": "ok"}', {})
                return
            response = dispatch(backend, self.command, self.path, self.headers, body)
            self._send(response.status, response.encode(), response.headers)

        def _send(self, status: int, payload: bytes, headers: dict[str, str]):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", _request_id())
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(port: int, s3_endpoint: str, state_dir: Path, create_delay: float = 5.0,
          update_delay: float = 5.0, delete_delay: float = 2.0, host: str = "127.0.0.1",
          webserver_hostname: str | None = None, apply: ApplyHook | None = None,
          backend: MwaaBackend | None = None,
          rest_api: RestApiForwarder | None = None,
          web: ThreadingHTTPServer | None = None) -> None:
    """Serve the API until interrupted, completing due transitions every 0.2 s even when no
    request comes, as MWAA's environments change state on their own (the delays make every
    transition time-based; POST /_mwaa_kit/state-manager/set-transition changes that).
    `web`, the environment's web server origin (webserver.WebServer) over the same backend,
    is served beside it, so its tokens are the API's."""
    backend = backend or make_backend(s3_endpoint, state_dir, create_delay, update_delay,
                                      delete_delay, webserver_hostname, apply, rest_api)
    server = make_server(port, backend, host)
    stop = threading.Event()

    def ticker():  # completes pending changes even when nobody asks
        while not stop.wait(0.2):
            try:
                backend.tick()
            except Exception as error:  # keep serving; the log says what went wrong
                sys.stderr.write(f"mwaa emulator: tick failed: {error!r}\n")

    threading.Thread(target=ticker, daemon=True).start()
    if web is not None:
        threading.Thread(target=web.serve_forever, daemon=True).start()
        sys.stderr.write(f"mwaa-kit web server origin on https://{host}:"
                         f"{web.server_address[1]}\n")
    sys.stderr.write(f"mwaa-kit MWAA emulator on http://{host}:{port} (S3: {s3_endpoint}, "
                     f"state: {state_dir})\n")
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
        if web is not None:
            web.shutdown()
            web.server_close()


def make_backend(s3_endpoint: str, state_dir: Path, create_delay: float = 5.0,
                 update_delay: float = 5.0, delete_delay: float = 2.0,
                 webserver_hostname: str | None = None, apply: ApplyHook | None = None,
                 rest_api: RestApiForwarder | None = None) -> MwaaBackend:
    """An MwaaBackend whose bucket checks go to the S3 emulator at `s3_endpoint`."""
    return MwaaBackend(state_dir, s3_client(s3_endpoint), create_delay=create_delay,
                       update_delay=update_delay, delete_delay=delete_delay, apply=apply,
                       webserver_hostname=webserver_hostname, rest_api=rest_api)


def _request_id() -> str:
    return str(uuid.uuid4())
