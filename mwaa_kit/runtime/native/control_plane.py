"""The MWAA control plane over the native environment.

`mwaa-kit up` makes the local environment an MWAA environment as the API sees it: the
project's bundle is put in a versioned source bucket of the AWS emulator, the MWAA API
emulator serves the environment (AVAILABLE) on that bucket, and an UpdateEnvironment
re-applies the new object versions to the running local Airflow (the emulator's `native`
apply hook calls `NativeEnvironment.apply_bundle`). With `--dags-from bucket`, a sync
process mirrors the bucket's dags/ into the DAG folder as MWAA's scheduler does, so a
promoted DAG reaches the local Airflow the way it reaches MWAA.

The same process serves the environment's one web origin, as MWAA's WebserverUrl: HTTPS on
its own loopback port, MWAA's web login beside the Airflow UI it proxies; the tokens and
GetEnvironment name that origin. Its certificate is signed by the kit's CA in `tls_dir`,
which Airflow's own processes trust (settings.py's CA bundle).
"""

from __future__ import annotations

import os
from pathlib import Path

from mwaa_kit.catalog.api_model import source_bucket
from mwaa_kit.emulators.aws.endpoint import EMULATOR_CREDENTIALS
from mwaa_kit.emulators.mwaa.dagsync import sync_once
from mwaa_kit.emulators.mwaa.server import s3_client
from mwaa_kit.runtime import processes, services
from mwaa_kit.runtime.mwaa_updates import bootstrap

# MWAA syncs every ~30 s; a laptop wants to see a promoted DAG sooner.
DAGS_SYNC_INTERVAL = 5.0
# MWAA's updates take 20+ minutes; locally the update lasts as long as re-applying takes.
UPDATE_DELAY = 0.5


def state_dir(project) -> Path:
    """The project's control-plane folder, `.mwaa-kit/mwaa`: the MWAA emulator's
    environments.json and the DAGs synced from the bucket."""
    return project.state_dir / "mwaa"


def tls_dir(project) -> Path:
    """Where the kit's CA for the web server origin (ca.pem) and its certificate are kept."""
    return state_dir(project) / "tls"


def synced_dags_dir(project) -> Path:
    """Where `--dags-from bucket` mirrors the bucket's dags/ (the DAG folder then)."""
    return state_dir(project) / "dags"


def start(project, aws_endpoint: str, port: int, web_port: int, ui_url: str,
          dags_from: str, log_dir: Path, report) -> list[processes.ProcessRecord]:
    """Bootstrap the environment in the emulators and start the MWAA API with the web
    server origin on `web_port` (and the DAG sync): the records of the processes started,
    to stop with the environment."""
    s3 = s3_client(aws_endpoint, project.region)
    report("Publishing the project as an MWAA environment (source bucket, MWAA API)")
    hostname = f"127.0.0.1:{web_port}"
    environment = bootstrap(project, s3, state_dir(project), fresh=True,
                            webserver_hostname=hostname)
    bucket = source_bucket(environment)
    records = [services.start_mwaa_api(
        log_dir / "mwaa.log", port, aws_endpoint, state_dir(project),
        update_delay=UPDATE_DELAY, env=_kit_env(), apply="native",
        project_dir=project.root, webserver_hostname=hostname, web_port=web_port,
        web_upstream=ui_url, tls_dir=tls_dir(project),
    )]
    if dags_from == "bucket":
        prefix = environment.get("DagS3Path", "dags")
        sync_once(s3, bucket, prefix, synced_dags_dir(project))
        records.append(services.launch(services.dags_sync_spec(
            log_dir / "dags-sync.log", aws_endpoint, bucket, prefix, synced_dags_dir(project),
            DAGS_SYNC_INTERVAL, _kit_env(),
        )))
    return records


def _kit_env() -> dict[str, str]:
    """The kit's own environment (cache dir, pyenv, PATH), with the emulators' credentials:
    the emulator re-applies bundles as `up` would have."""
    return {**os.environ, **EMULATOR_CREDENTIALS}
