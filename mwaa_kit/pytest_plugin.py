"""pytest fixtures for users' own tests of an mwaa-kit project (entry point `pytest11`).

- `mwaa_project`: the project (`--mwaa-project DIR`, the `mwaa_project` ini option, else
  the rootdir) as `mwaa_kit.project.Project`.
- `mwaa_dagbag`: the project's DAGs as MWAA's DAG processor sees them. When the project's
  Airflow version is importable in the test's own interpreter this is Airflow's DagBag
  (plugins on sys.path); otherwise the DAGs are parsed in the environment's own virtualenv
  (the one `up` and `validate` use) and returned as a `ParsedDagBag` with the same reading
  API (dag_ids, get_dag, import_errors, size) and each DAG's tasks and dependencies.
- `aws_emulator`: a moto server on a free port, with the endpoint, region and credentials
  a boto3 client needs (`aws_emulator.client("s3")`).
- `salesforce_stub`: a running, seeded Salesforce stub (mwaa_kit.emulators.salesforce;
  base_url, domain, ca_path, credentials).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("mwaa-kit")
    group.addoption("--mwaa-project", dest="mwaa_project", default=None,
                    help="mwaa-kit project folder for the mwaa_* fixtures (default: rootdir)")
    parser.addini("mwaa_project", "mwaa-kit project folder for the mwaa_* fixtures",
                  default="")
    parser.addini("mwaa_salesforce_seed", "seed of the Salesforce stub's generated org",
                  default="42")
    parser.addini("mwaa_salesforce_objects", "records the stub generates, e.g. "
                  "'Account=20 Opportunity=60'", default="Account=20 Opportunity=60")


@pytest.fixture(scope="session")
def mwaa_project(request):
    from mwaa_kit.project import load_project

    chosen = request.config.getoption("mwaa_project") or request.config.getini("mwaa_project")
    root = Path(chosen) if chosen else Path(request.config.rootpath)
    if not root.is_absolute():
        root = Path(request.config.rootpath) / root
    return load_project(root)


@dataclass
class ParsedTask:
    task_id: str
    downstream_task_ids: set[str]
    upstream_task_ids: set[str] = field(default_factory=set)


@dataclass
class ParsedDag:
    dag_id: str
    fileloc: str
    tasks: list[ParsedTask]

    @property
    def task_ids(self) -> list[str]:
        return [task.task_id for task in self.tasks]

    @property
    def task_dict(self) -> dict[str, ParsedTask]:
        return {task.task_id: task for task in self.tasks}

    def get_task(self, task_id: str) -> ParsedTask:
        return self.task_dict[task_id]

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict


@dataclass
class ParsedDagBag:
    """What Airflow's DagBag found, parsed in the environment's own virtualenv."""

    dags: dict[str, ParsedDag]
    import_errors: dict[str, str]

    @property
    def dag_ids(self) -> list[str]:
        return sorted(self.dags)

    def get_dag(self, dag_id: str) -> ParsedDag | None:
        return self.dags.get(dag_id)

    def size(self) -> int:
        return len(self.dags)

    @classmethod
    def from_report(cls, parsed: dict) -> ParsedDagBag:
        dags = {}
        errors = {}
        for entry in parsed["files"]:
            for error in entry["errors"]:
                errors[error["file"]] = error["message"]
            for dag in entry["dags"]:
                tasks = {task_id: ParsedTask(task_id, set(downstream))
                         for task_id, downstream in dag["tasks"].items()}
                for task in tasks.values():
                    for downstream in task.downstream_task_ids:
                        if downstream in tasks:
                            tasks[downstream].upstream_task_ids.add(task.task_id)
                dags[dag["dag_id"]] = ParsedDag(dag["dag_id"], dag["fileloc"],
                                                list(tasks.values()))
        return cls(dags, errors)


def parsed_dagbag(project) -> ParsedDagBag:
    """Parse the project's DAGs in its environment (contract-prepared scratch home)."""
    from mwaa_kit.checks import dags
    from mwaa_kit.checks.findings import CheckResult
    from mwaa_kit.checks.scratch import prepare_scratch

    scratch = prepare_scratch(project)
    try:
        return ParsedDagBag.from_report(dags.run(scratch, CheckResult("dags")))
    finally:
        scratch.close()


def _airflow_here() -> str | None:
    """The version of the Airflow importable in this interpreter, None without one."""
    if importlib.util.find_spec("airflow") is None:
        return None
    try:
        return importlib.metadata.version("apache-airflow")
    except importlib.metadata.PackageNotFoundError:
        return None


@pytest.fixture(scope="session")
def mwaa_dagbag(mwaa_project):
    # Another Airflow than the project's (upgrade-check --pytest names the target version)
    # would answer for the wrong version: parse in the project's own virtualenv then.
    if _airflow_here() != mwaa_project.airflow_version:
        return parsed_dagbag(mwaa_project)
    plugins = str(mwaa_project.plugins_dir)
    if plugins not in sys.path:
        sys.path.insert(0, plugins)
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(mwaa_project.dags_dir), include_examples=False)


@dataclass
class AwsEmulator:
    endpoint_url: str
    region: str
    env: dict[str, str]

    def client(self, service: str, **kwargs):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"], **kwargs)

    def reset(self) -> None:
        """Forget every resource (moto's reset API)."""
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@pytest.fixture(scope="session")
def aws_emulator(mwaa_project, tmp_path_factory):
    from mwaa_kit.emulators.aws.endpoint import client_environment
    from mwaa_kit.runtime import processes, services

    port = processes.free_port()
    log = tmp_path_factory.mktemp("mwaa-kit-aws") / "moto.log"
    record = services.start_moto(log, port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield AwsEmulator(endpoint, mwaa_project.region,
                          client_environment(endpoint, mwaa_project.region))
    finally:
        processes.stop(record)


@pytest.fixture(scope="session")
def salesforce_stub(request, tmp_path_factory):
    try:
        from mwaa_kit.emulators.salesforce.testing import running_stub
    except ImportError as error:
        pytest.skip(f"the Salesforce stub's test helper is not available ({error})")
    seed_value = int(os.environ.get("MWAA_KIT_SALESFORCE_SEED")
                     or request.config.getini("mwaa_salesforce_seed"))
    objects = {}
    for item in request.config.getini("mwaa_salesforce_objects").split():
        name, _, count = item.partition("=")
        objects[name] = int(count)
    with running_stub(tmp_path_factory.mktemp("mwaa-kit-salesforce"), seed=objects,
                      seed_value=seed_value) as stub:
        yield stub
