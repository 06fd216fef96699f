"""`python -m mwaa_kit.emulators.salesforce` is `mwaa-kit salesforce` (used in images)."""

from mwaa_kit.cli.salesforce import salesforce

salesforce(prog_name="python -m mwaa_kit.emulators.salesforce")
