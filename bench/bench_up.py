"""How long until a DAG is runnable: `mwaa-kit up` (cold and warm) beside
`airflow standalone` of the same Airflow version, measured in the same run.

"Runnable", the same test for both: the UI's health endpoint answers and reports a
scheduler heartbeat from this start (not one left by the previous run), and the scheduler's
database lists the DAG: a trigger from the UI or the CLI would be accepted and run.
Cold = no cached virtualenv (uv's download cache stays warm, so network speed is left
out); warm = `down` then `up` again, as a developer does every morning. The figure for
standalone until its database lists the DAG alone (before its UI answers) is printed too.

    python bench/bench_up.py [--version VERSION (default: the catalog's)] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mwaa_kit import catalog  # noqa: E402
from mwaa_kit.runtime import processes  # noqa: E402
from mwaa_kit.runtime.native import postgres  # noqa: E402

DAG = '''
from datetime import datetime
try:
    from airflow.sdk import dag, task
except ImportError:
    from airflow.decorators import dag, task

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def bench_hello():
    @task
    def hello():
        print("hello")
    hello()

bench_hello()
'''


def _kit(project: Path, *arguments: str, env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "mwaa_kit", *arguments], cwd=project,
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"mwaa-kit {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")


def _wait(*conditions, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(condition() for condition in conditions):
            return
        time.sleep(0.25)
    raise TimeoutError("the DAG never became runnable")


def _scheduler_heartbeat_since(health_url: str, started: datetime):
    """True once the UI answers and reports a scheduler heartbeat later than `started`."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:
                health = json.load(response)
        except (OSError, ValueError):
            return False
        beat = (health.get("scheduler") or {}).get("latest_scheduler_heartbeat")
        return bool(beat) and datetime.fromisoformat(beat) > started

    return check


def _postgres_has_dag(project: Path):
    state = json.loads((project / ".mwaa-kit/native/state.json").read_text())
    port = next(p["port"] for p in state["processes"] if p["name"] == "postgres")
    query = "SELECT count(*) FROM dag WHERE dag_id='bench_hello'"
    database = postgres.database_name(state["airflow_version"])
    psql = [str(postgres.find_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U",
            postgres.ROLE, "-d", database, "-tAc", query]
    env = {**os.environ, **postgres.client_env(project / ".mwaa-kit/native/postgres")}

    def check() -> bool:
        out = subprocess.run(psql, capture_output=True, text=True, env=env)
        return out.stdout.strip() == "1"

    return check


def _sqlite_has_dag(database: Path):
    def check() -> bool:
        if not database.exists():
            return False
        try:
            with sqlite3.connect(database, timeout=1) as db:
                return db.execute(
                    "SELECT count(*) FROM dag WHERE dag_id='bench_hello'").fetchone()[0] == 1
        except sqlite3.Error:
            return False

    return check


def time_kit_up(project: Path, version: str, env: dict) -> float:
    started, start = datetime.now(UTC), time.monotonic()
    _kit(project, "up", "--quiet", env=env)
    state = json.loads((project / ".mwaa-kit/native/state.json").read_text())
    health = state["ui_url"] + catalog.get_version(version).health_path
    _wait(_postgres_has_dag(project), _scheduler_heartbeat_since(health, started))
    return time.monotonic() - start


def time_standalone(airflow_bin: Path, version: str, dags: Path, home: Path
                    ) -> tuple[float, float]:
    """`airflow standalone` with a fresh AIRFLOW_HOME and SQLite, as its docs start it:
    seconds until its database lists the DAG, and until it is runnable."""
    port = processes.free_port()
    env = {
        "PATH": f"{airflow_bin.parent}:{os.environ['PATH']}", "HOME": os.environ["HOME"],
        "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(port),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
    }
    started, start = datetime.now(UTC), time.monotonic()
    record = processes.start("standalone", [str(airflow_bin), "standalone"], env=env,
                             log=home / "standalone.log")
    try:
        _wait(_sqlite_has_dag(home / "airflow.db"))
        listed = time.monotonic() - start
        health = f"http://127.0.0.1:{port}{catalog.get_version(version).health_path}"
        _wait(_scheduler_heartbeat_since(health, started))
        return listed, time.monotonic() - start
    finally:
        processes.stop(record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=catalog.DEFAULT_VERSION)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    arguments = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-up-", dir="/tmp"))
    scratch.chmod(0o755)
    project = scratch / "project"
    (project / "dags").mkdir(parents=True)
    (project / "dags" / "bench_hello.py").write_text(DAG)
    (project / "mwaa-kit.toml").write_text(
        f'[environment]\nairflow_version = "{arguments.version}"\n')
    # The native runtime is what is measured, even where a container engine answers.
    env = {**os.environ, "MWAA_KIT_CACHE_DIR": str(scratch / "cache"),
           "MWAA_KIT_RUNTIME": "native"}
    try:
        cold = time_kit_up(project, arguments.version, env)
        _kit(project, "down", env=env)
        warm = time_kit_up(project, arguments.version, env)
        state = json.loads((project / ".mwaa-kit/native/state.json").read_text())
        _kit(project, "down", env=env)
        airflow = Path(state["virtualenv"]) / "venv" / "bin" / "airflow"
        listed, standalone = time_standalone(airflow, arguments.version, project / "dags",
                                             scratch / "standalone-home")
    finally:
        subprocess.run([sys.executable, "-m", "mwaa_kit", "down"], cwd=project, env=env,
                       capture_output=True)
        if not arguments.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    print(f"Airflow {arguments.version}: seconds until a DAG is runnable")
    print(f"{'mwaa-kit up (cold: new virtualenv)':<42}{cold:8.1f}")
    print(f"{'mwaa-kit up (warm)':<42}{warm:8.1f}")
    print(f"{'airflow standalone (same venv, SQLite)':<42}{standalone:8.1f}")
    print(f"{'  of which until its database lists the DAG':<42}{listed:8.1f}")
    ratio = warm / standalone
    print(f"{'warm up / standalone':<42}{ratio:8.2f}x  (goal: <= 1.0x, issue #18: "
          f"{'PASS' if ratio <= 1.0 else 'MISS'})")


if __name__ == "__main__":
    main()
