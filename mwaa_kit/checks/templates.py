"""Template checks: Jinja templates in operator arguments that read context keys Airflow 3
removed (`{{ execution_date }}`, `{{ next_ds }}`...).

Hand-written: ruff's Airflow rules see `context["execution_date"]` in Python, not the
Jinja inside a string, and Airflow itself finds out only when a task renders its
template (every task of the DAG then fails with "'execution_date' is undefined"). A
walk of each file's syntax tree finds the string literals passed to operators (to the
`template_fields` of an operator the project's plugins define, to any argument of the
others) and the template files they name (`sql="queries/load.sql"`); Jinja's own parser
lists the names each template reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import jinja2
from jinja2 import nodes

from mwaa_kit import catalog
from mwaa_kit.checks.findings import CheckResult, relative

# Airflow 2.11's template context (airflow/utils/context.pyi) minus Airflow 3's
# (airflow/sdk/definitions/context.py, the same from 3.0.6 to 3.3.1), each with what
# replaces it: Airflow 2's own deprecation messages where it had one, else the 3.0
# upgrade notes.
REMOVED_KEYS = {
    "execution_date": "{{ logical_date }} (or {{ data_interval_start }})",
    "next_ds": "{{ data_interval_end | ds }}",
    "next_ds_nodash": "{{ data_interval_end | ds_nodash }}",
    "next_execution_date": "{{ data_interval_end }}",
    "prev_ds": "{{ prev_data_interval_start_success | ds }} (the last successful run), or "
               "{{ macros.ds_add(ds, -N) }} on a fixed schedule",
    "prev_ds_nodash": "{{ prev_data_interval_start_success | ds_nodash }}",
    "prev_execution_date": "{{ prev_data_interval_start_success }} (the last successful run)",
    "prev_execution_date_success": "{{ prev_data_interval_start_success }}",
    "tomorrow_ds": "{{ macros.ds_add(ds, 1) }}",
    "tomorrow_ds_nodash": "{{ macros.ds_format(macros.ds_add(ds, 1), '%Y-%m-%d', '%Y%m%d') }}",
    "yesterday_ds": "{{ macros.ds_add(ds, -1) }}",
    "yesterday_ds_nodash": "{{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', "
                           "'%Y%m%d') }}",
    "conf": "{{ var.value.NAME }} (a Variable holding the value), or read the option in "
            "the task's code",
    "triggering_dataset_events": "{{ triggering_asset_events }}",
}
# Extensions of the template files operators render (their template_ext).
TEMPLATE_EXTENSIONS = (".sql", ".hql", ".sh", ".bash", ".json", ".yaml", ".yml", ".j2",
                       ".jinja2")
_OPERATOR_SUFFIXES = ("Operator", "Sensor")
_ENVIRONMENT = jinja2.Environment()


def removed_names(template: str) -> list[tuple[str, int]]:
    """(removed context key, line within `template`) for each one the template reads;
    empty when it is not valid Jinja (Airflow would report that itself)."""
    if "{{" not in template and "{%" not in template:
        return []
    try:
        tree = _ENVIRONMENT.parse(template)
    except jinja2.TemplateSyntaxError:
        return []
    names = list(tree.find_all(nodes.Name))
    assigned = {node.name for node in names if node.ctx != "load"}
    return [(node.name, node.lineno) for node in names
            if node.ctx == "load" and node.name in REMOVED_KEYS
            and node.name not in assigned]


def plugin_template_fields(plugins_dir: Path) -> dict[str, tuple[str, ...]]:
    """Class name -> its `template_fields`, for the operators plugins/ defines with a
    literal tuple or list of names."""
    fields: dict[str, tuple[str, ...]] = {}
    for path in _python_files(plugins_dir):
        tree = _parse(path)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    value = _template_fields_value(statement)
                    if value is not None:
                        fields[node.name] = value
    return fields


def check(root: Path, folder: Path, version: catalog.AirflowVersion, result: CheckResult,
          fields: dict[str, tuple[str, ...]]) -> None:
    """Add a finding for each removed key a template under `folder` reads. `fields`:
    plugin_template_fields() of the project."""
    level = "error" if version.major >= 3 else "warning"
    seen = set()  # a template file two operators render is one finding
    for path in _python_files(folder):
        for file, line, key, used_at in _uses(path, fields):
            if (file, line, key) in seen:
                continue
            seen.add((file, line, key))
            template = "template" if file == path else \
                f"template file, rendered by the operator at {relative(root, path)}:{used_at},"
            if version.major >= 3:
                what = (f"{template} reads '{key}', which Airflow 3 removed from the context: "
                        f"the task fails with \"'{key}' is undefined\"")
            else:
                what = (f"{template} reads '{key}': deprecated, and removed from the context "
                        "in Airflow 3.0")
            result.add(level, what, file=relative(root, file), line=line,
                       code=f"{result.name}.removed_context_key",
                       hint=f"use {REMOVED_KEYS[key]}")


def _uses(path: Path, fields: dict[str, tuple[str, ...]]
          ) -> Iterator[tuple[Path, int, str, int]]:
    """(file, line, removed key, line of the literal in `path`) for each use."""
    tree = _parse(path)
    for node in ast.walk(tree) if tree else ():
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node.func)
        if name is None or not (name in fields or name.endswith(_OPERATOR_SUFFIXES)):
            continue
        wanted = fields.get(name)
        for keyword in node.keywords:
            if keyword.arg is None or (wanted is not None and keyword.arg not in wanted):
                continue
            for literal in ast.walk(keyword.value):
                if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                    yield from _literal_uses(path, literal)


def _literal_uses(path: Path, literal: ast.Constant
                  ) -> Iterator[tuple[Path, int, str, int]]:
    text = literal.value
    for key, line in removed_names(text):
        yield path, literal.lineno + line - 1, key, literal.lineno
    if text.endswith(TEMPLATE_EXTENSIONS) and "\n" not in text:
        template = path.parent / text
        if template.is_file():
            for key, line in removed_names(template.read_text(errors="replace")):
                yield template, line, key, literal.lineno


def _callee(func: ast.expr) -> str | None:
    """`BashOperator(...)`, `x.BashOperator(...)`, `BashOperator.partial(...)` ->
    BashOperator."""
    if isinstance(func, ast.Attribute) and func.attr in ("partial", "expand"):
        func = func.value
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _template_fields_value(statement: ast.stmt) -> tuple[str, ...] | None:
    if isinstance(statement, ast.Assign):
        targets, value = statement.targets, statement.value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets, value = [statement.target], statement.value
    else:
        return None
    if not any(isinstance(t, ast.Name) and t.id == "template_fields" for t in targets):
        return None
    if isinstance(value, ast.Tuple | ast.List) and all(
            isinstance(item, ast.Constant) and isinstance(item.value, str)
            for item in value.elts):
        return tuple(item.value for item in value.elts)
    return None  # built from another class's fields: every argument is checked


def _python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError):
        return None  # the import check reports it, with its line
