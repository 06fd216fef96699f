"""Image build step: install Airflow as MWAA's image has it, before any user bundle.

    python -m mwaa_kit.runtime.compose.bake AIRFLOW_VERSION

Builds the virtualenv of an empty bundle through the contract, so at container start
an environment without requirements.txt installs nothing, and one with requirements
installs from uv's cache, which stays in the image.
"""

import os
import sys
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.contract.requirements import ensure_virtualenv


def main(airflow_version: str) -> None:
    """Build the virtualenv of an empty bundle while the image builds: a container without
    requirements then installs nothing at start, one with requirements installs from the cache."""
    version = catalog.get_version(airflow_version)
    cache = Path(os.environ["MWAA_KIT_CACHE_DIR"])
    constraints, source = catalog.constraints_text(version, cache / "constraints")
    print(f"constraints: {source}", flush=True)
    venv = ensure_virtualenv(
        version, "", constraints, cache / "venvs", environ=dict(os.environ),
        log_path=Path("/tmp/bake.log"), report=lambda message: print(message, flush=True),
    )
    print(f"Airflow {airflow_version} installed in {venv.path}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
