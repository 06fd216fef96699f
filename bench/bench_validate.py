"""`mwaa-kit validate --only dags` beside `airflow dags list-import-errors --local` of the
same Airflow version, over the same 200 generated DAG files, in the same run.

Airflow's side runs in the environment's own virtualenv with a fresh AIRFLOW_HOME on
SQLite, after `airflow db migrate` (timed apart). `--local` makes Airflow parse the folder
itself (DagBag), as validate does; without it the command only reads what a running DAG
processor stored. Both timings are wall clock, each including its interpreter's start.
The two commands run alternately --repeat times (the machine's noise then hits both
alike); the run prints the median of each and whether both found the same files with
import errors.

    python bench/bench_validate.py [--files 200] [--version VERSION] [--repeat 3] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mwaa_kit import catalog  # noqa: E402
from mwaa_kit.contract.requirements import ensure_virtualenv  # noqa: E402
from mwaa_kit.project import cache_dir  # noqa: E402

WORK_ROOT = Path(os.environ.get("MWAA_KIT_E2E_ROOT", "/tmp/mwaa-kit-e2e"))

GOOD = '''
from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

TABLES = [f"table_{{n}}" for n in range({tasks})]


def _load(table):
    return table


with DAG("bench_{n}", start_date=datetime(2024, 1, 1), schedule=timedelta(hours={hours}),
         catchup=False, tags=["bench"]):
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")
    for table in TABLES:
        start >> PythonOperator(task_id=f"load_{{table}}", python_callable=_load,
                                op_args=[table]) >> end
'''
BROKEN = {
    "missing_module": "import package_that_is_not_installed\n",
    "syntax_error": "from airflow.sdk import DAG\nwith DAG('x' schedule=None):\n    pass\n",
    "name_error": "from airflow.sdk import DAG\nDAG('bench_name_error', schedule=undefined_name)\n",
    "cycle": (
        "from datetime import datetime\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        "from airflow.sdk import DAG\n"
        "with DAG('bench_cycle', start_date=datetime(2024, 1, 1), schedule=None):\n"
        "    a = EmptyOperator(task_id='a')\n"
        "    b = EmptyOperator(task_id='b')\n"
        "    a >> b >> a\n"
    ),
}


def generate(project: Path, files: int, version: str) -> set[str]:
    """Write the DAG files; return the names of those that must fail to import."""
    dags = project / "dags"
    dags.mkdir(parents=True)
    (project / "mwaa-kit.toml").write_text(f'[environment]\nairflow_version = "{version}"\n')
    broken = set()
    for number in range(files - len(BROKEN)):
        (dags / f"bench_{number:03d}.py").write_text(
            GOOD.format(n=number, tasks=5 + number % 20, hours=1 + number % 24))
    for name, source in BROKEN.items():
        (dags / f"broken_{name}.py").write_text(
            "# airflow DAG (kept by safe mode)\n" + source)
        broken.add(f"dags/broken_{name}.py")
    return broken


def run_kit(project: Path, *arguments: str) -> tuple[float, dict]:
    """`mwaa-kit ARGUMENTS --format json -q` in `project`: wall-clock seconds, JSON report.
    The kit is this checkout's (PYTHONPATH), not whichever the interpreter has installed."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mwaa_kit", *arguments, "--format", "json", "-q"],
        cwd=project, env=env, capture_output=True, text=True, timeout=1800,
    )
    return time.monotonic() - started, json.loads(result.stdout)


def run_validate(project: Path) -> tuple[float, set[str], dict]:
    seconds, report = run_kit(project, "validate", "--only", "dags")
    dags = next(check for check in report["checks"] if check["name"] == "dags")
    files = {finding["file"] for finding in dags["findings"]
             if finding["code"] in ("dags.import_error", "dags.cycle")}
    return seconds, files, dags["details"]


def airflow_env(home: Path, dags: Path, venv_bin: Path) -> dict[str, str]:
    return {
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def prepare_airflow(project: Path, version: catalog.AirflowVersion) -> tuple[dict, Path, float]:
    """The environment and `airflow` of the plain Airflow side, its database migrated."""
    constraints, _ = catalog.constraints_text(version, cache_dir() / "constraints")
    venv = ensure_virtualenv(version, "", constraints, cache_dir() / "venvs", dict(os.environ),
                             project / "install.log")
    home = project / "airflow-home"
    home.mkdir()
    env = airflow_env(home, project / "dags", venv.bin_dir)
    started = time.monotonic()
    subprocess.run([str(venv.bin_dir / "airflow"), "db", "migrate"], env=env, check=True,
                   capture_output=True, timeout=900)
    return env, venv.bin_dir, time.monotonic() - started


def run_airflow(project: Path, env: dict, bin_dir: Path) -> tuple[float, set[str]]:
    started = time.monotonic()
    result = subprocess.run(
        [str(bin_dir / "airflow"), "dags", "list-import-errors", "--local", "-o", "json"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    seconds = time.monotonic() - started
    rows = _json_list(result.stdout)
    files = {str(Path(row["filepath"]).resolve().relative_to(project.resolve()))
             for row in rows}
    return seconds, files


def _json_list(output: str) -> list:
    """The JSON list in `output`, after whatever Airflow logged first (a warning such as
    "[warning  ] Could not import graphviz" has its own brackets)."""
    decoder = json.JSONDecoder()
    start = output.find("[")
    while start >= 0:
        try:
            value, _ = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list):
            return value
        start = output.find("[", start + 1)
    return []


def bench_parser(doc: str) -> argparse.ArgumentParser:
    """The options of a side-by-side bench over generated DAG files (this one's, and
    bench_upgrade_check's): --files, --repeat, --keep."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median shown)")
    parser.add_argument("--keep", action="store_true", help="keep the generated project")
    return parser


def new_project(name: str) -> Path:
    """A fresh folder for the generated project, under WORK_ROOT."""
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    return WORK_ROOT / f"{name}-{uuid.uuid4().hex[:8]}"


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__)
    parser.add_argument("--version", default=catalog.DEFAULT_VERSION)
    args = parser.parse_args(argv)
    version = catalog.get_version(args.version)
    project = new_project("bench-validate")
    try:
        expected = generate(project, args.files, args.version)
        env, bin_dir, migrate = prepare_airflow(project, version)
        validate_runs, airflow_runs = [], []
        for _ in range(max(1, args.repeat)):
            seconds, validate_errors, details = run_validate(project)
            validate_runs.append(seconds)
            seconds, airflow_errors = run_airflow(project, env, bin_dir)
            airflow_runs.append(seconds)
        validate_seconds = statistics.median(validate_runs)
        airflow_seconds = statistics.median(airflow_runs)
        same = validate_errors == airflow_errors
        print(f"{args.files} DAG files, Airflow {args.version}, {os.cpu_count()} core(s), "
              f"median of {len(validate_runs)} run(s) each")
        print(f"mwaa-kit validate --only dags:            {validate_seconds:6.1f} s "
              f"(parsing {details.get('parse_seconds', 0):.1f} s on "
              f"{details.get('processes')} process(es)); runs {format_runs(validate_runs)}")
        print(f"airflow dags list-import-errors --local:  {airflow_seconds:6.1f} s "
              f"(after airflow db migrate: {migrate:.1f} s); runs {format_runs(airflow_runs)}")
        print(f"speed-up: {airflow_seconds / validate_seconds:.2f}x")
        print(f"files with import errors: validate {sorted(validate_errors)}")
        print(f"                          airflow  {sorted(airflow_errors)}")
        print(f"same import errors found: {'yes' if same else 'NO'}; "
              f"expected ones all found: {'yes' if expected <= validate_errors else 'NO'}")
        return 0 if same and expected <= validate_errors else 1
    finally:
        if not args.keep:
            shutil.rmtree(project, ignore_errors=True)


def format_runs(seconds: list[float]) -> str:
    """Each run's seconds, for the line that gives their median."""
    return ", ".join(f"{value:.2f}" for value in seconds)


if __name__ == "__main__":
    sys.exit(main())
