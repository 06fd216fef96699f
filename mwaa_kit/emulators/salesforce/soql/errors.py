"""SOQL errors as Salesforce reports them: an errorCode and a message."""

from __future__ import annotations


class SoqlError(ValueError):
    """A query Salesforce would reject; `code` is its errorCode (HTTP 400)."""

    def __init__(self, code: str, message: str, position: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position  # offset in the query text, when known
        self.located = False

    def locate(self, text: str) -> SoqlError:
        """Prefix the message with the query line, a caret and `ERROR at Row:R:Column:C`,
        as Salesforce words MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE errors."""
        if self.located or self.position is None:
            return self
        position = max(0, min(self.position, len(text)))
        start = text.rfind("\n", 0, position) + 1
        end = text.find("\n", position)
        line = text[start:] if end < 0 else text[start:end]
        column = position - start
        row = text.count("\n", 0, position) + 1
        self.message = (f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}"
                        f"\n{self.message}")
        self.args = (self.message,)
        self.located = True
        return self


def position_of(name) -> int | None:
    """Where a parsed name (parser.Name) stood in the query text."""
    return getattr(name, "pos", None)


def malformed(message: str, position: int | None = None) -> SoqlError:
    """MALFORMED_QUERY at `position`: the query does not parse."""
    return SoqlError("MALFORMED_QUERY", message, position)


def invalid_field(message: str, position: int | None = None) -> SoqlError:
    """INVALID_FIELD at `position`: no such field, or a value that does not fit it."""
    return SoqlError("INVALID_FIELD", message, position)


def invalid_type(sobject: str) -> SoqlError:
    """INVALID_TYPE in Salesforce's words, for an object the org does not have; it points at
    the name when the parser recorded where it stood."""
    return SoqlError(
        "INVALID_TYPE",
        f"sObject type '{sobject}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
        position_of(sobject),
    )
