"""The plugins check: plugins.zip as MWAA would receive, extract and import it."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from mwaa_kit.checks import requirements
from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.checks.scratch import Scratch, Step
from mwaa_kit.contract.plugins import PluginsError, build_plugins_zip, unsafe_entries
from mwaa_kit.project import Project

# Every MWAA container downloads and extracts plugins.zip before Airflow starts; a big
# zip slows each start and each update. Above WARN_BYTES we warn, above MAX_BYTES we refuse.
WARN_BYTES = 100 * 1024 * 1024
MAX_BYTES = 1024 * 1024 * 1024


def static(project: Project, build_dir: Path, result: CheckResult) -> Path | None:
    """Build plugins.zip with the contract and check its layout; return its path."""
    if not project.plugins_dir.is_dir():
        result.add("info", "no plugins/ folder: no plugins.zip", file="plugins/")
        return None
    try:
        zip_path = build_plugins_zip(project.plugins_dir, build_dir / "plugins.zip")
    except PluginsError as error:
        result.add("error", str(error).replace(str(project.root) + "/", ""),
                   file=_first_path(project, str(error)), code="plugins.symlink",
                   hint="replace the link with a real file or folder")
        return None
    with zipfile.ZipFile(zip_path) as archive:
        for problem in unsafe_entries(archive):
            result.add("error", f"plugins.zip entry {problem}; MWAA refuses the zip",
                       file="plugins/", code="plugins.unsafe_entry")
        names = archive.namelist()
    top = {PurePosixPath(name).parts[0] for name in names}
    if top == {"plugins"}:
        result.add("warning", "plugins/ holds a single folder named 'plugins': MWAA extracts "
                   "it to $AIRFLOW_HOME/plugins/plugins, so `from plugins...` imports are "
                   "needed and `from operators...` fail", file="plugins/plugins",
                   code="plugins.layout", hint="move its contents up one level")
    for name in names:
        if name.endswith(".py") and "-" in PurePosixPath(name).stem:
            result.add("warning", f"{name}: a module name with '-' cannot be imported",
                       file=f"plugins/{name}", code="plugins.layout",
                       hint="rename it with '_'")
    size = zip_path.stat().st_size
    if size > MAX_BYTES:
        result.add("error", f"plugins.zip is {size / 2**20:.0f} MiB; keep it under "
                   f"{MAX_BYTES // 2**20} MiB", file="plugins/", code="plugins.size",
                   hint="move data to S3 and large libraries to requirements.txt")
    elif size > WARN_BYTES:
        result.add("warning", f"plugins.zip is {size / 2**20:.0f} MiB; every MWAA container "
                   "downloads and extracts it at start", file="plugins/", code="plugins.size",
                   hint="move data to S3 and large libraries to requirements.txt")
    result.details.update({"entries": len(names), "zip_bytes": size})
    return zip_path


def nothing_to_import(project: Project) -> str | None:
    """Why `imports` has nothing of the project's to load (it starts Airflow to do so), or
    None. Airflow loads plugins from plugins/ and from the entry points of installed
    packages: any line of requirements.txt may bring one, the image's alone are MWAA's."""
    if project.plugins_dir.is_dir() and any(project.plugins_dir.rglob("*.py")):
        return None
    if requirements.parse_lines(requirements.read(project)):
        return None
    return "no plugins to import: no Python module under plugins/ and no requirements"


def imports(scratch: Scratch, result: CheckResult) -> None:
    """Import every plugin module in the environment, then load Airflow's plugins."""
    import_findings(scratch, scratch.run_script(imports_step(scratch)), result)


def imports_step(scratch: Scratch) -> Step:
    """The script that imports the extracted plugins, then loads Airflow's plugins."""
    return Step("check_plugins.py", (str(scratch.prepared.home / "plugins"),))


def import_findings(scratch: Scratch, report: dict, result: CheckResult) -> None:
    """Findings from imports_step's `report`."""
    plugins_home = scratch.prepared.home / "plugins"
    for error in report["errors"]:
        file = "plugins/" + str(Path(error["file"]).relative_to(plugins_home))
        result.add("error", f"module {error['module']} does not import: {error['message']}",
                   file=file, line=error["line"], code="plugins.import_error",
                   hint="MWAA's workers import it the same way; fix it or add the missing "
                        "package to requirements.txt")
    for error in report["plugin_errors"]:
        file = error["file"]
        if file and file.startswith(str(plugins_home)):
            file = "plugins/" + str(Path(file).relative_to(plugins_home))
        result.add("error", f"Airflow's plugin manager failed to load it: "
                   f"{error['message'].splitlines()[-1]}", file=file,
                   code="plugins.import_error")
    result.details.update({"modules": len(report["modules"]),
                           "airflow_plugins": report["plugins"]})


def _first_path(project: Project, message: str) -> str | None:
    head = message.split(":", 1)[0]
    try:
        return str(Path(head).relative_to(project.root))
    except ValueError:
        return None
