"""The configuration check: options MWAA refuses, options Airflow does not know, and
seed.toml (what `up` creates in the emulators), checked before anything starts."""

from __future__ import annotations

from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.checks.scratch import Scratch, Step
from mwaa_kit.contract import configuration
from mwaa_kit.emulators.aws.seed import SeedFileError, check_seed_file
from mwaa_kit.project import CONFIG_FILE, Project


def refused(project: Project, result: CheckResult) -> None:
    """The contract's rule: forced and managed options may not be set."""
    refused_options = configuration.refused_options(project.version)
    for option in sorted(project.airflow_config):
        if option in refused_options:
            result.add("error", f"{option}: MWAA manages this option itself and refuses "
                       "an environment that sets it", file=CONFIG_FILE,
                       code="config.refused_option",
                       hint=f"remove \"{option}\" from [airflow_config]")
    result.details["options"] = len(project.airflow_config)


def seed_file(project: Project, result: CheckResult) -> None:
    """seed.toml as `up` reads it: a mistake there would stop `up` (or seed nothing)."""
    try:
        check_seed_file(project.seed_file)
    except SeedFileError as error:
        result.add("error", str(error), file=project.seed_file.name, code="config.seed_file",
                   hint="fix seed.toml; `mwaa-kit up` refuses it before starting anything")


def nothing_to_look_up(project: Project) -> str | None:
    """Why `unknown_options` has nothing to look at (Airflow starts only to list the
    options it knows), or None."""
    return None if project.airflow_config else "no [airflow_config] options to look up"


def options_step(scratch: Scratch) -> Step:
    """The script that lists the options this Airflow and its providers define (`scratch`:
    unused; the runner gives every step function the scratch environment)."""
    return Step("config_options.py", timeout=300)


def unknown_options(scratch: Scratch, report: dict, result: CheckResult) -> None:
    """Warn about sections and keys this Airflow and its providers do not define.
    `report`: options_step's."""
    options = {section: set(keys) for section, keys in report["options"].items()}
    renamed = report["deprecated"]
    for option in sorted(scratch.project.airflow_config):
        section, key = option.split(".", 1)
        if option in renamed:
            result.add("warning", f"{option} was renamed to {renamed[option]} in this "
                       "Airflow version", file=CONFIG_FILE, code="config.renamed_option",
                       hint=f"use \"{renamed[option]}\"")
        elif section not in options:
            result.add("warning", f"{option}: Airflow {scratch.project.airflow_version} has "
                       f"no [{section}] section (nor do its installed providers); MWAA "
                       "would accept it and Airflow would ignore it", file=CONFIG_FILE,
                       code="config.unknown_option", hint="check the spelling")
        elif key not in options[section]:
            result.add("warning", f"{option}: [{section}] has no option '{key}' in Airflow "
                       f"{scratch.project.airflow_version}; it would be ignored",
                       file=CONFIG_FILE, code="config.unknown_option",
                       hint="check the spelling")
