"""up, down and restart hold the project's life-cycle lock: a second one is refused at once."""

import subprocess
import sys

import pytest

from mwaa_kit.runtime.lifecycle_lock import ProjectBusyError, exclusive

HOLD = """
import sys, time
from pathlib import Path
from mwaa_kit.runtime.lifecycle_lock import exclusive
with exclusive(Path(sys.argv[1]), "up"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_command_is_refused_naming_the_one_that_runs(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = rf"`mwaa-kit up \(pid {holder.pid}\)` is running.*run `mwaa-kit down` again"
        with pytest.raises(ProjectBusyError, match=busy), exclusive(tmp_path, "down"):
            pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive(tmp_path, "down"):  # free again once the holder is gone
        pass


def test_a_state_folder_that_cannot_be_written_is_a_clear_error(tmp_path):
    # (root writes through permission bits, so the folder is made impossible instead)
    (tmp_path / "not-a-folder").write_text("")
    state = tmp_path / "not-a-folder" / ".mwaa-kit"
    with pytest.raises(ProjectBusyError, match=r"Cannot write to .*\(Not a directory\)"), \
            exclusive(state, "up"):
        pass
