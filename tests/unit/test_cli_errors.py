"""The CLI's expected errors: one line, no traceback, and bracketed names kept."""

import click
from click.testing import CliRunner

from mwaa_kit.cli.output import UserFacingError, friendly_errors


@click.command()
@friendly_errors
def _refuses():
    raise UserFacingError("Remove it from [airflow_config] in mwaa-kit.toml, or add "
                          "[targets.prod].")


def test_an_expected_error_keeps_bracketed_table_names_and_has_no_traceback():
    result = CliRunner().invoke(_refuses)
    assert result.exit_code == 1
    assert "error: Remove it from [airflow_config] in mwaa-kit.toml, or add [targets.prod]." \
        in result.output
    assert "Traceback" not in result.output
