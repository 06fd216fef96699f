"""The compose image's `run-states`: a database that does not answer for a moment (the
stack's DNS missing a name while a killed container leaves the network) is asked again
instead of failing the caller's wait; any other failure is reported at once."""

import sys

import pytest

from mwaa_kit.runtime.compose import entrypoint

# Fails with OperationalError until COUNTER holds `failures`, then prints the states.
SCRIPT = """
import sys
from pathlib import Path
counter = Path(sys.argv[1])
calls = int(counter.read_text() or 0) + 1 if counter.exists() else 1
counter.write_text(str(calls))
if calls <= int(sys.argv[2]):
    sys.exit(sys.argv[3] + ': could not translate host name "postgres" to address')
print('MWAA_KIT_JSON:{"state": "running"}')
"""


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr(entrypoint, "HOME", tmp_path)
    monkeypatch.setattr(entrypoint.time, "sleep", lambda seconds: None)
    counter = tmp_path / "calls"

    def run(failures: int, error: str = "sqlalchemy.exc.OperationalError"):
        code = entrypoint._run_states(
            [sys.executable, "-c", SCRIPT, str(counter), str(failures), error], env={})
        return code, int(counter.read_text())

    return run


def test_a_database_that_answers_again_is_read(run, capsys):
    assert run(failures=2) == (0, 3)
    assert 'MWAA_KIT_JSON:{"state": "running"}' in capsys.readouterr().out


def test_a_database_that_never_answers_fails_after_five_attempts(run, capsys):
    assert run(failures=10) == (1, 5)
    assert "could not translate host name" in capsys.readouterr().err


def test_other_failures_are_not_retried(run, capsys):
    assert run(failures=10, error="KeyError") == (1, 1)
    assert "KeyError" in capsys.readouterr().err
