"""The CLI's expected errors (issue #13): every one is a KitError, printed as one message
and a hint, never a traceback; under --format json, as structured output on stdout."""

import importlib
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mwaa_kit import catalog
from mwaa_kit.cli.output import friendly_errors
from mwaa_kit.errors import KitError, ProcessStartError, StartTimeoutError
from mwaa_kit.runtime import processes


def _command(error: BaseException) -> click.Command:
    @click.command()
    @click.option("--format", "output_format", type=click.Choice(["table", "json"]),
                  default="table")
    @friendly_errors
    def fails(output_format):
        raise error

    return fails


def test_an_expected_error_keeps_bracketed_table_names_and_has_no_traceback():
    error = KitError("Remove it from [airflow_config] in mwaa-kit.toml, or add [targets.prod].")
    result = CliRunner().invoke(_command(error))
    assert result.exit_code == 1
    assert "error: Remove it from [airflow_config] in mwaa-kit.toml, or add [targets.prod]." \
        in result.output
    assert "Traceback" not in result.output


def _dead_process_log(tmp_path: Path) -> Path:
    log = tmp_path / "moto.log"
    log.write_text("".join(f"line {n}\n" for n in range(40)) + "OSError: address in use\n")
    return log


def _failures(tmp_path: Path) -> list[KitError]:
    """One of each kind of expected failure, raised by the kit's own code where that is
    cheap, else built as the code builds it."""
    failures = []
    try:
        catalog.get_version("1.10.12")
    except KitError as error:
        failures.append(error)
    log = _dead_process_log(tmp_path)
    dead = processes.ProcessRecord(name="moto", pid=2**22 + 1, started=0.0, log=str(log))
    try:
        processes.wait_for_port(1, dead, timeout=5)
    except KitError as error:
        failures.append(error)
    failures.append(StartTimeoutError("http://127.0.0.1:1/health did not answer within 1 s"))
    failures.append(KitError("AWS refused or could not be reached: no credentials",
                             hint="Check the target's credentials."))
    return failures


def test_each_failure_prints_a_message_and_a_hint_without_a_traceback(tmp_path):
    for error in _failures(tmp_path):
        result = CliRunner().invoke(_command(error))
        assert result.exit_code == 1, error
        assert result.output.startswith("error: "), result.output
        assert "\nhint: " in result.output or error.hint is None, result.output
        assert "Traceback" not in result.output


def test_each_failure_under_json_is_structured_on_stdout(tmp_path):
    for error in _failures(tmp_path):
        result = CliRunner().invoke(_command(error), ["--format", "json"])
        assert result.exit_code == 1
        assert json.loads(result.stdout) == {"error": {
            "type": type(error).__name__, "message": error.message, "hint": error.hint}}


def test_a_process_that_dies_while_starting_shows_the_end_of_its_log(tmp_path):
    log = _dead_process_log(tmp_path)
    error = ProcessStartError("moto", log)
    assert "OSError: address in use" in error.message and "line 10" not in error.message
    assert str(log) in error.hint
    assert isinstance(error, RuntimeError)  # callers that catch RuntimeError still do


def test_a_startup_timeout_is_still_a_timeout():
    assert isinstance(StartTimeoutError("slow"), TimeoutError)


@pytest.mark.parametrize("name", [
    "catalog.CatalogError", "catalog.UnknownVersionError",
    "runtime.lifecycle_lock.ProjectBusyError", "runtime.compose.stack.ComposeError",
    "runtime.compose.engine.ContainerEngineUnavailableError",
    "runtime.processes.PortInUseError", "runtime.native.postgres.PostgresUnavailableError",
    "runtime.native.postgres.DataDirUnreachableError",
    "runtime.native.commands.EnvironmentNotRunningError",
    "runtime.native.launch.AirflowCommandError",
    "contract.startup.StartupScriptError", "contract.configuration.ForcedConfigError",
    "contract.plugins.PluginsError", "contract.requirements.RequirementsError",
    "contract.python.PythonNotFoundError", "release.lock.LockHeldError",
    "release.history.HistoryError", "release.package.PackageError",
    "release.connect.TargetError", "release.promote.PromotionError",
    "release.promote.ValidationRefused", "project.ProjectConfigError",
    "emulators.aws.seed.SeedFileError",
])
def test_every_error_the_cli_reports_has_the_one_root(name):
    module, _, attribute = f"mwaa_kit.{name}".rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), attribute), KitError)
