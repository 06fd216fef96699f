"""SOQL for the stub: parser (parser.py), date literals (dates.py), evaluation over
SQLite (evaluator.py) and Salesforce's error codes (errors.py)."""
