"""The metadata database MWAA has: a PostgreSQL server the kit starts in its state dir.

Uses the machine's PostgreSQL server binaries (Debian's `postgresql` package, Homebrew's
`postgresql@16`, ...). PostgreSQL refuses to run as root, so under root the server runs
as the `postgres` system user and its data folder is given to that user.

One server (cluster) per project, one database per Airflow version in it: switching a
project's `airflow_version` never hands one version's schema to another (Airflow 2.x
cannot read a database migrated by 3.x), and switching back finds its own data again.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

from mwaa_kit.runtime import processes

ROLE = "airflow"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server binaries on this machine (the caller may fall back to SQLite)."""


def database_name(airflow_version: str) -> str:
    """The metadata database of one Airflow version: `airflow_3_3_1` for 3.3.1."""
    return "airflow_" + re.sub(r"[^a-z0-9]+", "_", airflow_version.lower()).strip("_")


def url(port: int, database: str) -> str:
    """The SQLAlchemy URL of `database` on the kit's server at `port`."""
    return f"postgresql+psycopg2://{ROLE}@127.0.0.1:{port}/{database}"


def find_bin_dir() -> Path:
    """The newest installed PostgreSQL server's bin/ folder."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    on_path = shutil.which("pg_config")
    if not candidates and on_path:
        bin_dir = subprocess.run([on_path, "--bindir"], capture_output=True, text=True).stdout
        candidates = [str(Path(bin_dir.strip()) / "postgres")]
    candidates = [path for path in candidates if Path(path).exists()]
    if not candidates:
        raise PostgresUnavailableError(
            "No PostgreSQL server found (MWAA's metadata database). Install it: "
            "`apt-get install postgresql` or `brew install postgresql@16`."
        )
    return Path(candidates[-1]).parent


def _server_user() -> str | None:
    """Who runs the server: the caller, or `postgres` when the caller is root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailableError(
            "Running as root, and PostgreSQL refuses root: create a `postgres` user "
            "(Debian's postgresql package does) or run mwaa-kit as a normal user."
        ) from None
    return "postgres"


def start(data_dir: Path, log: Path, port: int, database: str) -> processes.ProcessRecord:
    """Initialise the cluster on first use, start the server and create `database` in it
    unless it exists."""
    bin_dir = find_bin_dir()
    user = _server_user()
    if not (data_dir / "PG_VERSION").exists():
        _initdb(bin_dir, data_dir, user)
    stale_pid = data_dir / "postmaster.pid"
    if stale_pid.exists():  # left by a crash; the server would refuse to start
        stale_pid.unlink()
    record = processes.start(
        "postgres",
        [str(bin_dir / "postgres"), "-D", str(data_dir), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
         "-c", "max_connections=200"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        log=log, port=port, user=user,
    )
    processes.wait_for_port(port, record, timeout=60)
    _create_database(bin_dir, port, database)
    return record


def _initdb(bin_dir: Path, data_dir: Path, user: str | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if user:
        _give_to(user, data_dir)
    result = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", ROLE, "--auth=trust",
         "-E", "UTF8", "--locale=C"],
        capture_output=True, text=True, user=user,
    )
    if result.returncode != 0:
        hint = ""
        if "Permission denied" in result.stderr and user:
            hint = (f"\nThe `{user}` user must be able to reach {data_dir}: every parent "
                    "folder needs the execute bit for others (chmod o+x).")
        raise PostgresUnavailableError(f"initdb failed:\n{result.stderr.strip()}{hint}")


def _give_to(user: str, path: Path) -> None:
    account = pwd.getpwnam(user)
    os.chown(path, account.pw_uid, account.pw_gid)
    path.chmod(0o700)


def _create_database(bin_dir: Path, port: int, database: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):  # spliced into SQL below
        raise ValueError(f"not a plain database name: {database!r}")
    psql = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, "-d",
            "postgres", "-tAc"]
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{database}'"],
        capture_output=True, text=True, check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run([*psql, f"CREATE DATABASE {database}"], capture_output=True, check=True)
