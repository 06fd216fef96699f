"""Ingest the last six months of Salesforce Opportunities into the S3 data lake.

One NDJSON file per calendar month, with no overlap: each batch selects
`start of month <= SystemModstamp < start of next month`, and the current month stops
at the run's data interval end. Keys:
    salesforce/raw/dt=<ds>/opportunity/<yyyy-mm>.json
The bucket comes from the `bucket_name` Airflow variable, read when the tasks run
(MWAA: Secrets Manager, airflow/variables/bucket_name), never at parse time.
"""

import json
import os
from datetime import datetime, timedelta

from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from operators.salesforce_to_s3_operator import SalesforceToS3Operator

try:  # Airflow 3.x
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2.x
    from airflow import DAG
    from airflow.decorators import task

MONTHS = 6
LAKE_PREFIX = os.environ.get("INGESTION_LAKE_PREFIX", "salesforce/raw")
FIELDS = ["Id", "Name", "StageName", "Amount", "CloseDate", "Account.Name", "SystemModstamp"]
MONTH_START = "data_interval_end.start_of('month').subtract(months={})"


def _month_bounds(months_ago: int) -> tuple[str, str, str]:
    """Templates of (from, to, yyyy-mm) for the month `months_ago` before the current one."""
    start = MONTH_START.format(months_ago)
    end = MONTH_START.format(months_ago - 1) if months_ago else "data_interval_end"
    return f"{{{{ {start} }}}}", f"{{{{ {end} }}}}", f"{{{{ {start}.strftime('%Y-%m') }}}}"


with DAG(
    dag_id="salesforce_to_s3",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retry_delay": timedelta(seconds=30)},
    tags=["salesforce", "ingestion"],
    doc_md=__doc__,
) as dag:
    batches = []
    for months_ago in range(MONTHS - 1, -1, -1):
        from_date, to_date, month = _month_bounds(months_ago)
        batches.append(SalesforceToS3Operator(
            task_id=f"opportunity_month_minus_{months_ago}",
            sf_conn_id="salesforce_connection",
            sf_obj="Opportunity",
            sf_fields=FIELDS,
            fmt="ndjson",
            from_date=from_date,
            to_date=to_date,
            s3_conn_id="aws_connection",
            s3_bucket="{{ var.value.bucket_name }}",
            s3_key=f"{LAKE_PREFIX}/dt={{{{ ds }}}}/opportunity/{month}.json",
        ))

    @task(multiple_outputs=False)  # one XCom: its keys are S3 keys, not XCom keys
    def check_landed(results: list[dict]) -> dict:
        """Every month landed once, and each object holds exactly the records reported."""
        s3 = S3Hook(aws_conn_id="aws_connection")
        landed = {}
        for result in results:
            bucket, key = result["s3_uri"].removeprefix("s3://").split("/", 1)
            lines = s3.read_key(key, bucket_name=bucket).splitlines()
            for line in lines:
                json.loads(line)
            if len(lines) != result["record_count"]:
                raise ValueError(f"{key}: {len(lines)} lines, {result['record_count']} reported")
            landed[key] = len(lines)
        if len(landed) != MONTHS:
            raise ValueError(f"expected {MONTHS} monthly files, found {len(landed)}")
        print(json.dumps(landed, indent=2))
        return landed

    check_landed([batch.output for batch in batches])
