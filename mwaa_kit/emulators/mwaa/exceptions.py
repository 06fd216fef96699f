"""The errors the emulated MWAA API returns, each with the status and botocore error code that
botocore turns into a `ClientError` (`ValidationException`, ...)."""

from __future__ import annotations


class MwaaError(Exception):
    """An error the API returns: `code` is the botocore error code (x-amzn-ErrorType)."""

    status = 400
    code = "ValidationException"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def members(self) -> dict:
        """The error shape's members in the answer's body (botocore reads `message`)."""
        return {"message": self.message}


class ValidationError(MwaaError):
    """400 ValidationException: a request MWAA refuses as invalid (name, state, bucket...)."""


class NotFoundError(MwaaError):
    """404 ResourceNotFoundException: no such environment (or no such API operation)."""

    status = 404
    code = "ResourceNotFoundException"


class NotSupportedError(MwaaError):
    """501 NotImplementedException: an operation the emulator does not reproduce."""

    status = 501
    code = "NotImplementedException"


class RestApiError(MwaaError):
    """InvokeRestApi's errors: Airflow's (or the gateway's) status and JSON answer, carried in
    the members botocore models for both (RestApiStatusCode, RestApiResponse); HTTP 400 for
    both, as in botocore's model, so a client tells them apart by the code only."""

    def __init__(self, message: str, status_code: int, response):
        super().__init__(message)
        self.status_code = status_code
        self.response = response

    def members(self) -> dict:
        """message, plus the two members of RestApiClientException/RestApiServerException."""
        return {**super().members(), "RestApiStatusCode": self.status_code,
                "RestApiResponse": self.response}


class RestApiClientError(RestApiError):
    """400 RestApiClientException: Airflow answered 4xx."""

    code = "RestApiClientException"


class RestApiServerError(RestApiError):
    """400 RestApiServerException: Airflow answered 5xx, or could not answer in MWAA's
    limits."""

    code = "RestApiServerException"
