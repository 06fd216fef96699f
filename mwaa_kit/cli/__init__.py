"""The `mwaa-kit` command line: thin click commands over the kit's sub-packages."""

import click

from mwaa_kit import __version__

# Sub-command groups live in their own modules; each is registered here by name so
# that `mwaa-kit --help` lists them without importing heavy dependencies eagerly.
_SUBCOMMANDS = {
    "init": "mwaa_kit.cli.init:init",
    "ci": "mwaa_kit.cli.ci:ci",
    "up": "mwaa_kit.cli.environment:up",
    "down": "mwaa_kit.cli.environment:down",
    "status": "mwaa_kit.cli.environment:status",
    "logs": "mwaa_kit.cli.environment:logs",
    "restart": "mwaa_kit.cli.environment:restart",
    "dags": "mwaa_kit.cli.dags:dags",
    "airflow": "mwaa_kit.cli.airflow:airflow",
    "aws": "mwaa_kit.cli.aws:aws",
    "salesforce": "mwaa_kit.cli.salesforce:salesforce",
    "validate": "mwaa_kit.cli.validate:validate",
    "upgrade-check": "mwaa_kit.cli.upgrade:upgrade_check",
    "test-requirements": "mwaa_kit.cli.validate:test_requirements",
    "test-startup-script": "mwaa_kit.cli.validate:test_startup_script",
    "package": "mwaa_kit.cli.package:package",
    "infra": "mwaa_kit.cli.infra:infra",
    "promote": "mwaa_kit.cli.promote:promote",
    "history": "mwaa_kit.cli.promote:history",
    "rollback": "mwaa_kit.cli.promote:rollback",
    "mwaa": "mwaa_kit.cli.mwaa:mwaa",
}


class _LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when it is used."""

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *_SUBCOMMANDS})

    def get_command(self, ctx, name):
        if name in _SUBCOMMANDS:
            module_name, attribute = _SUBCOMMANDS[name].split(":")
            module = __import__(module_name, fromlist=[attribute])
            return getattr(module, attribute)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mwaa-kit")
def main():
    """Run Airflow DAGs locally exactly as Amazon MWAA would, then promote them.

    \b
    Typical session:
      mwaa-kit init my-project      scaffold a project
      mwaa-kit up                   start the local MWAA environment
      mwaa-kit dags test DAG_ID     run one DAG once and print each task's state
      mwaa-kit down                 stop everything
    """
