"""The MWAA contract: how MWAA turns a bundle into running Airflow (see bundle.py)."""
