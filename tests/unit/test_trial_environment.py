"""The trial environment of upgrade-check --run: a copy of the project naming the target
version (its state, git and virtualenvs left out, the project untouched), brought up once
for all its runs, always stopped and deleted; and the end of a failed task's part of
`airflow dags test`'s output. The native environment is a stand-in here; tests/e2e runs
the real one."""

import subprocess
import tomllib
from pathlib import Path

import pytest

from mwaa_kit.errors import KitError
from mwaa_kit.project import Project, load_project
from mwaa_kit.runtime import dag_test, trial

OUTPUT_3X = """\
[DAG TEST] starting task_id=stamp_late map_index=-1
[DAG TEST] end task task_id=stamp_late map_index=-1
[DAG TEST] starting task_id=stamp map_index=-1
Traceback (most recent call last):
jinja2.exceptions.UndefinedError: 'execution_date' is undefined
[DAG TEST] end task task_id=stamp map_index=-1
[DAG TEST] starting task_id=done map_index=-1
DagRun failed
"""
OUTPUT_2X = """\
jinja2.exceptions.UndefinedError: 'conf' is undefined
INFO - Marking task as FAILED. dag_id=d, task_id=stamp, execution_date=20260101T000000
INFO - Marking task as UPSTREAM_FAILED. dag_id=d, task_id=done
"""


@pytest.mark.parametrize("text, expected", [
    ('# mine\n[environment]\nname = "Env"\nairflow_version = "2.11.2"\n',
     '# mine\n[environment]\nname = "Env"\nairflow_version = "3.3.1"\n'),
    ('[environment]\nname = "Env"\n', '[environment]\nairflow_version = "3.3.1"\nname = "Env"\n'),
    ('[aws]\nemulator = "moto"\n',
     '[environment]\nairflow_version = "3.3.1"\n\n[aws]\nemulator = "moto"\n'),
    ("", '[environment]\nairflow_version = "3.3.1"\n\n'),
])
def test_the_copy_s_settings_name_the_target_and_keep_the_rest(text, expected):
    assert trial.with_version(text, "3.3.1") == expected
    assert tomllib.loads(expected)["environment"]["airflow_version"] == "3.3.1"


def _project(root: Path) -> Project:
    for relative, text in {"dags/a.py": "x = 1\n", "tests/test_a.py": "def test(): pass\n",
                           ".mwaa-kit/native/state.json": "{}", ".git/HEAD": "ref",
                           ".venv/bin/python": "", "dags/__pycache__/a.pyc": "",
                           "mwaa-kit.toml": '[environment]\nairflow_version = "2.11.2"\n'
                           }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    root.chmod(0o700)
    return load_project(root)


def test_the_copy_leaves_the_state_out_and_the_project_as_it_was(tmp_path):
    project = _project(tmp_path / "project")
    before = {path: path.read_bytes() for path in project.root.rglob("*") if path.is_file()}
    copy = trial.copy_project(project, tmp_path / "trial" / "copy", "3.3.1")
    assert copy.airflow_version == "3.3.1" and copy.root == tmp_path / "trial" / "copy"
    copied = sorted(str(path.relative_to(copy.root)) for path in copy.root.rglob("*")
                    if path.is_file())
    assert copied == ["dags/a.py", "mwaa-kit.toml", "tests/test_a.py"]
    assert {path: path.read_bytes() for path in project.root.rglob("*")
            if path.is_file()} == before
    # PostgreSQL runs as `postgres` under root and must reach its cluster in the copy.
    assert all(folder.stat().st_mode & 0o005 == 0o005 for folder in (copy.root,
                                                                       copy.root.parent))


def test_a_version_the_settings_cannot_take_is_an_error(tmp_path):
    project = _project(tmp_path / "project")
    (project.config_file).write_text('environment = { airflow_version = "2.11.2" }\n')
    with pytest.raises(trial.TrialProjectError) as raised:
        trial.copy_project(project, tmp_path / "copy", "3.3.1")
    assert "under [environment]" in raised.value.hint


class FakeNative:
    """NativeEnvironment's part a trial uses, recording its calls."""

    made: list = []
    up_error: KitError | None = None

    def __init__(self, project, report):
        self.project = project
        self.calls = []
        FakeNative.made.append(self)

    def up(self):
        self.calls.append("up")
        if self.up_error:
            raise self.up_error

    def down(self):
        self.calls.append("down")

    def run_states(self, dag_id, run_id=None):
        state = "failed" if "airflow" in self.calls else None
        return {"dag_id": dag_id, "run_id": "manual__1", "state": state, "paused": True,
                "tasks": [{"task_id": "stamp_late", "state": "success", "map_index": -1},
                          {"task_id": "stamp", "state": "failed", "map_index": -1},
                          {"task_id": "done", "state": "upstream_failed", "map_index": -1}]
                if state else []}

    def airflow(self, *arguments, on_line=None):
        self.calls.append("airflow")
        for line in OUTPUT_3X.splitlines(keepends=True):
            on_line(line)
        return subprocess.CompletedProcess(["airflow", *arguments], 1)


@pytest.fixture
def native(monkeypatch):
    FakeNative.made, FakeNative.up_error = [], None
    monkeypatch.setattr(trial, "NativeEnvironment", FakeNative)
    return FakeNative


def test_runs_share_one_environment_stopped_and_deleted_at_the_end(tmp_path, native):
    project = _project(tmp_path / "project")
    with trial.trial_environment(project, "3.3.1") as environment:
        copy = environment.project.root
        first = environment.dags_test("report_dates")
        environment.dags_test("report_dates")
    assert first["failed_task"] == "stamp" and first["returncode"] == 1
    assert first["log_tail"].splitlines()[-2:] == [
        "jinja2.exceptions.UndefinedError: 'execution_date' is undefined",
        "[DAG TEST] end task task_id=stamp map_index=-1"]
    [environment] = native.made
    assert environment.calls == ["up", "airflow", "airflow", "down"]
    assert environment.project.airflow_version == "3.3.1"
    assert not copy.parent.exists() and not (project.state_dir / "logs").exists()


def test_a_failed_start_is_raised_for_each_run_without_starting_again(tmp_path, native):
    native.up_error = KitError("postgres exited while starting")
    with trial.trial_environment(_project(tmp_path / "project"), "3.3.1") as environment:
        for _ in range(2):
            with pytest.raises(KitError, match="postgres exited"):
                environment.dags_test("a")
        copy = environment.project.root
    assert native.made[0].calls == ["up", "down"] and not copy.parent.exists()


def test_only_pytest_brings_nothing_up_and_a_bug_still_deletes_the_copy(tmp_path, native):
    with pytest.raises(RuntimeError), trial.trial_environment(
            _project(tmp_path / "project"), "3.3.1") as environment:
        copy = environment.project.root
        raise RuntimeError("a bug")
    assert native.made == [] and not copy.parent.exists()


@pytest.mark.parametrize("output, task_id, last", [
    (OUTPUT_3X, "stamp", "[DAG TEST] end task task_id=stamp map_index=-1"),
    (OUTPUT_2X, "stamp", "INFO - Marking task as FAILED. dag_id=d, task_id=stamp, "
                         "execution_date=20260101T000000"),
    (OUTPUT_3X, None, "DagRun failed"),
    (OUTPUT_3X, "never_ran", "DagRun failed"),
])
def test_the_tail_ends_where_the_failed_task_s_output_ends(output, task_id, last):
    tail = trial.task_tail(output, task_id, lines=2).splitlines()
    assert len(tail) == 2 and tail[-1] == last


def test_the_failed_task_is_the_first_that_failed_not_one_upstream_of_a_failure(tmp_path):
    tasks = [{"task_id": name, "state": state, "map_index": -1} for name, state in
             (("a", "success"), ("b", "upstream_failed"), ("c", "failed"), ("d", "failed"))]
    outcome = dag_test.DagTest({"tasks": tasks}, 1, tmp_path / "log")
    assert outcome.failed_task["task_id"] == "c"
    tasks[2]["state"] = tasks[3]["state"] = "skipped"
    assert outcome.failed_task["task_id"] == "b"
