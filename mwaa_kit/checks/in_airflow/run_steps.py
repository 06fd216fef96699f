"""Run several scripts (this folder's) in one interpreter that imports Airflow once.

Importing Airflow costs seconds (about 5 on a busy two-core machine), paid again by every
script that starts its own Python. Here it is paid once, then each script runs in a child
forked from this interpreter, as Airflow's own DAG processor forks after its imports: what
one script imports or changes (plugin modules, the providers' configuration) never reaches
the next, and one that crashes, exits or hangs leaves the others running. Each child's
stdout and stderr go to files of its own, which the kit reads as it reads a script run
alone.

Runs with the environment's own Python (Airflow installed, the kit not). Usage:
python run_steps.py REQUEST.json  -> one line "MWAA_KIT_JSON:{...}" on stdout.

REQUEST: {"steps": [{"name", "script": path, "arguments": [str], "timeout", "stdout",
"stderr"}]}
Output: {"import_seconds": float, "steps": {name: {"seconds": float, "exit_status": int}}}
(exit_status None: the script ran out of time and was killed).
"""

import gc
import json
import os
import runpy
import sys
import time
import traceback
from multiprocessing import get_context

MARKER = "MWAA_KIT_JSON:"


def _child(step):
    """In the forked child: the script as `python SCRIPT ARGUMENTS...` would run it."""
    for fd, path in ((1, step["stdout"]), (2, step["stderr"])):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = [step["script"], *step["arguments"]]
    status = 0
    try:
        runpy.run_path(step["script"], run_name="__main__")
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    except BaseException:  # noqa: BLE001 - reported as the script's own failure
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run(step):
    """Run one step in a forked child; (seconds, exit status or None when killed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    child = get_context("fork").Process(target=_child, args=(step,))
    child.start()
    child.join(step["timeout"])
    if child.exitcode is None:
        child.kill()
        child.join()
        return time.monotonic() - started, None
    return time.monotonic() - started, child.exitcode


def main(request_path):
    with open(request_path) as stream:
        request = json.load(stream)
    # Off while Airflow imports (a few hundred thousand objects the collector would scan
    # over and over), then frozen out of its sight in every child.
    gc.disable()
    started = time.monotonic()
    import airflow  # noqa: F401 - the import every step shares

    imported = time.monotonic() - started
    gc.freeze()
    gc.enable()
    steps = {}
    for step in request["steps"]:
        seconds, status = run(step)
        steps[step["name"]] = {"seconds": round(seconds, 3), "exit_status": status}
    print(MARKER + json.dumps({"import_seconds": round(imported, 3), "steps": steps}))


if __name__ == "__main__":
    main(sys.argv[1])
