"""Two other ways to ingest: a whole object, and a custom SOQL query.

* Account, every field, as gzipped CSV with epoch timestamps.
* Open Leads from a custom query, as a JSON array.
"""

from datetime import datetime

from operators.salesforce_to_s3_operator import SalesforceToS3Operator

try:  # Airflow 3.x
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.x
    from airflow import DAG

with DAG(
    dag_id="salesforce_full_and_custom",
    schedule="@weekly",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["salesforce", "ingestion"],
    doc_md=__doc__,
):
    SalesforceToS3Operator(
        task_id="account_full",
        sf_conn_id="salesforce_connection",
        sf_obj="Account",
        fmt="csv",
        compression="gzip",
        coerce_to_timestamp=True,
        record_time_added=True,
        s3_conn_id="aws_connection",
        s3_bucket="{{ var.value.bucket_name }}",
        s3_key="salesforce/raw/dt={{ ds }}/account/account.csv.gz",
    )
    SalesforceToS3Operator(
        task_id="open_leads_query",
        sf_conn_id="salesforce_connection",
        sf_obj="Lead",
        query="SELECT Id, Company, Status FROM Lead WHERE IsConverted = false",
        fmt="json",
        s3_conn_id="aws_connection",
        s3_bucket="{{ var.value.bucket_name }}",
        s3_key="salesforce/raw/dt={{ ds }}/lead/open_leads.json",
    )
