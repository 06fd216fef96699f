"""`python -m mwaa_kit.emulators.mwaa serve --port P --s3-endpoint URL --state-dir DIR`: the
MWAA API alone (updates change only its state); `sync-dags` mirrors a bucket's DAG folder.
The kit's own MWAA API, which applies updates to a local environment, is
`python -m mwaa_kit.runtime.mwaa_api` (same serve options, plus --apply). The delays make
transitions time-based; POST /_mwaa_kit/state-manager/set-transition changes that while
serving (see `transitions`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mwaa_kit.emulators.mwaa.backend import MwaaBackend
from mwaa_kit.emulators.mwaa.dagsync import sync_forever
from mwaa_kit.emulators.mwaa.server import make_backend, s3_client, serve


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of serving the API, shared with mwaa_kit.runtime.mwaa_api."""
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--s3-endpoint", required=True,
                        help="The S3 emulator's URL (moto server or LocalStack).")
    parser.add_argument("--state-dir", type=Path, required=True,
                        help="Where environments are kept (environments.json).")
    parser.add_argument("--create-delay", type=float, default=5.0,
                        help="Seconds an environment stays CREATING.")
    parser.add_argument("--update-delay", type=float, default=5.0,
                        help="Seconds an environment stays UPDATING.")
    parser.add_argument("--delete-delay", type=float, default=2.0,
                        help="Seconds an environment stays DELETING.")
    parser.add_argument("--webserver-hostname",
                        help="Host name the tokens and WebserverUrl name (e.g. the local UI's).")


def backend_from(arguments: argparse.Namespace, apply=None, rest_api=None) -> MwaaBackend:
    """The backend of the options add_serve_arguments parsed, `apply` as the update hook and
    `rest_api` as InvokeRestApi's forwarder."""
    return make_backend(arguments.s3_endpoint, arguments.state_dir, arguments.create_delay,
                        arguments.update_delay, arguments.delete_delay,
                        arguments.webserver_hostname, apply, rest_api)


def serve_from(arguments: argparse.Namespace, backend: MwaaBackend, web=None) -> None:
    """Serve `backend` with the options add_serve_arguments parsed, and `web` (the web
    server origin over the same backend) beside it when given."""
    serve(arguments.port, arguments.s3_endpoint, arguments.state_dir, host=arguments.host,
          backend=backend, web=web)


def main(argv: list[str] | None = None) -> None:
    """The `serve` and `sync-dags` commands of `python -m mwaa_kit.emulators.mwaa`."""
    parser = argparse.ArgumentParser(prog="python -m mwaa_kit.emulators.mwaa",
                                     description="The MWAA control-plane API emulator.")
    commands = parser.add_subparsers(dest="command", required=True)
    add_serve_arguments(commands.add_parser("serve", help="Serve the MWAA API over HTTP."))
    sync = commands.add_parser("sync-dags", help="Mirror a bucket's DAG folder locally, as "
                               "MWAA's scheduler does.")
    sync.add_argument("--s3-endpoint", required=True)
    sync.add_argument("--bucket", required=True)
    sync.add_argument("--prefix", default="dags")
    sync.add_argument("--destination", type=Path, required=True)
    sync.add_argument("--interval", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    if arguments.command == "sync-dags":
        sync_forever(s3_client(arguments.s3_endpoint), arguments.bucket, arguments.prefix,
                     arguments.destination, arguments.interval)
    else:
        serve_from(arguments, backend_from(arguments))


if __name__ == "__main__":
    main()
