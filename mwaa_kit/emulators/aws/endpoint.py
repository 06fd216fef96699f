"""How a client reaches the AWS emulator (moto server or LocalStack) instead of AWS.

Neither emulator implements MWAA's own API; the kit's MWAA emulator covers that. Both
answer S3 (versioned), SQS, Secrets Manager and SSM on one HTTP endpoint that boto3
reaches through AWS_ENDPOINT_URL. Starting them is the runtime's (runtime/services.py).
"""

from __future__ import annotations

# Credentials the emulators accept; never real ones, so a mistaken endpoint cannot
# touch a real account.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def client_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What a boto3 client needs to talk to the emulator instead of AWS."""
    return {"AWS_ENDPOINT_URL": endpoint_url, "AWS_DEFAULT_REGION": region,
            **EMULATOR_CREDENTIALS}
