"""The metadata database MWAA has: a PostgreSQL server the kit starts in its state dir.

Uses the machine's PostgreSQL server binaries (Debian's `postgresql` package, Homebrew's
`postgresql@16`, ...). PostgreSQL refuses to run as root, so under root the server runs
as the `postgres` system user and its data folder is given to that user. That user must
enter every folder above the data folder: when a root's project lives where it cannot
(/root/project, CircleCI's default workspace; a CI workspace under a 0700 folder), the
cluster lives under SHARED_CLUSTERS instead, in a folder of its own per project.

One server (cluster) per project, one database per Airflow version in it: switching a
project's `airflow_version` never hands one version's schema to another (Airflow 2.x
cannot read a database migrated by 3.x), and switching back finds its own data again.

The server listens on 127.0.0.1 only and asks for a password (scram-sha-256): any local
user could otherwise read or change the metadata database. The password is generated once
and kept in a libpq password file (0600) beside the cluster; clients find it through
PGPASSFILE, so it never appears in a connection URL, an environment dump or a log.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from mwaa_kit.errors import KitError, ProcessStartError, StartTimeoutError
from mwaa_kit.runtime import processes

ROLE = "airflow"
# Where root's clusters go when `postgres` cannot reach the project (see above).
SHARED_CLUSTERS = Path("/var/lib/mwaa-kit/postgres")


class PostgresUnavailableError(KitError, RuntimeError):
    """No PostgreSQL server binaries on this machine (the caller may fall back to SQLite)."""


class DataDirUnreachableError(KitError, RuntimeError):
    """The `postgres` user cannot reach the cluster's folder; said before anything starts."""


def passfile(data_dir: Path) -> Path:
    """The libpq password file of the cluster in `data_dir` (set PGPASSFILE to it)."""
    return data_dir.with_name("pgpass")


def _password(data_dir: Path) -> str:
    """The role's password, generated on first use and kept 0600 in the password file."""
    path = passfile(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.touch(mode=0o600)
        partial.write_text(f"127.0.0.1:*:*:{ROLE}:{secrets.token_urlsafe(24)}\n")
        partial.replace(path)
    return path.read_text().strip().rsplit(":", 1)[1]


def client_env(data_dir: Path) -> dict[str, str]:
    """What a client of the cluster needs besides its URL: where the password is."""
    return {"PGPASSFILE": str(passfile(data_dir))}


def cluster_dir(state_dir: Path) -> Path:
    """The data folder of the project whose native state is `state_dir`: its `postgres`
    subfolder, unless the server runs as `postgres` (under root) and cannot enter a folder
    above it; then `SHARED_CLUSTERS/<hash of state_dir>/postgres`, which it can.

    :param state_dir: the project's native state folder (.mwaa-kit/native).
    """
    inside = state_dir / "postgres"
    try:
        user = _server_user()
    except PostgresUnavailableError:
        return inside  # `up` says what is missing when it starts the server
    if user is None or _blocked_folder(user, inside) is None:
        return inside
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    return SHARED_CLUSTERS / digest / "postgres"


def check_reachable(data_dir: Path) -> None:
    """Under root the server runs as `postgres`, which must traverse every folder above
    `data_dir`; said before anything starts, or the server would only fail later with
    'connection refused'. `cluster_dir` avoids such folders; this catches the rest."""
    user = _server_user()
    blocked = _blocked_folder(user, data_dir) if user else None
    if blocked is not None:
        raise DataDirUnreachableError(
            f"PostgreSQL runs as the `{user}` user here (it refuses root) and cannot "
            f"enter {blocked} (mode {stat.filemode(blocked.stat().st_mode)}), where the "
            f"project's database lives. Run `chmod o+x {blocked}`."
        )


def _blocked_folder(user: str, data_dir: Path) -> Path | None:
    """The first existing folder above (or at) `data_dir` that `user` cannot enter."""
    account = pwd.getpwnam(user)
    groups = {account.pw_gid, *os.getgrouplist(user, account.pw_gid)}
    for folder in [*reversed(data_dir.parents), data_dir]:
        if not folder.exists():
            return None
        info = folder.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def database_name(airflow_version: str) -> str:
    """The metadata database of one Airflow version: `airflow_3_3_1` for 3.3.1."""
    return "airflow_" + re.sub(r"[^a-z0-9]+", "_", airflow_version.lower()).strip("_")


def url(port: int, database: str) -> str:
    """The SQLAlchemy URL of `database` on the kit's server at `port` (no password: the
    client reads it from PGPASSFILE)."""
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
    password = _password(data_dir)
    if not (data_dir / "PG_VERSION").exists():
        _initdb(bin_dir, data_dir, user, password)
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
    _wait_until_ready(bin_dir, port, record)
    if _trusts_everyone(data_dir):
        _require_password(bin_dir, data_dir, port, password)
    _create_database(bin_dir, data_dir, port, database)
    return record


def _wait_until_ready(bin_dir: Path, port: int, record: processes.ProcessRecord,
                      timeout: float = 120) -> None:
    """Wait until the server takes queries: after a crash it opens its port and then
    replays its log, refusing connections ('the database system is starting up')."""
    deadline = time.monotonic() + timeout
    while subprocess.run([str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                          str(port)]).returncode != 0:
        if not processes.is_alive(record):
            raise ProcessStartError("postgres", record.log)
        if time.monotonic() > deadline:
            raise StartTimeoutError(f"postgres did not take queries in {timeout:.0f} s; "
                                    f"see {record.log}")
        time.sleep(0.2)


def _initdb(bin_dir: Path, data_dir: Path, user: str | None, password: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if user:
        _give_to(user, data_dir)
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-initdb-") as scratch:
        pwfile = Path(scratch) / "password"
        pwfile.touch(mode=0o600)
        pwfile.write_text(password + "\n")
        if user:  # initdb runs as that user and must read both
            _give_to(user, Path(scratch))
            _give_to(user, pwfile)
        result = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", ROLE,
             "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"],
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
    path.chmod(0o700 if path.is_dir() else 0o600)


def _trusts_everyone(data_dir: Path) -> bool:
    """True for a cluster made before the kit set a password (initdb --auth=trust)."""
    hba = data_dir / "pg_hba.conf"
    return any(line.split()[-1:] == ["trust"] for line in hba.read_text().splitlines()
               if line.strip() and not line.lstrip().startswith("#"))


def _require_password(bin_dir: Path, data_dir: Path, port: int, password: str) -> None:
    """Give an older, trusting cluster the role's password and make it ask for it."""
    _psql(bin_dir, data_dir, port, f"ALTER ROLE {ROLE} PASSWORD '{password}'")
    hba = data_dir / "pg_hba.conf"
    hba.write_text("".join(
        re.sub(r"\btrust\s*$", "scram-sha-256", line) + "\n"
        for line in hba.read_text().splitlines()))
    _psql(bin_dir, data_dir, port, "SELECT pg_reload_conf()")


def _psql(bin_dir: Path, data_dir: Path, port: int, sql: str) -> str:
    command = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, "-d",
               "postgres", "-tAc", sql]
    return subprocess.run(command, capture_output=True, text=True, check=True,
                          env={**os.environ, **client_env(data_dir)}).stdout


def _create_database(bin_dir: Path, data_dir: Path, port: int, database: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", database):  # spliced into SQL below
        raise ValueError(f"not a plain database name: {database!r}")
    exists = _psql(bin_dir, data_dir, port,
                   f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
    if exists.strip() != "1":
        _psql(bin_dir, data_dir, port, f"CREATE DATABASE {database}")
