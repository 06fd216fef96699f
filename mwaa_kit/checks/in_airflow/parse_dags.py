"""Parse a DAG folder as MWAA's DAG processor would and print what it found as JSON.

Runs with the environment's own Python (Airflow and the user's requirements installed,
the kit not): it may import only the standard library and Airflow. Every file is loaded
by Airflow's own DagBag.process_file (its import timeout, its cycle check, its warning
capture), each file on its own in a pool of forked processes, so files parse in parallel
across cores and one file never sees the DAGs of another (as in Airflow 3's processor).

Usage: python parse_dags.py REQUEST.json  -> one line "MWAA_KIT_JSON:{...}" on stdout.

REQUEST: {"dags_folder": str, "processes": int}. Removed imports and arguments are not
looked for here: ruff's Airflow rules find them, in the kit (checks/airflow_rules.py).
"""

import ast
import contextlib
import gc
import inspect
import json
import os
import re
import socket
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

MARKER = "MWAA_KIT_JSON:"
# Calls that reach the network, a secrets backend or the metadata database; made at
# module level they run on every parse (every 30 s per file on MWAA).
_NETWORK_CALLS = {
    "requests": {"get", "post", "put", "patch", "delete", "head", "request", "Session"},
    "httpx": {"get", "post", "put", "patch", "delete", "head", "request", "Client"},
    "urllib.request": {"urlopen", "Request"},
    "boto3": {"client", "resource", "Session"},
    "socket": {"create_connection", "socket", "getaddrinfo", "gethostbyname"},
    "http.client": {"HTTPConnection", "HTTPSConnection"},
}
_CONNECTION_METHODS = {"get_connection", "get_conn", "get_client_type", "get_session",
                       "get_records", "get_first", "get_pandas_df", "run"}

_bag = None
_calls = []  # (kind, detail, line) recorded by the patches while one file parses
_current_file = None


# -------------------------------------------------------------- top-level calls
def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _TopLevel(ast.NodeVisitor):
    """Calls made when the module is imported: not inside a function or lambda body."""

    def __init__(self, aliases):
        self.aliases = aliases  # local name -> imported dotted name
        self.found = []

    def visit_FunctionDef(self, node):
        for decorator in node.decorator_list:
            self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        return

    def visit_Call(self, node):
        name = _dotted(node.func)
        if name:
            head, _, rest = name.partition(".")
            full = self.aliases.get(head, head) + (f".{rest}" if rest else "")
            self._classify(full, node)
        self.generic_visit(node)

    def _classify(self, full, node):
        module, _, attribute = full.rpartition(".")
        last = full.rsplit(".", 1)[-1]
        if module.endswith("Variable") and attribute in {"get", "set"}:
            self.found.append(("variable", f"Variable.{attribute}", node.lineno))
        elif module.rsplit(".", 1)[-1].endswith("Hook") or last.endswith("Hook"):
            self.found.append(("hook", full.rsplit(".", 2)[-1] if module else full, node.lineno))
        elif attribute in _CONNECTION_METHODS and module.endswith(("Hook", "Connection")):
            self.found.append(("hook", full, node.lineno))
        else:
            for prefix, names in _NETWORK_CALLS.items():
                if module == prefix and attribute in names:
                    self.found.append(("network", full, node.lineno))


def _aliases(tree):
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def static_findings(path):
    try:
        with open(path, "rb") as stream:
            tree = ast.parse(stream.read(), filename=path)
    except (SyntaxError, ValueError):
        return []  # the import reports it, with its line
    top = _TopLevel(_aliases(tree))
    top.visit(tree)
    return [{"kind": kind, "severity": "warning", "line": line, "name": name}
            for kind, name, line in top.found]


# -------------------------------------------------------------------- runtime patches
def _caller_line():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == _current_file:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _record(kind, detail):
    if _current_file is not None:
        _calls.append((kind, detail, _caller_line()))


def _patch_variable(cls):
    """Record Variable.get; answer from AIRFLOW_VAR_*, the default, or a placeholder
    (a parse must not need the metadata database; MWAA would query it every parse)."""
    if "get" not in cls.__dict__:
        return

    def get(cls_, key, *args, **kwargs):
        _record("variable", f"Variable.get({key!r})")
        deserialize = kwargs.get("deserialize_json", len(args) > 1 and args[1])
        value = os.environ.get(f"AIRFLOW_VAR_{str(key).upper()}")
        if value is not None:
            return json.loads(value) if deserialize else value
        if args:
            return args[0]
        for name in ("default_var", "default"):
            if name in kwargs:
                return kwargs[name]
        return {} if deserialize else f"mwaa-kit-placeholder-{key}"

    cls.get = classmethod(get)


def _patch_connections(cls):
    original = cls.__dict__.get("get_connection")
    if original is None:
        return
    func = original.__func__ if isinstance(original, classmethod) else original

    def get_connection(cls_, conn_id, *args, **kwargs):
        _record("hook", f"get_connection({conn_id!r})")
        return func(cls_, conn_id, *args, **kwargs)

    cls.get_connection = classmethod(get_connection)


def _install_patches():
    for module_name in ("airflow.models.variable", "airflow.sdk.definitions.variable",
                        "airflow.sdk"):
        try:
            module = __import__(module_name, fromlist=["Variable"])
            _patch_variable(module.Variable)
        except Exception:  # noqa: BLE001 - older or newer Airflow: fewer places to patch
            pass
    for module_name in ("airflow.hooks.base", "airflow.sdk.bases.hook"):
        with contextlib.suppress(Exception):
            _patch_connections(__import__(module_name, fromlist=["BaseHook"]).BaseHook)
    connect = socket.socket.connect

    def recording_connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _record("network", f"connect to {address[0]}:{address[1]}")
        return connect(self, address)

    socket.socket.connect = recording_connect


# ------------------------------------------------------------------------- parsing
def _dagbag_class():
    """Airflow's DagBag: in airflow.dag_processing.dagbag from 3.2 on (its old home still
    answers there, with a deprecation warning), in airflow.models.dagbag before."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag
    return DagBag


def _init_worker():
    global _bag
    dagbag = _dagbag_class()
    options = {"dag_folder": os.devnull, "collect_dags": False}
    if "include_examples" in inspect.signature(dagbag.__init__).parameters:
        options["include_examples"] = False  # gone from 3.2, which never loads them here
    _bag = dagbag(**options)


def _error_location(text, path):
    """(line in the DAG file, deepest "file:line" overall) from a formatted traceback."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', text)
    line = next((int(n) for f, n in reversed(frames) if os.path.realpath(f) ==
                 os.path.realpath(path)), None)
    deepest = f"{frames[-1][0]}:{frames[-1][1]}" if frames else None
    return line, deepest


def parse_one(path, safe_mode):
    global _current_file

    _bag.dags.clear()
    _bag.import_errors.clear()
    _bag.captured_warnings.clear()
    _calls.clear()
    _current_file = path
    started = time.perf_counter()
    try:
        found = _bag.process_file(path, only_if_updated=False, safe_mode=safe_mode)
    except Exception:  # noqa: BLE001 - a crash of the loader itself is an import error
        found = []
        _bag.import_errors[path] = traceback.format_exc()
    finally:
        _current_file = None
    seconds = time.perf_counter() - started
    errors = []
    for where, text in _bag.import_errors.items():
        line, deepest = _error_location(text, path)
        kind = "cycle" if "AirflowDagCycleException" in text or "Cycle detected" in text else (
            "timeout" if "DagBag import timeout" in text else "import_error")
        errors.append({"file": where, "kind": kind, "line": line, "raised_at": deepest,
                       "message": text.strip()})
    seen = {}
    duplicates = []
    for dag in found:
        if dag.dag_id in seen and seen[dag.dag_id] is not dag:
            duplicates.append(dag.dag_id)
        seen[dag.dag_id] = dag
    dags = []
    for dag in seen.values():
        dags.append({
            "dag_id": dag.dag_id,
            "fileloc": dag.fileloc,
            "tasks": {task.task_id: sorted(task.downstream_task_ids) for task in dag.tasks},
        })
    warnings = list(_bag.captured_warnings.get(path, ()))
    return {
        "file": path,
        "seconds": round(seconds, 4),
        "dags": dags,
        "duplicates_in_file": duplicates,
        "errors": errors,
        "warnings": warnings,
        "calls": [{"kind": k, "name": d, "line": n} for k, d, n in dict.fromkeys(_calls)],
        "static": static_findings(path),
    }


def main(request_path):
    # Importing Airflow creates a few hundred thousand objects, and the cyclic garbage
    # collector would scan them over and over (a tenth of the run). Off while importing,
    # then those objects are frozen out of its sight (Airflow's own processors do the same
    # before forking) and it runs as usual while the files parse.
    gc.disable()
    with open(request_path) as stream:
        request = json.load(stream)
    from airflow.configuration import conf
    from airflow.utils.file import list_py_file_paths

    safe_mode = conf.getboolean("core", "DAG_DISCOVERY_SAFE_MODE")
    files = list_py_file_paths(request["dags_folder"], safe_mode=safe_mode)
    files = sorted(str(path) for path in files)
    if conf.getboolean("dag_processor", "parsing_pre_import_modules", fallback=True):
        _warm_up(files)
    _install_patches()
    gc.freeze()
    gc.enable()
    processes = max(1, min(int(request.get("processes") or os.cpu_count() or 1), len(files) or 1))
    started = time.perf_counter()
    if processes == 1 or len(files) < 2:
        _init_worker()
        results = [parse_one(path, safe_mode) for path in files]
    else:
        with ProcessPoolExecutor(processes, mp_context=get_context("fork"),
                                 initializer=_init_worker) as pool:
            results = list(pool.map(parse_one, files, [safe_mode] * len(files)))
    print(MARKER + json.dumps({
        "files": results,
        "processes": processes,
        "seconds": round(time.perf_counter() - started, 3),
        "limits": {
            "dagbag_import_timeout": conf.getfloat("core", "dagbag_import_timeout"),
            "dag_file_processor_timeout": _processor_timeout(conf),
        },
    }))


def _warm_up(files):
    """Import, before forking, the Airflow modules the DAG files import (as Airflow's DAG
    processor does with parsing_pre_import_modules): each is then paid for once, not once
    per worker, and parse times measure the files rather than Airflow's own imports."""
    _dagbag_class()
    wanted = {"airflow.sdk"}
    for path in files:
        try:
            with open(path, "rb") as stream:
                tree = ast.parse(stream.read())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                wanted.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted.add(node.module)
    for module_name in sorted(name for name in wanted if name.split(".")[0] == "airflow"):
        with contextlib.suppress(Exception):
            __import__(module_name)


def _processor_timeout(conf):
    for section in ("dag_processor", "core"):
        try:
            return conf.getfloat(section, "dag_file_processor_timeout")
        except Exception:  # noqa: BLE001 - the option moved between versions
            continue
    return 50.0


if __name__ == "__main__":
    main(sys.argv[1])
