"""SOQL errors as Salesforce reports them: an errorCode and a message."""


class SoqlError(ValueError):
    """A query Salesforce would reject; `code` is its errorCode (HTTP 400)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def malformed(message: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", message)


def invalid_field(message: str) -> SoqlError:
    return SoqlError("INVALID_FIELD", message)


def invalid_type(sobject: str) -> SoqlError:
    return SoqlError(
        "INVALID_TYPE",
        f"sObject type '{sobject}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )
