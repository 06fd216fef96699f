"""Where the stack keeps its shared state, inside its containers: one volume that every
service mounts at STATE. Named once, here, because both sides use it: the containers'
entrypoint writes there, and the host side (stack.py) reads files out of it, without
importing the entrypoint and everything it runs."""

from pathlib import Path

STATE = Path("/mwaa/state")
# The kit's CA (the web origin's) and the origin's certificate.
TLS_DIR = STATE / "tls"
# Airflow's admin password, made once by the first container that needs it.
ADMIN_PASSWORD_FILE = STATE / "admin-password.json"
