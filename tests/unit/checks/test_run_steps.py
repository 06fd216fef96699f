"""Scratch.run_steps: the scripts of one check run share one Airflow import
(in_airflow/run_steps.py) yet stay apart: each runs in a child of its own, its report,
failure or time limit its own. Airflow here is a fake package that counts its imports;
the interpreter is the kit's own."""

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mwaa_kit.checks.scratch import MARKER, InAirflowError, Scratch, Step


@dataclass
class _Virtualenv:
    python: Path


@dataclass
class _Prepared:
    """The part of a prepared environment run_steps uses: a Python and its variables."""

    virtualenv: _Virtualenv
    path: Path

    def env(self, component):
        return {"PYTHONPATH": str(self.path), "PATH": "/usr/bin:/bin"}


@pytest.fixture
def scratch(tmp_path):
    fake = tmp_path / "site"
    (fake / "airflow").mkdir(parents=True)
    (fake / "airflow" / "__init__.py").write_text(
        f"with open({str(tmp_path / 'imports.log')!r}, 'a') as log:\n"
        "    log.write('imported\\n')\n")
    root = tmp_path / "scratch"
    root.mkdir()
    return Scratch(None, root, _Prepared(_Virtualenv(Path(sys.executable)), fake), [])


def _script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("import json, sys\n" + body)
    return str(path)


def _reporting(body, report):
    return f"{body}\nprint({MARKER!r} + json.dumps({report}))\n"


def test_every_step_reports_on_one_airflow_import_and_none_sees_another_s(scratch, tmp_path):
    first = _script(tmp_path, "first.py", _reporting(
        "import airflow, colorsys\nairflow.touched = True", '{"args": sys.argv[1:]}'))
    second = _script(tmp_path, "second.py", _reporting(
        "inherited = 'airflow' in sys.modules\nimport airflow",
        '{"inherited": inherited, "sees_first": hasattr(airflow, "touched"), '
        '"colorsys": "colorsys" in sys.modules}'))
    outcomes = scratch.run_steps({"first": Step(first, ("a", "b")), "second": Step(second)})
    assert list(outcomes) == ["first", "second"]
    assert outcomes["first"].report == {"args": ["a", "b"]}
    assert outcomes["second"].report == {"inherited": True, "sees_first": False,
                                         "colorsys": False}
    assert (tmp_path / "imports.log").read_text() == "imported\n"  # once, not per step
    assert all(outcome.error is None and outcome.seconds > 0 for outcome in outcomes.values())


def test_a_failing_step_is_its_own_and_the_others_still_report(scratch, tmp_path):
    steps = {
        "raises": Step(_script(tmp_path, "raises.py", "raise RuntimeError('plugin broke')\n")),
        "exits": Step(_script(tmp_path, "exits.py", "print('no report')\nsys.exit(3)\n")),
        "hangs": Step(_script(tmp_path, "hangs.py", "import threading\n"
                                                     "threading.Event().wait()\n"), timeout=1),
        "fine": Step(_script(tmp_path, "fine.py", _reporting("", '{"ok": 1}'))),
    }
    outcomes = scratch.run_steps(steps)
    assert "RuntimeError: plugin broke" in str(outcomes["raises"].error)
    assert "exit status 3" in str(outcomes["exits"].error)
    assert "no report" in str(outcomes["exits"].error)  # its own output, nothing else's
    assert str(outcomes["hangs"].error) == f"{steps['hangs'].script} did not finish in 1 s"
    assert outcomes["fine"].report == {"ok": 1} and outcomes["fine"].error is None
    assert all(outcome.report is None for name, outcome in outcomes.items() if name != "fine")


def test_when_airflow_itself_does_not_import_every_step_says_why(scratch, tmp_path):
    (scratch.prepared.path / "airflow" / "__init__.py").write_text("raise ImportError('no')\n")
    outcomes = scratch.run_steps({"a": Step(_script(tmp_path, "a.py", "")),
                                  "b": Step(_script(tmp_path, "b.py", ""))})
    assert {str(outcome.error).splitlines()[0] for outcome in outcomes.values()} == {
        "run_steps.py failed (exit status 1):"}
    assert all("ImportError: no" in str(outcome.error) for outcome in outcomes.values())


def test_run_script_returns_the_report_or_raises(scratch, tmp_path):
    assert scratch.run_script(Step(_script(tmp_path, "ok.py", _reporting("", "[1, 2]")))) \
        == [1, 2]
    with pytest.raises(InAirflowError, match="exit status 2"):
        scratch.run_script(Step(_script(tmp_path, "bad.py", "sys.exit(2)\n")))
