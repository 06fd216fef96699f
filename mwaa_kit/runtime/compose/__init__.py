"""The compose runtime: the MWAA contract run as containers (docker compose or podman-compose)."""
