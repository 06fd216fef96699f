"""Reading a DAG run's state as `in_airflow/run_states.py` prints it, inside the native
environment's virtualenv or the compose stack's scheduler container alike."""

from __future__ import annotations

import json
import subprocess


def parse_run_states(result: subprocess.CompletedProcess) -> dict:
    """The JSON line run_states.py prints, whatever else Airflow logged around it."""
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("MWAA_KIT_JSON:"):
            return json.loads(line.removeprefix("MWAA_KIT_JSON:"))
    raise RuntimeError(f"could not read the run's state:\n{result.stderr[-2000:]}")
