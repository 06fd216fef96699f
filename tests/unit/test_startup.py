import os

import pytest

from mwaa_kit.contract.startup import StartupScriptError, run_startup_script

BASE = {"PATH": os.environ["PATH"], "AIRFLOW_HOME": "/usr/local/airflow", "KEEP": "same"}


def _script(tmp_path, body):
    script = tmp_path / "startup.sh"
    script.write_text(body)
    return script


def test_exports_and_changed_variables_are_captured(tmp_path):
    script = _script(tmp_path, "export NEW_ONE=hello\nexport KEEP=same\nLOCAL_ONLY=1\n"
                               'export PATH="/opt/tools:$PATH"\necho done\n')
    result = run_startup_script(script, BASE, cwd=tmp_path)
    assert result.exported == {"NEW_ONE": "hello", "PATH": f"/opt/tools:{BASE['PATH']}"}
    assert "done" in result.output


def test_script_that_exits_zero_early_still_has_its_exports_captured(tmp_path):
    script = _script(tmp_path, "export EARLY=yes\nexit 0\nexport LATE=never\n")
    assert run_startup_script(script, BASE, cwd=tmp_path).exported == {"EARLY": "yes"}


def test_component_is_visible_to_the_script(tmp_path):
    script = _script(tmp_path, 'export SEEN="$MWAA_AIRFLOW_COMPONENT"\n')
    env = {**BASE, "MWAA_AIRFLOW_COMPONENT": "worker"}
    assert run_startup_script(script, env, cwd=tmp_path).exported == {"SEEN": "worker"}


@pytest.mark.parametrize("name", ["AIRFLOW_HOME", "PYTHONPATH", "AWS_REGION", "MWAA__CORE__X"])
def test_protected_variables_are_refused_by_name(tmp_path, name):
    script = _script(tmp_path, f"export {name}=/somewhere/else\n")
    with pytest.raises(StartupScriptError, match=name):
        run_startup_script(script, BASE, cwd=tmp_path)


def test_failing_script_reports_status_and_output(tmp_path):
    script = _script(tmp_path, "echo 'cannot reach the mirror' >&2\nfalse\n")
    with pytest.raises(StartupScriptError, match="(?s)status 1.*cannot reach the mirror"):
        run_startup_script(script, BASE, cwd=tmp_path)


def test_timeout_is_enforced(tmp_path):
    script = _script(tmp_path, "sleep 30\n")
    with pytest.raises(StartupScriptError, match="limit"):
        run_startup_script(script, BASE, cwd=tmp_path, timeout=1)


def test_timeout_stops_the_scripts_children_too(tmp_path):
    script = _script(tmp_path, f"sleep 400 &\necho $! > {tmp_path}/child.pid\nsleep 30\n")
    with pytest.raises(StartupScriptError, match="limit"):
        run_startup_script(script, BASE, cwd=tmp_path, timeout=1)
    child = int((tmp_path / "child.pid").read_text())
    state = _process_state(child)
    assert state in (None, "Z"), f"the script's child {child} is still running ({state})"


def _process_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
