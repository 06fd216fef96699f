"""Launchers of the MWAA contract: native host processes, or a compose stack."""
