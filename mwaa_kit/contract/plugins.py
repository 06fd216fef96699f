"""plugins.zip as MWAA handles it: the zip's top level becomes $AIRFLOW_HOME/plugins.

Building is deterministic (sorted entries, fixed timestamps and modes) so the same
plugins/ folder always gives the same bytes, which is what lets promotion upload a new
object version only when something really changed. Extraction refuses entries MWAA
would never honour (absolute paths, `..`, symlinks) before writing anything.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from mwaa_kit.errors import KitError

# 1980-01-01 is the earliest timestamp a zip entry can hold.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_IGNORED_PARTS = {"__pycache__", ".DS_Store", ".pytest_cache", ".mypy_cache"}


class PluginsError(KitError, ValueError):
    """plugins.zip or the plugins/ folder cannot be used as MWAA would use it."""


def build_plugins_zip(plugins_dir: Path, destination: Path) -> Path:
    """Zip `plugins_dir` (its contents at the zip's top level) into `destination`."""
    files = sorted(
        path
        for path in plugins_dir.rglob("*")
        if path.is_file() and not _IGNORED_PARTS.intersection(path.parts) and path.suffix != ".pyc"
    )
    links = [path for path in files if path.is_symlink()]
    if links:  # refused before anything is written
        raise PluginsError(
            f"{links[0]}: is a symlink; MWAA does not follow links in plugins.zip. "
            "Copy the file into plugins/ instead."
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(plugins_dir).as_posix(), _FIXED_TIME)
            entry.external_attr = (stat.S_IFREG | 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    partial.replace(destination)
    return destination


def unsafe_entries(archive: zipfile.ZipFile) -> list[str]:
    """Entries that would escape the plugins folder or are links: MWAA refuses these."""
    problems = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename)
        if info.filename.startswith(("/", "\\")) or ":" in name.parts[0]:
            problems.append(f"{info.filename}: absolute path")
        elif ".." in name.parts:
            problems.append(f"{info.filename}: '..' in the path")
        elif stat.S_ISLNK(info.external_attr >> 16):
            problems.append(f"{info.filename}: symlink")
    return problems


def extract_plugins_zip(zip_path: Path, plugins_home: Path) -> list[str]:
    """Replace `plugins_home` with the zip's contents; return the extracted names.

    Nothing is written unless every entry is safe; the new folder replaces the old one
    only once it is complete. Several processes may extract the same bundle at once (the
    compose image's one-off commands apply the contract in a running container): each
    stages its own copy, and none fails because another's landed first.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise PluginsError(f"{zip_path}: not a zip file.") from None
    with archive:
        problems = unsafe_entries(archive)
        if problems:
            raise PluginsError(
                f"{zip_path}: refused, MWAA would not extract it: " + "; ".join(problems)
            )
        plugins_home.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=plugins_home.name + ".new-",
                                        dir=plugins_home.parent))
        staging.chmod(0o755)
        archive.extractall(staging)
        names = archive.namelist()
    _swap_in(staging, plugins_home)
    return names


def _swap_in(new: Path, target: Path) -> None:
    """Put the folder `new` in place of `target`. When a concurrent extraction lands in
    between, its copy (of the same bundle) stays and `new` is dropped."""
    retired = new.with_name(new.name + ".old")  # unique, as `new`'s name is
    with contextlib.suppress(FileNotFoundError):
        target.rename(retired)
    try:
        new.rename(target)
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(retired, ignore_errors=True)
