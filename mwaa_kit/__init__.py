"""mwaa-kit: run Airflow DAGs locally as Amazon MWAA would, then promote them."""

__version__ = "0.1.0"
