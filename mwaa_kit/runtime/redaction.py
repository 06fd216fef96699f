"""Keeping the project's secrets out of what the kit prints and writes.

Airflow masks the secrets it knows of in task logs, but not everywhere: `airflow dags
test` on 3.0 printed a connection's password in its debug lines (`MaskSecret(value=...)`).
The kit knows every secret it seeded (connection passwords and sensitive extras, sensitive
variables) and the UI's admin password, so whatever Airflow output it relays or keeps
passes through a Redactor first. Written by hand: Airflow's own masker lives inside each
Airflow virtualenv, which the kit's process does not import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from mwaa_kit.emulators.aws.seed import SeedFileError, check_seed_file
from mwaa_kit.project import Project

MASK = "***"

# Airflow's default sensitive field names (core.sensitive_var_conn_names adds to them).
SENSITIVE_NAMES = ("access_token", "api_key", "apikey", "authorization", "passphrase",
                   "passwd", "password", "private_key", "secret", "token", "keyfile_dict",
                   "service_account")
_SHORTEST = 3  # shorter values would mask ordinary words and numbers


def is_sensitive(name: str) -> bool:
    """Whether a connection extra or variable named `name` holds a secret: Airflow's default
    rule, a sensitive word (password, token...) anywhere in the name, any case."""
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_NAMES)


class Redactor:
    """Replaces each known secret value in a text with `***`."""

    def __init__(self, secrets: Iterable[str]):
        values = sorted({value for value in secrets if len(value) >= _SHORTEST},
                        key=len, reverse=True)  # a secret containing another goes first
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text


def project_secrets(project: Project) -> set[str]:
    """Every secret value the project's environment holds that the kit put there."""
    found: set[str] = set()
    try:
        seed = check_seed_file(project.seed_file)
    except SeedFileError:
        seed = None
    if seed is not None:
        for connection in seed.connections.values():
            found.update(_sensitive_values(connection))
        found.update(value for key, value in seed.variables.items() if is_sensitive(key))
    admin = project.state_dir / "admin-password.json"
    if admin.exists():
        found.update(str(value) for value in json.loads(admin.read_text()).values())
    return found


def _sensitive_values(connection: dict) -> set[str]:
    values = {str(connection["password"])} if connection.get("password") else set()
    extra = connection.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = {}
    values.update(str(value) for key, value in extra.items()
                  if is_sensitive(key) and value not in (None, ""))
    return values
