"""Import every module of the extracted plugins folder, then load Airflow's plugins.

Runs with the environment's own Python (Airflow installed, the kit not). Usage:
python check_plugins.py PLUGINS_DIR  -> one line "MWAA_KIT_JSON:{...}" on stdout.
"""

import importlib
import json
import os
import re
import sys
import traceback

MARKER = "MWAA_KIT_JSON:"


def _modules(root):
    """Dotted names of the .py modules under `root` that Python can import by name."""
    names = []
    for folder, subfolders, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        parts = [] if relative == "." else relative.split(os.sep)
        subfolders[:] = sorted(d for d in subfolders if d.isidentifier())
        if parts and not all(part.isidentifier() for part in parts):
            continue
        for name in sorted(files):
            stem, extension = os.path.splitext(name)
            if extension != ".py" or not stem.isidentifier():
                continue
            dotted = ".".join(parts + ([] if stem == "__init__" else [stem]))
            if dotted:
                names.append((dotted, os.path.join(folder, name)))
    return names


def _location(text, path):
    frames = re.findall(r'File "([^"]+)", line (\d+)', text)
    for file, line in reversed(frames):
        if os.path.realpath(file) == os.path.realpath(path):
            return int(line)
    return None


def _airflow_plugins():
    """(names, import errors) of the plugins Airflow loads: module globals up to 3.0,
    functions from 3.2 on (which loads plugins lazily and keeps no globals)."""
    from airflow import plugins_manager

    if hasattr(plugins_manager, "get_import_errors"):
        names = [info["name"] for info in plugins_manager.get_plugin_info()]
        return names, plugins_manager.get_import_errors()
    plugins_manager.ensure_plugins_loaded()
    return [plugin.name for plugin in plugins_manager.plugins or []], plugins_manager.import_errors


def main(root):
    if root not in sys.path:
        sys.path.insert(0, root)
    modules = []
    errors = []
    for dotted, path in _modules(root):
        try:
            importlib.import_module(dotted)
            modules.append(dotted)
        except BaseException:  # noqa: BLE001 - report every failure, SystemExit included
            text = traceback.format_exc()
            errors.append({"module": dotted, "file": path, "line": _location(text, path),
                           "message": text.strip().splitlines()[-1], "traceback": text})
    plugins = []
    plugin_errors = []
    try:
        names, import_errors = _airflow_plugins()
        plugins = sorted(names)
        for where, message in sorted(import_errors.items()):
            plugin_errors.append({"file": where, "message": str(message).strip()})
    except Exception:  # noqa: BLE001
        plugin_errors.append({"file": None, "message": traceback.format_exc().strip()})
    print(MARKER + json.dumps({"modules": modules, "errors": errors, "plugins": plugins,
                               "plugin_errors": plugin_errors}))


if __name__ == "__main__":
    main(sys.argv[1])
