"""SOQL built from parts that are checked, never spliced from free text.

Object and field names must be API names that the object's describe lists; date bounds
must be datetimes, ISO-8601 strings or Salesforce date literals. Anything else is
refused before a query is sent, so no parameter can change the query's meaning.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_UNITS = "DAYS|WEEKS|MONTHS|QUARTERS|YEARS|FISCAL_QUARTERS|FISCAL_YEARS"
_DATE_LITERAL = re.compile(
    r"^(?:YESTERDAY|TODAY|TOMORROW|LAST_WEEK|THIS_WEEK|NEXT_WEEK|LAST_MONTH|THIS_MONTH|"
    r"NEXT_MONTH|LAST_90_DAYS|NEXT_90_DAYS|THIS_QUARTER|LAST_QUARTER|NEXT_QUARTER|"
    r"THIS_YEAR|LAST_YEAR|NEXT_YEAR|THIS_FISCAL_QUARTER|LAST_FISCAL_QUARTER|"
    r"NEXT_FISCAL_QUARTER|THIS_FISCAL_YEAR|LAST_FISCAL_YEAR|NEXT_FISCAL_YEAR|"
    rf"(?:LAST|NEXT)_N_(?:{_UNITS}):\d{{1,4}}|N_(?:{_UNITS})_AGO:\d{{1,4}})$"
)
MODSTAMP = "SystemModstamp"


class UnsafeSoqlError(ValueError):
    """A name or value would not be a valid, literal part of the query."""


def check_name(kind: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnsafeSoqlError(
            f"{kind} {name!r} is not a Salesforce API name (letters, digits and underscores, "
            "starting with a letter)."
        )
    return name


def check_field_path(path: str) -> list[str]:
    """`Account.Owner.Name` -> ["Account", "Owner", "Name"], each part a valid name."""
    if not isinstance(path, str):
        raise UnsafeSoqlError(f"field {path!r} is not a string.")
    parts = path.split(".")
    if len(parts) > 6:
        raise UnsafeSoqlError(f"field {path!r}: SOQL allows at most 5 parent levels.")
    return [check_name("field", part) for part in parts]


def render_bound(value: object) -> str:
    """A from/to bound as a SOQL datetime: datetimes and ISO strings become UTC
    `YYYY-MM-DDThh:mm:ssZ`; dates become midnight UTC; date literals pass validated."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return render_bound(datetime.combine(value, time(), tzinfo=UTC))
    if isinstance(value, str):
        text = value.strip()
        if _DATE_LITERAL.fullmatch(text):
            return text
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UnsafeSoqlError(
                f"date bound {value!r} is neither an ISO-8601 date/datetime nor a Salesforce "
                "date literal (e.g. 2024-01-31, 2024-01-31T00:00:00Z, LAST_N_MONTHS:3)."
            ) from None
        return render_bound(parsed)
    raise UnsafeSoqlError(f"date bound {value!r} must be a datetime, a date or a string.")


def build_query(sobject: str, fields: list[str], from_date=None, to_date=None) -> str:
    """`SELECT fields FROM sobject [WHERE SystemModstamp >= from AND < to]`.

    The interval is half-open (from inclusive, to exclusive) so consecutive batches
    that share a bound never return a record twice.
    """
    check_name("object", sobject)
    for field in fields:
        check_field_path(field)
    return f"SELECT {', '.join(fields)} FROM {sobject}" + _where(from_date, to_date)


def build_count_query(sobject: str, from_date=None, to_date=None) -> str:
    """How many records `build_query` with the same bounds would return."""
    return f"SELECT COUNT() FROM {check_name('object', sobject)}" + _where(from_date, to_date)


def _where(from_date, to_date) -> str:
    conditions = []
    if from_date is not None:
        conditions.append(f"{MODSTAMP} >= {render_bound(from_date)}")
    if to_date is not None:
        conditions.append(f"{MODSTAMP} < {render_bound(to_date)}")
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def column_name(path: str) -> str:
    """The output column of a field: lower case, parents joined by `_`
    (`Account.Name` -> `account_name`)."""
    return path.replace(".", "_").lower()
