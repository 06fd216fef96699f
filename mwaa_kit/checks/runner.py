"""Run the checks of `mwaa-kit validate` in MWAA's order and collect one report.

Order: config (cheap, and refusals block everything on MWAA), startup.sh (MWAA runs it
first), requirements (a dry-run resolution), plugins, then DAGs. Plugins and DAGs are
first read without Airflow (ruff's Airflow rules, the context keys their templates
read), so that part runs even when the environment cannot be prepared. The Airflow-backed parts
(plugin imports, unknown options, DAG parsing) share one scratch environment prepared by
the contract; a part another check found broken is left out of it rather than stopping
the others, and one Airflow interpreter (in_airflow/run_steps.py) runs them all. A part
with nothing of the project's to look at (no [airflow_config] option, no plugin) does not
run there and says so.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from mwaa_kit.checks import (
    airflow_rules,
    config,
    dags,
    plugins,
    requirements,
    startup,
    templates,
)
from mwaa_kit.checks.findings import CHECKS, CheckResult, Report
from mwaa_kit.checks.scratch import Scratch, prepare_scratch
from mwaa_kit.contract.python import PythonNotFoundError
from mwaa_kit.contract.requirements import RequirementsError
from mwaa_kit.contract.startup import StartupScriptError
from mwaa_kit.project import Project


def validate(
    project: Project,
    only: Iterable[str] = CHECKS,
    report: Callable[[str], None] = lambda message: None,
    parse_budget: float = dags.DEFAULT_PARSE_BUDGET,
    workers: int | None = None,
) -> Report:
    selected = [name for name in CHECKS if name in set(only)]
    outcome = Report(project=str(project.root), airflow_version=project.airflow_version)
    results = {name: CheckResult(name) for name in selected}
    outcome.results = list(results.values())
    started = {name: 0.0 for name in selected}

    def timed(name, function, *args):
        begin = time.monotonic()
        try:
            return function(*args)
        finally:
            started[name] += time.monotonic() - begin

    startup_ok = requirements_ok = True
    if "config" in results:
        report("Checking configuration options")
        timed("config", config.refused, project, results["config"])
        timed("config", config.seed_file, project, results["config"])
    if "startup" in results:
        report("Running startup.sh in a scratch environment")
        startup_ok = timed("startup", startup.run, project, results["startup"]) is not None
    if "requirements" in results:
        report("Resolving requirements.txt against the constraints (dry run)")
        timed("requirements", requirements.run, project, results["requirements"])
        requirements_ok = not results["requirements"].errors
    zip_ok = True
    with tempfile.TemporaryDirectory(prefix="mwaa-kit-plugins-") as build:
        if "plugins" in results:
            report("Building plugins.zip")
            zip_ok = timed("plugins", plugins.static, project, Path(build),
                           results["plugins"]) is not None or not project.plugins_dir.is_dir()
    fields = templates.plugin_template_fields(project.plugins_dir)
    for name, folder in (("plugins", project.plugins_dir), ("dags", project.dags_dir)):
        if name in results:
            report(f"Reading {name}/: ruff's Airflow rules, templates")
            timed(name, airflow_rules.check, project.root, folder, project.version,
                  results[name])
            timed(name, templates.check, project.root, folder, project.version,
                  results[name], fields)

    airflow_checks = _with_input(project, results)
    if airflow_checks and not requirements_ok:
        for name in airflow_checks:
            results[name].skipped = ("needs the environment's virtualenv, and requirements.txt "
                                     "does not install: fix the requirements errors first")
    elif airflow_checks:
        scratch = _scratch(project, report, results, airflow_checks, started,
                           skip_startup=not startup_ok, skip_plugins=not zip_ok)
        if scratch is not None:
            try:
                _airflow_checks(scratch, airflow_checks, results, report, started,
                                parse_budget, workers)
            finally:
                scratch.close()
    for name, result in results.items():
        result.seconds = started[name]
    return outcome


def _with_input(project: Project, results: dict[str, CheckResult]) -> list[str]:
    """The Airflow-backed parts that have something of the project's to look at; the
    others say why not (starting Airflow for nothing costs seconds each)."""
    names = []
    for name, idle in (("config", config.nothing_to_look_up),
                       ("plugins", plugins.nothing_to_import), ("dags", lambda _: None)):
        if name not in results:
            continue
        reason = idle(project)
        if reason:
            results[name].nothing_to_check(reason)
        else:
            names.append(name)
    return names


def _scratch(project, report, results, names, started, **skips) -> Scratch | None:
    begin = time.monotonic()
    try:
        report("Preparing the environment's virtualenv (cached after the first time)")
        scratch = prepare_scratch(project, report, **skips)
    except (RequirementsError, PythonNotFoundError, StartupScriptError) as error:
        for name in names:
            results[name].skipped = f"the environment could not be prepared: {error}"
        if isinstance(error, RequirementsError) and "requirements" in results:
            results["requirements"].add("error", str(error), file=requirements.FILE,
                                        code="requirements.install")
        return None
    finally:
        share = (time.monotonic() - begin) / len(names)
        for name in names:
            started[name] += share
    if scratch.left_out:
        for name in names:
            results[name].details["left_out"] = scratch.left_out
    return scratch


def _airflow_checks(scratch, names, results, report, started, parse_budget, workers) -> None:
    """Every part's script in one Airflow interpreter (each in a child of its own: Airflow's
    import, seconds each time, is paid once); then each report's findings."""
    parts = {
        "config": ("the options it knows", config.options_step, config.unknown_options),
        "plugins": ("plugin imports", plugins.imports_step, plugins.import_findings),
        "dags": ("DAG parsing, in parallel", partial(dags.parse_step, workers=workers),
                 partial(dags.parse_findings, parse_budget=parse_budget)),
    }
    report(f"Starting Airflow once for {', '.join(parts[name][0] for name in names)}")
    outcomes = scratch.run_steps({name: parts[name][1](scratch) for name in names})
    for name, outcome in outcomes.items():
        started[name] += outcome.seconds
        if outcome.error:
            results[name].add("error", f"the check itself failed: {outcome.error}",
                              code=f"{name}.check_failed")
        else:
            parts[name][2](scratch, outcome.report, results[name])
