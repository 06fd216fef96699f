#!/usr/bin/env bash
# Sourced by bash before requirements.txt is installed; what it exports reaches every
# Airflow process. MWAA_AIRFLOW_COMPONENT tells which one (scheduler, worker, webserver).
# It may not set MWAA's reserved variables (AIRFLOW_HOME, PYTHONPATH, AWS_REGION, ...).
# export MY_SETTING=value
