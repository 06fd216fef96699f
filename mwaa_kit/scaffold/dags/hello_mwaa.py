"""A first DAG: prints where it runs. Replace it with your own."""

import os
from datetime import datetime

try:  # Airflow 3.x
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2.x
    from airflow.decorators import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["example"])
def hello_mwaa():
    @task
    def where_am_i():
        print("component:", os.environ.get("MWAA_AIRFLOW_COMPONENT"))
        print("execution env:", os.environ.get("AWS_EXECUTION_ENV"))

    where_am_i()


hello_mwaa()
