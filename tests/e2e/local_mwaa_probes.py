"""The programs test_local_mwaa runs in the local environment: DAGs it writes into the
project, and the script that calls the Amazon provider's MwaaHook (kept apart so the test
module stays within the project's 400 lines)."""

PROBE_DAG = '''
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def promoted_probe():
    @task
    def size():
        import humanize  # only importable once requirements.txt was re-applied

        return humanize.naturalsize(1_000_000)

    size()


promoted_probe()
'''


# A DAG that succeeds in a second, for the runs InvokeRestApi starts (the example's DAGs
# call Salesforce and S3).
REST_PROBE_DAG = '''
import pendulum
from airflow.sdk import dag, task


# No retry: the example's core.default_task_retries would retry a failed try 5 minutes on.
@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False,
     default_args={"retries": 0})
def rest_probe():
    @task
    def hello():
        return "hello"

    hello()


rest_probe()
'''


HOOK_SCRIPT = """
import json, sys
from airflow.providers.amazon.aws.hooks.mwaa import MwaaHook

hook = MwaaHook(aws_conn_id=None, region_name="us-east-1")
answer = hook.invoke_rest_api(env_name=sys.argv[1], path="/dags", method="GET",
                              generate_local_token=True, airflow_version=3)
print(json.dumps(answer))
"""
