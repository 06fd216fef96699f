"""An emulator of the Salesforce APIs that unmodified clients (simple-salesforce,
Airflow's SalesforceHook) cannot tell from an org, for what the ingestion use case needs.

Default credentials: username dev@mwaa-kit.local, password `password`, security token
`token`; OAuth client mwaa-kit-client / mwaa-kit-secret. A client reaches it with
`Salesforce(username=..., password=..., security_token=..., domain="127.0.0.1:PORT/#")`
and REQUESTS_CA_BUNDLE pointing at the state dir's ca.pem: simple-salesforce builds
https://{domain}.salesforce.com/..., and the `#` turns the rest into a URL fragment.
"""
