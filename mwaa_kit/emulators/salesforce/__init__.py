"""An emulator of the Salesforce APIs that unmodified clients (simple-salesforce,
Airflow's SalesforceHook) cannot tell from an org, for what the ingestion use case needs.

Default credentials: username dev@mwaa-kit.local, password `password`, security token
`token`; connected app (OAuth consumer key / secret) mwaa-kit-client / mwaa-kit-secret;
JWT bearer assertions signed with STATE_DIR/jwt-key.pem (verified against
STATE_DIR/jwt-cert.pem, or `serve --jwt-cert`).

A client reaches it with REQUESTS_CA_BUNDLE pointing at STATE_DIR/ca.pem and
`Salesforce(username=..., password=..., security_token=..., domain="127.0.0.1:PORT/#")`:
simple-salesforce builds https://{domain}.salesforce.com/services/Soap/u/..., and the
`#` turns everything after the port into a URL fragment, so the SOAP login (and the
OAuth token requests) arrive at POST / on the stub. The login answers with the stub's
own https://host:port as serverUrl / instance_url, which every later call uses.

Modules, one concern each, split as moto splits a service (state and rules apart from
the wire format):
  ca          the CA and server certificate (kept in the state dir), JWT key pair
  schema      standard objects and the project's custom objects/fields (describe), Ids
  store       SQLite backend in the state dir: rows in, rows out, compiled SOQL run
  soql/       parser (recursive descent), date literals, evaluator to SQL, errors
  generator   deterministic seed data; org.py opens a state dir and loads fixtures
  auth        the login checks (SOAP, OAuth password / JWT bearer / client credentials)
              and the sessions they open
  faults      fault-injection rules (admin endpoint /__admin/faults, CLI `faults`)
  exceptions  the refusals the models raise
  models/     state and rules: records, query cursors, Bulk 2.0 jobs, the backend (Stub)
  responses/  the wire format per API: rest, query, auth, bulk2, admin (and wire)
  urls        the routing table: method + path pattern -> response
  server      the HTTPS front (threaded stdlib http.server with TLS)
  testing     running_stub(): the stub in its own process, for tests and runtimes

CLI: `mwaa-kit salesforce serve | seed | faults` (also `python -m mwaa_kit salesforce ...`,
as the runtimes start it).
"""
