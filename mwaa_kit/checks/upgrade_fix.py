"""`upgrade-check --fix [--write]`: ruff's safe fixes of the target's Airflow rules.

ruff does the rewriting (the same pinned binary, rules and settings as the checks), on a
copy of dags/ and plugins/ in a scratch folder, so the project is untouched unless
`--write` asks; then each changed file is replaced atomically (a temporary file beside it,
renamed over it). Only the rules whose findings matter on the target are fixed (those
that are not informational there): on a 2.x target AIR302's provider imports, for one,
do not exist yet.

An import whose last use a fix rewrote stays behind and still fails on the target
(`from airflow.operators.dummy_operator import DummyOperator`), and ruff's AIR rules do
not flag an unused import. So ruff's own safe fix for unused imports (F401) follows, in
the files the first pass changed and only where the file had no unused import before
(else it would remove imports the upgrade has nothing to do with): an import the fix
left unused there is reported instead, with what ruff could not fix.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.checks import airflow_rules
from mwaa_kit.checks.findings import relative
from mwaa_kit.checks.upgrade import target_version
from mwaa_kit.errors import KitError
from mwaa_kit.project import Project

FOLDERS = ("dags", "plugins")
# What ruff reads by default (and so what a fix may change).
_SOURCES = (".py", ".pyi", ".ipynb")
_UNUSED_IMPORT = ("F401",)


class FixWriteError(KitError, OSError):
    """A fixed file could not replace the project's."""

    hint = "run `mwaa-kit upgrade-check --to VERSION --fix --write` again"


@dataclass(frozen=True)
class FixedFile:
    """One file the fixes change.

    :param file: its path in the project.
    :param diff: the unified diff from the project's file to the fixed one.
    """

    file: str
    diff: str


@dataclass(frozen=True)
class Unfixed:
    """A finding ruff had no safe fix for: it stays a finding.

    :param file: its path in the project.
    :param line: its line in the fixed file.
    :param code: the rule (AIR3xx; F401 for an import a fix left unused).
    :param message: ruff's message.
    """

    file: str
    line: int
    code: str
    message: str


@dataclass
class FixOutcome:
    """What `--fix` found to change, and whether `--write` changed it.

    :param target: the Airflow version the fixes are for.
    :param rules: the rules fixed.
    :param files: the files that change, in path order.
    :param unfixed: what ruff could not fix, by file and line.
    :param written: the changes were written to the project.
    """

    target: str
    rules: tuple[str, ...]
    files: list[FixedFile] = field(default_factory=list)
    unfixed: list[Unfixed] = field(default_factory=list)
    written: bool = False

    def to_dict(self) -> dict:
        """The `fix` member of upgrade-check's JSON report."""
        return {"target": self.target, "rules": list(self.rules), "written": self.written,
                "files": [asdict(fixed) for fixed in self.files],
                "unfixed": [asdict(finding) for finding in self.unfixed]}


def fix_rules(version: catalog.AirflowVersion) -> tuple[str, ...]:
    """The AIR rules to fix for `version`: those whose findings are not information there
    (a fix to a name the version does not have yet would break the DAG).

    :param version: the target version.
    """
    return tuple(rule for rule in airflow_rules.RULES
                 if airflow_rules.severity(rule, version) != "info")


def fix(project: Project, to: str, write: bool = False) -> FixOutcome:
    """Apply ruff's safe fixes for Airflow `to` to a copy of the project's dags/ and
    plugins/; with `write`, to the project's files too.

    :param project: the project, on its current version.
    :param to: the target Airflow version (refused as upgrade-check refuses it).
    :param write: replace each changed file of the project with its fixed copy.
    """
    target = target_version(project, to)
    outcome = FixOutcome(target.airflow_version, fix_rules(target))
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-fix-") as scratch:
        copy = Path(scratch)
        originals = _copy(project, copy)
        changed, outcome.unfixed = _fix_copy(copy, originals, outcome.rules)
        fixed = {file: (copy / file).read_bytes() for file in changed}
    outcome.files = [FixedFile(file, _diff(file, originals[file], fixed[file]))
                     for file in changed]
    if write:
        for file in changed:
            _replace(project.root / file, originals[file], fixed[file])
        outcome.written = bool(changed)
    return outcome


def _copy(project: Project, copy: Path) -> dict[str, bytes]:
    """Copy dags/ and plugins/ into `copy`; return each source file's bytes by path."""
    originals = {}
    for name in FOLDERS:
        source = project.root / name
        if not source.is_dir():
            continue
        shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        for path in sorted((copy / name).rglob("*")):
            if path.suffix in _SOURCES and path.is_file():
                originals[str(path.relative_to(copy))] = path.read_bytes()
    return originals


def _fix_copy(copy: Path, originals: dict[str, bytes],
              rules: tuple[str, ...]) -> tuple[list[str], list[Unfixed]]:
    """Fix `rules` in the copy, then the imports the fixes left unused; return the files
    that changed and what ruff could not fix."""
    folders = [copy / name for name in FOLDERS]
    unused_before = _unused_imports(copy, folders)
    airflow_rules.run_ruff(folders, rules, fix=True)
    changed = _changed(copy, originals)
    orphaned = _unused_imports(copy, [copy / file for file in changed])
    for key in unused_before:
        orphaned.pop(key, None)
    tidy = sorted({file for file, _, _ in orphaned} - {file for file, _, _ in unused_before})
    airflow_rules.run_ruff([copy / file for file in tidy], _UNUSED_IMPORT, fix=True)
    unfixed = _left(copy, folders, rules) + [
        Unfixed(file, row, _UNUSED_IMPORT[0], f"{message} (a fix left it unused)")
        for (file, message, _), row in orphaned.items() if file not in tidy]
    return changed, sorted(unfixed, key=lambda item: (item.file, item.line, item.code))


def _changed(copy: Path, originals: dict[str, bytes]) -> list[str]:
    return [file for file, content in originals.items()
            if (copy / file).read_bytes() != content]


def _unused_imports(copy: Path, paths: list[Path]) -> dict[tuple[str, str, str], int]:
    """(file, message, the import's line text) -> line, of each unused import in `paths`:
    a fix that adds an import moves lines, not their text."""
    found = {}
    for item in airflow_rules.run_ruff(paths, _UNUSED_IMPORT):
        file = relative(copy, item["filename"])
        lines = (copy / file).read_text(errors="replace").splitlines()
        row = item["location"]["row"]
        found[(file, item["message"], lines[row - 1] if row <= len(lines) else "")] = row
    return found


def _left(copy: Path, folders: list[Path], rules: tuple[str, ...]) -> list[Unfixed]:
    """The fixed rules' findings left in the copy (a syntax error is not one: ruff's
    fixes skip the file, and the DAG import reports it)."""
    return [Unfixed(relative(copy, item["filename"]), item["location"]["row"], item["code"],
                    item["message"])
            for item in airflow_rules.run_ruff(folders, rules) if item["code"] in rules]


def _diff(file: str, before: bytes, after: bytes) -> str:
    return "".join(difflib.unified_diff(
        before.decode(errors="replace").splitlines(keepends=True),
        after.decode(errors="replace").splitlines(keepends=True),
        fromfile=f"a/{file}", tofile=f"b/{file}"))


def _replace(path: Path, expected: bytes, content: bytes) -> None:
    """Write `content` over `path` atomically (a temporary file in its folder, renamed),
    keeping its mode; refuse when the file changed since it was copied."""
    path = path.resolve()  # a symlinked DAG file: fix the file it points to
    try:
        if path.read_bytes() != expected:
            raise FixWriteError(f"{path} changed while it was being fixed; it was left as "
                                "it is")
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            shutil.copymode(path, temporary)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise FixWriteError(f"cannot write the fixed {path}: {error}") from None
