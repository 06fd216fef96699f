"""The settings every uv call of the kit gets, in one place (installs, resolves, locks).

- UV_SYSTEM_CERTS: trust the system's CA bundle, which corporate TLS proxies extend.
- UV_HTTP_RETRIES: uv's default (3 retries, seconds apart) rides out a blip, not an outage
  of a minute: seen in CI, a compose container's install met three connect timeouts in 45 s
  and the whole stack failed to start. Six retries back off for about a minute in all
  (uv doubles the wait each time): a build that takes minutes is better slowed by a minute
  than lost.
- UV_PYTHON_DOWNLOADS=never: the kit names MWAA's Python itself (contract/python.py) or
  resolves for a `--python-version`; when no local interpreter matches that version, uv
  would try to download one, from hosts a closed network does not reach, and with the
  retries above wait for minutes before falling back to the interpreter it has (seen in CI:
  `uv pip compile --python-version 3.12` stalled 15 minutes on a machine without 3.12 on
  PATH).

Each is only a default: the user's environment (or startup.sh's exports) wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULTS = {"UV_SYSTEM_CERTS": "true", "UV_HTTP_RETRIES": "6", "UV_PYTHON_DOWNLOADS": "never"}


def uv_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (os.environ when None) with the kit's uv defaults where it sets none."""
    return {**DEFAULTS, **(os.environ if base is None else base)}
