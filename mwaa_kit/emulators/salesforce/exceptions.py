"""The refusals the stub's models raise, in Salesforce's terms: the responses turn them into
the JSON error list `[{"message", "errorCode"}]` with Salesforce's HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """An error answer: the HTTP `status`, Salesforce's errorCode and message, and the fields
    concerned."""

    def __init__(self, status: int, code: str, message: str, fields: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    """404 NOT_FOUND, Salesforce's answer for an unknown resource, record or job."""
    return ApiError(404, "NOT_FOUND", message)


class InvalidQueryLocator(LookupError):
    """A nextRecordsUrl (or Bulk results locator) that is unknown or exhausted: each API words
    its refusal its own way."""


class MultipleRecords(LookupError):
    """Several records hold the external Id value asked for: Salesforce answers 300 with their
    URLs. `ids` are theirs."""

    def __init__(self, ids: list[str]):
        super().__init__(", ".join(ids))
        self.ids = ids
