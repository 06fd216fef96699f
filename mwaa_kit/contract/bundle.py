"""Turn a bundle (dags/, plugins.zip, requirements.txt, startup.sh, config options)
into a runnable AIRFLOW_HOME, in MWAA's order. Both runtimes call `prepare`; nothing
else re-implements these steps.

Order, as on MWAA: forced-config check -> startup script (sourced, env captured) ->
requirements install (with the script's environment) -> plugins.zip extraction ->
Airflow configuration.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mwaa_kit import catalog
from mwaa_kit.contract import configuration, environment
from mwaa_kit.contract.plugins import build_plugins_zip, extract_plugins_zip
from mwaa_kit.contract.requirements import Virtualenv, ensure_virtualenv
from mwaa_kit.contract.startup import (
    StartupScriptError,
    inherited_environment,
    run_startup_script,
)


@dataclass(frozen=True)
class Bundle:
    """What MWAA consumes from an environment's bucket, plus its configuration options."""

    dags_dir: Path
    plugins_zip: Path | None
    requirements_text: str
    startup_script: Path | None
    airflow_config: dict[str, str] = field(default_factory=dict)


def bundle_from_project(project, build_dir: Path) -> Bundle:
    """The project's bundle; plugins.zip is built from plugins/ when that folder exists."""
    plugins_zip = None
    if project.plugins_dir.is_dir():
        plugins_zip = build_plugins_zip(project.plugins_dir, build_dir / "plugins.zip")
    requirements = project.requirements_file
    return Bundle(
        dags_dir=project.dags_dir,
        plugins_zip=plugins_zip,
        requirements_text=requirements.read_text() if requirements.exists() else "",
        startup_script=project.startup_script if project.startup_script.exists() else None,
        airflow_config=dict(project.airflow_config),
    )


@dataclass(frozen=True)
class PreparedEnvironment:
    """A ready AIRFLOW_HOME and the environment each Airflow process runs with."""

    home: Path
    virtualenv: Virtualenv
    constraints_source: str
    startup_exports: dict[str, str]
    plugins: list[str]
    base_env: dict[str, str]

    def env(self, component: str) -> dict[str, str]:
        return environment.for_component(self.base_env, component)

    def airflow(self, *arguments: str) -> list[str]:
        """The command line of the environment's own `airflow` CLI."""
        return [str(self.virtualenv.bin_dir / "airflow"), *arguments]


def prepare(
    bundle: Bundle,
    version: catalog.AirflowVersion,
    environment_name: str,
    region: str,
    home: Path,
    cache_dir: Path,
    runtime_options: dict[str, str],
    runtime_env: dict[str, str],
    report: Callable[[str], None] = lambda message: None,
) -> PreparedEnvironment:
    """Apply the MWAA contract to `bundle` in `home`; raise before changing anything
    when the bundle breaks a rule MWAA enforces."""
    configuration.refuse_forced_overrides(version, bundle.airflow_config)
    for folder in ("requirements", "startup", "logs"):
        (home / folder).mkdir(parents=True, exist_ok=True)

    base_env = startup_environment(version, environment_name, region, home, runtime_env)
    exports = {}
    if bundle.startup_script:
        report("Sourcing startup.sh as MWAA does")
        script = home / "startup" / "startup.sh"
        shutil.copyfile(bundle.startup_script, script)
        exports = source_startup_script(script, version, base_env, "scheduler")
    base_env = {**base_env, **exports}

    (home / "requirements" / "requirements.txt").write_text(bundle.requirements_text)
    constraints_text, constraints_source = catalog.constraints_text(
        version, cache_dir / "constraints"
    )
    virtualenv = ensure_virtualenv(
        version, bundle.requirements_text, constraints_text, cache_dir / "venvs",
        environ=base_env, log_path=home / "logs" / "requirements-install.log", report=report,
    )

    plugins = []
    if bundle.plugins_zip:
        report("Extracting plugins.zip into plugins/")
        plugins = extract_plugins_zip(bundle.plugins_zip, home / "plugins")
    else:
        (home / "plugins").mkdir(exist_ok=True)
    _link_dags(bundle.dags_dir, home / "dags")

    config_env = configuration.airflow_config_env(
        version, bundle.airflow_config, runtime_options
    )
    path = f"{virtualenv.bin_dir}:{base_env.get('PATH', '/usr/bin:/bin')}"
    return PreparedEnvironment(
        home=home,
        virtualenv=virtualenv,
        constraints_source=constraints_source,
        startup_exports=exports,
        plugins=plugins,
        base_env={**base_env, **config_env, "PATH": path, "VIRTUAL_ENV": str(virtualenv.path)},
    )


def startup_environment(
    version: catalog.AirflowVersion, environment_name: str, region: str, home: Path,
    runtime_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """What a startup script starts from: the host's basics, MWAA's overridable
    defaults, what the runtime provides (emulator endpoints), then MWAA's own variables."""
    return {
        **inherited_environment(),
        **environment.overridable_defaults(),
        **(runtime_env or {}),
        **environment.mwaa_variables(version, environment_name, region, home),
    }


def source_startup_script(
    script: Path, version: catalog.AirflowVersion, base_env: dict[str, str], component: str,
    timeout: float | None = None,
) -> dict[str, str]:
    """Source `script` as MWAA does for `component`; return what it exported, refusing
    reserved variables and forced configuration."""
    exports = run_startup_script(script, environment.for_component(base_env, component),
                                 cwd=script.parent, timeout=timeout).exported
    refuse_forced_exports(script, version, exports)
    return exports


def refuse_forced_exports(script: Path, version, exports: dict[str, str]) -> None:
    """A startup script may not undo forced configuration through AIRFLOW__ variables."""
    clashes = sorted(set(exports) & configuration.forced_env_var_names(version))
    if clashes:
        raise StartupScriptError(
            f"{script}: exports {', '.join(clashes)}, configuration MWAA manages itself. "
            "Remove the export."
        )


def _link_dags(source: Path, target: Path) -> None:
    """Point AIRFLOW_HOME/dags at the project's dags/ so edits are picked up live."""
    source.mkdir(parents=True, exist_ok=True)
    if target.resolve() == source.resolve():  # already there: a link, or a container mount
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.symlink_to(source.resolve(), target_is_directory=True)
