#!/usr/bin/env bash
# Sourced by bash before requirements.txt is installed, on every MWAA component.
# What it exports reaches every Airflow process.
export INGESTION_LAKE_PREFIX="salesforce/raw"
