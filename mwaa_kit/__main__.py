"""`python -m mwaa_kit` is `mwaa-kit`."""

from mwaa_kit.cli import main

main()
