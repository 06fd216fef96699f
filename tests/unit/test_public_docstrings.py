"""The public API of release, runtime and the emulators says why it exists (issue #13, item 8).

Every public module-level function and class, and every public method of a public class, in
those packages has a docstring; a new one without fails here, named with its file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import mwaa_kit

PACKAGES = ("release", "runtime", "emulators")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _undocumented(path: Path, shown: Path) -> list[str]:
    """`shown:line name` of each public definition in `path` without a docstring."""
    missing = []

    def check(node: ast.AST, name: str) -> None:
        if ast.get_docstring(node) is None:
            missing.append(f"{shown}:{node.lineno} {name}")

    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if not isinstance(node, _DEFINITIONS) or node.name.startswith("_"):
            continue
        check(node, node.name)
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, _FUNCTIONS) and not member.name.startswith("_"):
                    check(member, f"{node.name}.{member.name}")
    return missing


def test_public_functions_classes_and_methods_have_docstrings():
    root = Path(mwaa_kit.__file__).resolve().parent
    modules = sorted(path for package in PACKAGES for path in (root / package).rglob("*.py"))
    assert modules, f"no modules found under {root}"
    missing = [entry for path in modules
               for entry in _undocumented(path, path.relative_to(root.parent))]
    assert not missing, ("public definitions without a docstring (say why they exist):\n"
                         + "\n".join(missing))
