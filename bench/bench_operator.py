"""Our SalesforceToS3Operator beside the Amazon provider's and beside raw
simple-salesforce, over 1,000,000 Opportunity rows, in one run: rows/s and peak RSS.

    python bench/bench_operator.py [--rows 1000000] [--fmt ndjson|csv|json]
                                   [--state-dir DIR] [--airflow-version VERSION]
                                   [--only NAME ...] [--repeat N] [--profile] [--json]

Everything is real and runs as it runs on MWAA, locally:

* The Salesforce stub (HTTPS, its own process) holds exactly --rows live Opportunity
  records. --state-dir keeps the seeded org for the next run (seeding a million rows
  takes a minute or two); it is topped up when short, and records beyond --rows are
  deleted through the REST API (the generator marks ~2% of what it makes as deleted, so
  the live count is never exact by itself). Without --state-dir a temporary org is used.
* moto server (S3 and Secrets Manager, its own process) is seeded from the example
  project's seed.toml by the kit's own seeding: its buckets, and the
  `salesforce_connection` and `aws_connection` connections as Secrets Manager secrets,
  which Airflow reads through MWAA's SecretsManagerBackend. The Salesforce connection is
  the one `mwaa-kit up` writes: the stub's credentials and `domain` = `127.0.0.1:PORT/#`
  (simple-salesforce then sends everything to the stub); the stub's CA is trusted through
  REQUESTS_CA_BUNDLE; S3 is reached through AWS_ENDPOINT_URL.
* Airflow is the example project's own environment, prepared by the MWAA contract exactly
  as `mwaa-kit validate` prepares it (checks.scratch.prepare_scratch: MWAA's Python, the
  cached virtualenv with the constraints, plugins.zip built and extracted, forced
  configuration, the secrets backend). Each operator's `execute()` is called directly in
  that Python with the environment a worker has (MWAA_AIRFLOW_COMPONENT=worker); neither
  operator reads its context, so an empty one is passed.

Contenders, each in a fresh process of that virtualenv's Python so that its peak RSS
(the high-water mark VmHWM of /proc/self/status) is its own:

  ceiling     simple-salesforce's `query_all_iter` over the same SOQL and connection,
              counting records (no Airflow imported, nothing written): the rate at which
              records can be had one REST page after another.
  ours-rest   plugins/operators/salesforce_to_s3_operator.py with use_bulk=False:
              REST query pages streamed into an S3 multipart upload.
  ours        the same operator with its defaults, as a DAG would use it: it counts the
              records first and, from 500,000 (bulk_threshold), extracts through a Bulk
              API 2.0 query job, so at this size this is the Bulk path.
  provider    airflow.providers.amazon.aws.transfers.salesforce_to_s3.SalesforceToS3Operator
              with the same SOQL (salesforce_query), export_format and connections
              (salesforce_conn_id, aws_conn_id), replace=True. It works with the stub as
              is: its SalesforceHook builds the same simple-salesforce client from the same
              connection. It holds every record in a list (`query_all`), then in a pandas
              DataFrame, writes a temporary file and uploads that.

The timed part is execute() (logins included), or login and iteration for the ceiling;
interpreter start and imports are not timed, but their memory is in the peak RSS ("at
start" is the RSS before execute(): Airflow's import alone). "CPU s" is what the
contender's process used while timed, every thread included; "stub CPU s" and "moto CPU
s" what the two servers used meanwhile. They share the machine's cores with it, so on a
small machine the stub's and moto's work is part of every figure. After each operator
the object is read back from S3 and parsed: the run fails unless it holds exactly --rows
records with distinct ids. With --repeat N the contenders run N rounds, interleaved, and
each one's fastest round is reported.

Goals (issue 4), judged on ours and on ours-rest: at least 80% of the ceiling's rows/s,
at least 3x the provider's rows/s, a peak RSS of at most 250 MB. The provider first
pages through the very REST query the ceiling reads, then converts and uploads, so 3x
its rate means beating the ceiling by a wide margin: only the Bulk path can get near.

--profile runs our operator (REST, or --only) under cProfile and prints where the time
goes. Timings are wall clock on whatever else the machine is doing: run it on a quiet
machine, or with --repeat.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIELDS = ["Id", "Name", "StageName", "Amount", "CloseDate", "AccountId", "SystemModstamp"]
SOQL = f"SELECT {', '.join(FIELDS)} FROM Opportunity"
CONTENDERS = ("ceiling", "ours-rest", "ours", "provider")
EXTENSIONS = {"csv": "csv", "json": "json", "ndjson": "json"}
MARKER = "BENCH_RESULT:"
GOAL_CEILING, GOAL_PROVIDER, GOAL_RSS_MB = 0.80, 3.0, 250
SF_CONN, AWS_CONN = "salesforce_connection", "aws_connection"


# ---------------------------------------------------------------- the child processes

def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM). Not getrusage's
    ru_maxrss: Linux carries that over from the parent across fork and exec, so a child
    of a big parent would report the parent's size."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _ceiling(task: dict) -> int:
    from simple_salesforce import Salesforce

    connection = task["connection"]
    sf = Salesforce(username=connection["login"], password=connection["password"],
                    security_token=connection["extra"]["security_token"],
                    domain=connection["extra"]["domain"])
    headers = {"Sforce-Query-Options": "batchSize=2000"}
    return sum(1 for _ in sf.query_all_iter(task["soql"], headers=headers))


def _operator(task: dict, name: str):
    import airflow  # noqa: F401  - puts plugins/ on sys.path, as on MWAA

    if name == "provider":
        from airflow.providers.amazon.aws.transfers.salesforce_to_s3 import (
            SalesforceToS3Operator,
        )
        return SalesforceToS3Operator(
            task_id="provider", salesforce_conn_id=SF_CONN, salesforce_query=task["soql"],
            export_format=task["fmt"], aws_conn_id=AWS_CONN, s3_bucket_name=task["bucket"],
            s3_key=task["key"], replace=True)
    from operators.salesforce_to_s3_operator import SalesforceToS3Operator

    return SalesforceToS3Operator(
        task_id=name.replace("-", "_"), sf_conn_id=SF_CONN, sf_obj="Opportunity",
        sf_fields=task["fields"], fmt=task["fmt"], s3_conn_id=AWS_CONN,
        s3_bucket=task["bucket"], s3_key=task["key"],
        **({"use_bulk": False} if name == "ours-rest" else {}))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return usage.ru_utime + usage.ru_stime


def _profiled(work):
    """work() under cProfile. From Python 3.12 (MWAA's) cProfile sees every thread, so
    the read-ahead and upload threads are in the figures, and totals exceed wall time."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    try:
        return profile.runcall(work)
    finally:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)


def child(name: str, task: dict) -> None:
    """Run one contender in this process; print its figures as one JSON line."""
    if name == "ceiling":
        work = partial(_ceiling, task)
    else:
        work = partial(_operator(task, name).execute, context={})
    start_rss, cpu, started = _rss_mb(), _cpu_seconds(), time.monotonic()
    returned = _profiled(work) if task.get("profile") else work()
    result = {"seconds": time.monotonic() - started, "cpu_s": _cpu_seconds() - cpu,
              "start_rss_mb": start_rss, "returned": returned,
              "peak_rss_mb": _rss_mb("VmHWM")}
    if name == "ceiling":
        result["rows"] = returned
    print(MARKER + json.dumps(result, default=str), flush=True)


# ---------------------------------------------------------------- the org

def _live(sf) -> int:
    return sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]


def _top_up(sf, missing: int) -> dict:
    """What to generate so that at least `missing` more records are live (~2% of
    generated ones are deleted); accounts first if there are none."""
    spare = 5 * math.sqrt(missing * 0.02) + 10
    seed = {"Opportunity": math.ceil(missing / 0.98 + spare)}
    if not sf.query("SELECT COUNT() FROM Account")["totalSize"]:
        seed = {"Account": 1000, **seed}
    return seed


def _trim(sf, extra: int) -> None:
    """Delete the `extra` newest records, so that exactly the wanted number are live."""
    ids = [r["Id"] for r in sf.query_all_iter(
        f"SELECT Id FROM Opportunity ORDER BY Id DESC LIMIT {extra}")]
    for record_id in ids:
        sf.Opportunity.delete(record_id)


def open_org(stack, state: Path, rows: int):
    """The stub serving `state` with exactly `rows` live Opportunity records, left
    running on `stack`."""
    from contextlib import ExitStack

    from simple_salesforce import Salesforce

    from mwaa_kit.emulators.salesforce.testing import running_stub

    seed = None
    for _ in range(3):
        with ExitStack() as attempt:
            stub = attempt.enter_context(running_stub(state, seed=seed))
            sf = Salesforce(domain=stub.domain, **stub.credentials,
                            session=_trusting(stub.ca_path))
            live = _live(sf)
            if live >= rows:
                if live > rows:
                    print(f"deleting {live - rows:,} records beyond {rows:,}",
                          file=sys.stderr)
                    _trim(sf, live - rows)
                if _live(sf) != rows:
                    raise RuntimeError(f"the org holds {_live(sf):,} live records, not "
                                       f"{rows:,}")
                stack.enter_context(attempt.pop_all())
                return stub
            seed = _top_up(sf, rows - live)
        print(f"seeding {seed} (this takes a while)", file=sys.stderr)
    raise RuntimeError(f"could not get {rows:,} live Opportunity records")


def _trusting(ca_path: Path):
    import requests

    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_path)
    return session


# ---------------------------------------------------------------- the parent

def count_records(body, fmt: str) -> tuple[int, int]:
    """(records, distinct ids) of an object as each operator writes it."""
    import csv
    import io

    text = io.TextIOWrapper(body, encoding="utf-8", newline="")
    if fmt == "csv":
        ids = [row["id"] for row in csv.DictReader(text)]
    elif fmt == "json":
        ids = [record["id"] for record in json.load(text)]
    else:
        ids = [json.loads(line)["id"] for line in text if line.strip()]
    return len(ids), len(set(ids))


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(word: bytes) -> int:
    """The pid of this process's child whose command line holds `word`."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and word in (entry / "cmdline").read_bytes().split(b"\0") \
                    and f"PPid:\t{os.getpid()}\n" in (entry / "status").read_text():
                return int(entry.name)
        except OSError:  # gone meanwhile
            continue
    raise RuntimeError(f"no child process running {word.decode()}")


def run_contender(name: str, task: dict, python: Path, env: dict, cwd: Path, s3,
                  servers: dict[str, int]) -> dict:
    if name != "ceiling":
        s3.delete_object(Bucket=task["bucket"], Key=task["key"])
    import subprocess

    before = {server: process_cpu(pid) for server, pid in servers.items()}
    done = subprocess.run([str(python), __file__, "--child", name, json.dumps(task)],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=7200)
    server_cpu = {f"{server}_cpu_s": process_cpu(pid) - before[server]
                  for server, pid in servers.items()}
    if task.get("profile"):
        print(done.stderr[done.stderr.find("   Ordered by"):], file=sys.stderr)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if done.returncode or not lines:
        tail = "\n".join((done.stderr + done.stdout).strip().splitlines()[-30:])
        raise RuntimeError(f"{name} failed (exit status {done.returncode}):\n{tail}")
    result = {"contender": name, **json.loads(lines[-1][len(MARKER):]), **server_cpu}
    if name != "ceiling":
        body = s3.get_object(Bucket=task["bucket"], Key=task["key"])["Body"]
        result["rows"], distinct = count_records(body, task["fmt"])
        if result["rows"] != task["rows"] or distinct != task["rows"]:
            raise RuntimeError(f"{name}: s3://{task['bucket']}/{task['key']} holds "
                               f"{result['rows']:,} records ({distinct:,} distinct ids), "
                               f"not {task['rows']:,}")
    elif result["rows"] != task["rows"]:
        raise RuntimeError(f"ceiling: {result['rows']:,} records, not {task['rows']:,}")
    result["rows_per_s"] = result["rows"] / result["seconds"]
    return result


def run(arguments, state: Path, scratch_root: Path) -> dict:
    from contextlib import ExitStack
    from dataclasses import replace

    import boto3

    from mwaa_kit.checks.scratch import prepare_scratch
    from mwaa_kit.emulators.aws import seed as aws_seed
    from mwaa_kit.emulators.aws.endpoint import client_environment
    from mwaa_kit.project import load_project
    from mwaa_kit.runtime import processes
    from mwaa_kit.runtime.services import start_moto

    project = load_project(REPO)
    if arguments.airflow_version:
        project = replace(project, airflow_version=arguments.airflow_version)
    with ExitStack() as stack:
        stub = open_org(stack, state, arguments.rows)
        moto = start_moto(scratch_root / "moto.log", processes.free_port())
        servers = {"stub": child_pid(b"serve"), "moto": moto.pid}
        stack.callback(processes.stop, moto)
        endpoint = f"http://127.0.0.1:{moto.port}"
        seed = aws_seed.load_seed(project.seed_file, {
            "salesforce_domain": stub.domain, "salesforce_port": str(stub.port),
            "aws_endpoint_url": endpoint, "region": project.region,
            "environment_name": project.environment_name.lower()})
        runtime_env = {**client_environment(endpoint, project.region),
                       "REQUESTS_CA_BUNDLE": str(stub.ca_path)}
        os.environ.update(client_environment(endpoint, project.region))
        aws_seed.apply_seed(seed, boto3.session.Session(), endpoint)
        print(f"preparing Airflow {project.airflow_version} as MWAA would", file=sys.stderr)
        scratch = prepare_scratch(project, lambda m: print(m, file=sys.stderr),
                                  runtime_env=runtime_env)
        stack.callback(scratch.close)
        s3 = boto3.client("s3")
        bucket = seed.variables["bucket_name"]
        names = arguments.only or (("ours-rest",) if arguments.profile else CONTENDERS)
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for round_number in range(1, arguments.repeat + 1):
            for name in names:  # interleaved, so a busy spell of the machine hits all
                task = {"rows": arguments.rows, "soql": SOQL, "fields": FIELDS,
                        "fmt": arguments.fmt, "bucket": bucket,
                        "profile": arguments.profile,
                        "key": f"bench/{name}.{EXTENSIONS[arguments.fmt]}",
                        "connection": seed.connections[SF_CONN]}
                print(f"round {round_number}: {name}", file=sys.stderr)
                runs[name].append(run_contender(
                    name, task, scratch.prepared.virtualenv.python,
                    scratch.prepared.env("worker"), scratch.root, s3, servers))
    results = [{**min(tries, key=lambda r: r["seconds"]),
                "all_seconds": [r["seconds"] for r in tries]} for tries in runs.values()]
    return {"airflow_version": project.airflow_version, "rows": arguments.rows,
            "fmt": arguments.fmt, "soql": SOQL, "repeat": arguments.repeat, "results": results,
            "goals": goals(results)}


def goals(results: list[dict]) -> list[dict]:
    by_name = {r["contender"]: r for r in results}
    ceiling, provider = by_name.get("ceiling"), by_name.get("provider")
    verdicts = []
    for name in ("ours", "ours-rest"):
        ours = by_name.get(name)
        if not ours:
            continue
        for text, other, goal, shown in (
                (f">= {GOAL_CEILING:.0%} of the ceiling's rows/s", ceiling, GOAL_CEILING,
                 "{:.0%}"),
                (f">= {GOAL_PROVIDER:.0f}x the provider's rows/s", provider, GOAL_PROVIDER,
                 "{:.2f}x")):
            if other:
                value = ours["rows_per_s"] / other["rows_per_s"]
                verdicts.append({"contender": name, "goal": text, "value": shown.format(value),
                                 "met": value >= goal})
        verdicts.append({"contender": name, "goal": f"peak RSS <= {GOAL_RSS_MB} MB",
                         "value": f"{ours['peak_rss_mb']:.0f} MB",
                         "met": ours["peak_rss_mb"] <= GOAL_RSS_MB})
    return verdicts


def print_report(report: dict) -> None:
    rounds = f", fastest of {report['repeat']} rounds" if report["repeat"] > 1 else ""
    print(f"{report['rows']:,} Opportunity rows, {report['fmt']}, Airflow "
          f"{report['airflow_version']}{rounds}: {report['soql']}")
    ceiling = next((r for r in report["results"] if r["contender"] == "ceiling"), None)
    print(f"{'contender':<11}{'rows':>11}{'seconds':>9}{'rows/s':>10}{'% of ceiling':>14}"
          f"{'peak RSS MB':>13}{'at start':>10}{'CPU s':>7}{'stub CPU s':>12}"
          f"{'moto CPU s':>12}{'  every round, s' if report['repeat'] > 1 else ''}")
    for r in report["results"]:
        share = f"{r['rows_per_s'] / ceiling['rows_per_s']:.0%}" if ceiling else "-"
        print(f"{r['contender']:<11}{r['rows']:>11,}{r['seconds']:>9.1f}"
              f"{r['rows_per_s']:>10,.0f}{share:>14}{r['peak_rss_mb']:>13.0f}"
              f"{r['start_rss_mb']:>10.0f}{r['cpu_s']:>7.1f}{r['stub_cpu_s']:>12.1f}"
              f"{r['moto_cpu_s']:>12.1f}"
              + ("  " + " ".join(f"{t:.1f}" for t in r["all_seconds"])
                 if report["repeat"] > 1 else ""))
    for verdict in report["goals"]:
        print(f"goal: {verdict['contender']:<10}{verdict['goal']:<34}{verdict['value']:>8}  "
              f"{'PASS' if verdict['met'] else 'MISS'}")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        return child(sys.argv[2], json.loads(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="live Opportunity rows in the org (default 1,000,000)")
    parser.add_argument("--fmt", choices=sorted(EXTENSIONS), default="ndjson")
    parser.add_argument("--state-dir", type=Path,
                        help="keep the seeded org here and reuse it next time")
    parser.add_argument("--airflow-version",
                        help="default: the example project's (mwaa-kit.toml)")
    parser.add_argument("--only", nargs="+", choices=CONTENDERS, help="run only these")
    parser.add_argument("--profile", action="store_true",
                        help="run ours-rest (or --only) under cProfile and print the profile")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every contender; the fastest round of each counts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-operator-") as scratch:
        state = arguments.state_dir or Path(scratch) / "org"
        report = run(arguments, state.resolve(), Path(scratch))
    if arguments.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print_report(report)


if __name__ == "__main__":
    main()
