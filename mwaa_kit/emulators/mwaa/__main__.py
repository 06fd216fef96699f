"""`python -m mwaa_kit.emulators.mwaa serve --port P --s3-endpoint URL --state-dir DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from mwaa_kit.emulators.mwaa.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mwaa_kit.emulators.mwaa",
                                     description="The MWAA control-plane API emulator.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="Serve the MWAA API over HTTP.")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--s3-endpoint", required=True,
                     help="The S3 emulator's URL (moto server or LocalStack).")
    run.add_argument("--state-dir", type=Path, required=True,
                     help="Where environments are kept (environments.json).")
    run.add_argument("--create-delay", type=float, default=5.0,
                     help="Seconds an environment stays CREATING.")
    run.add_argument("--update-delay", type=float, default=5.0,
                     help="Seconds an environment stays UPDATING.")
    run.add_argument("--delete-delay", type=float, default=2.0,
                     help="Seconds an environment stays DELETING.")
    run.add_argument("--webserver-hostname",
                     help="Host name the tokens and WebserverUrl name (e.g. the local UI's).")
    run.add_argument("--apply", choices=["none", "contract", "native"], default="none",
                     help="contract: UpdateEnvironment prepares the new bundle with the kit's "
                          "MWAA contract (startup script, requirements install, plugins) and "
                          "fails the update as MWAA would when that fails. native: it also "
                          "restarts the --project's running native environment on it.")
    run.add_argument("--project", type=Path, help="The project of --apply native.")
    run.add_argument("--work-dir", type=Path,
                     help="Where --apply contract prepares bundles (default: STATE_DIR/apply).")
    sync = commands.add_parser("sync-dags", help="Mirror a bucket's DAG folder locally, as "
                               "MWAA's scheduler does.")
    sync.add_argument("--s3-endpoint", required=True)
    sync.add_argument("--bucket", required=True)
    sync.add_argument("--prefix", default="dags")
    sync.add_argument("--destination", type=Path, required=True)
    sync.add_argument("--interval", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    if arguments.command == "sync-dags":
        from mwaa_kit.emulators.mwaa.dagsync import sync_forever
        from mwaa_kit.emulators.mwaa.server import s3_client

        sync_forever(s3_client(arguments.s3_endpoint), arguments.bucket, arguments.prefix,
                     arguments.destination, arguments.interval)
        return
    apply = None
    if arguments.apply == "contract":
        from mwaa_kit.emulators.mwaa.local import ContractApplier
        from mwaa_kit.emulators.mwaa.server import s3_client
        from mwaa_kit.project import cache_dir

        apply = ContractApplier(s3_client(arguments.s3_endpoint),
                                arguments.work_dir or arguments.state_dir / "apply",
                                cache_dir())
    elif arguments.apply == "native":
        if arguments.project is None:
            parser.error("--apply native needs --project")
        from mwaa_kit.emulators.mwaa.local import NativeApplier
        from mwaa_kit.emulators.mwaa.server import s3_client

        apply = NativeApplier(s3_client(arguments.s3_endpoint), arguments.project)
    serve(arguments.port, arguments.s3_endpoint, arguments.state_dir,
          create_delay=arguments.create_delay, update_delay=arguments.update_delay,
          delete_delay=arguments.delete_delay, host=arguments.host,
          webserver_hostname=arguments.webserver_hostname, apply=apply)


if __name__ == "__main__":
    main()
