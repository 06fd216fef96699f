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
