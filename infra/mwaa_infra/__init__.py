"""The AWS CDK (v2) app that provisions the real MWAA environment mwaa-kit promotes to.

One module per concern: settings (context parsing), network, buckets, execution_role,
environment, data, pipelines, and stack (which assembles them with cdk-nag).
"""
