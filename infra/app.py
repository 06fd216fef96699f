#!/usr/bin/env python3
"""Entry point of the CDK app (cdk.json runs it): one stack per MWAA environment.

Every parameter comes from `-c key=value`, cdk.json, or the project's mwaa-kit.toml; see
mwaa_infra/settings.py for the list and their defaults. A bad value stops synth with a
message that names it.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mwaa_infra.settings import InfraContextError  # noqa: E402
from mwaa_infra.stack import build_app  # noqa: E402


def main() -> None:
    try:
        app, _stack = build_app()
    except InfraContextError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    app.synth()


if __name__ == "__main__":
    main()
