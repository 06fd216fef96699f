"""A recursive-descent parser for the SOQL the stub serves.

Hand-written rather than generated so that every failure becomes Salesforce's own
MALFORMED_QUERY wording with the offending token, and nothing else escapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mwaa_kit.emulators.salesforce.soql.dates import is_date_literal
from mwaa_kit.emulators.salesforce.soql.errors import SoqlError, malformed

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"',
            "\\": "\\", "_": "\\_", "%": "\\%"}
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "INCLUDES",
            "EXCLUDES", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT",
            "OFFSET", "NULL", "TRUE", "FALSE", "COUNT", "FIELDS"}


class Name(str):
    """A field, relationship or object name as written, remembering where it stood in the
    query so errors can point at it as Salesforce's do."""

    pos: int | None = None

    def __new__(cls, text: str, pos: int | None = None):
        name = super().__new__(cls, text)
        name.pos = pos
        return name


@dataclass(frozen=True)
class Literal:
    """A value in a condition; `kind` says how it compares (a relative date is a range)."""

    kind: str  # string number null boolean date datetime relative
    value: object


@dataclass(frozen=True)
class Comparison:
    """`path op value`; IN, NOT IN, INCLUDES and EXCLUDES carry a tuple of literals."""

    path: str
    op: str  # = != < <= > >= LIKE IN NOTIN INCLUDES EXCLUDES
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    """AND or OR over two or more conditions."""

    op: str  # AND OR
    items: tuple


@dataclass(frozen=True)
class Not:
    """NOT over one condition."""

    item: object


@dataclass(frozen=True)
class Order:
    """One ORDER BY item; `nulls_last` defaults to `descending`, as Salesforce sorts
    (NULLS FIRST ascending)."""

    path: str
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    """A parsed SELECT; `fields` holds paths, "COUNT()", ("FIELDS", kind) and subqueries."""

    fields: list = field(default_factory=list)  # paths, "COUNT()", ("FIELDS", kind), Query
    sobject: str = ""
    where: object = None
    order: list[Order] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class Token:
    """A token and its offset in the query text, for errors that point at it."""

    kind: str
    text: str
    pos: int = 0

    @property
    def upper(self) -> str:
        """The text upper-cased: SOQL keywords are case-insensitive."""
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    """The query's tokens, whitespace dropped; MALFORMED_QUERY at the first text no token
    matches."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            bad = text[position:].split(None, 1)[0][:40] if text[position:].strip() else ""
            raise malformed(f"unexpected token: '{bad}'", position)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    return tokens


def _unescape(quoted: str, position: int = 0) -> str:
    body, result, index = quoted[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 1
            escaped = body[index] if index < len(body) else ""
            if escaped not in _ESCAPES:
                raise malformed(f"Invalid string literal '{quoted}'. Illegal character "
                                "sequence '\\" + escaped + "' in string literal.", position)
            result.append(_ESCAPES[escaped])
        else:
            result.append(char)
        index += 1
    return "".join(result)


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.end = len(text.rstrip())

    def where(self, token: Token | None) -> int:
        return token.pos if token is not None else self.end

    def unexpected(self, token: Token | None, expected: str = "") -> SoqlError:
        """Salesforce's wording, which names the token but not what was `expected`."""
        found = f"'{token.text}'" if token is not None else "<EOF>"
        return malformed(f"unexpected token: {found}", self.where(token))

    def peek(self, offset: int = 0) -> Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.upper in words

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.unexpected(None)
        self.index += 1
        return token

    def expect(self, word: str) -> Token:
        token = self.peek()
        if token is None or token.upper != word:
            raise self.unexpected(token, word)
        return self.take()

    # query := SELECT fields FROM name [WHERE] [ORDER BY] [LIMIT] [OFFSET]
    def query(self, nested: bool = False) -> Query:
        query = Query()
        self.expect("SELECT")
        query.fields = self.select_list()
        self.expect("FROM")
        query.sobject = self.name("object")
        if self.at("WHERE"):
            self.take()
            query.where = self.disjunction()
        if self.at("ORDER"):
            self.take()
            self.expect("BY")
            query.order = self.order_list()
        if self.at("LIMIT"):
            self.take()
            query.limit = self.integer("LIMIT")
        if self.at("OFFSET"):
            self.take()
            query.offset = self.integer("OFFSET")
        if not nested and self.peek() is not None:
            raise self.unexpected(self.peek())
        return query

    def select_list(self) -> list:
        fields = [self.select_item()]
        while self.peek() and self.peek().text == ",":
            self.take()
            fields.append(self.select_item())
        return fields

    def select_item(self):
        token = self.peek()
        if token and token.text == "(":
            self.take()
            subquery = self.query(nested=True)
            self.expect_punct(")")
            return subquery
        if token and token.upper in ("COUNT", "FIELDS") and self.peek(1) and \
                self.peek(1).text == "(":
            self.take()
            self.take()
            if token.upper == "COUNT":
                self.expect_punct(")")
                return "COUNT()"
            kind_token = self.take()
            kind = kind_token.upper
            if kind not in ("ALL", "STANDARD", "CUSTOM"):
                raise self.unexpected(kind_token, "ALL, STANDARD or CUSTOM")
            self.expect_punct(")")
            return ("FIELDS", kind)
        return self.name("field")

    def expect_punct(self, char: str) -> None:
        token = self.peek()
        if token is None or token.text != char:
            raise self.unexpected(token, f"'{char}'")
        self.take()

    def name(self, kind: str) -> Name:
        token = self.take()
        if token.kind != "name" or token.upper in KEYWORDS or ":" in token.text:
            raise self.unexpected(token, f"a {kind} name")
        return Name(token.text, token.pos)

    def integer(self, clause: str) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise malformed(f"{clause} must be a non-negative integer, found '{token.text}'",
                            token.pos)
        return int(token.text)

    def order_list(self) -> list[Order]:
        orders = []
        while True:
            path = self.name("field")
            descending = False
            if self.at("ASC", "DESC"):
                descending = self.take().upper == "DESC"
            nulls_last = descending  # Salesforce's default: NULLS FIRST ascending
            if self.at("NULLS"):
                self.take()
                which = self.take()
                if which.upper not in ("FIRST", "LAST"):
                    raise self.unexpected(which, "FIRST or LAST")
                nulls_last = which.upper == "LAST"
            orders.append(Order(path, descending, nulls_last))
            if not (self.peek() and self.peek().text == ","):
                return orders
            self.take()

    def disjunction(self):
        items = [self.conjunction()]
        while self.at("OR"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("OR", tuple(items))

    def conjunction(self):
        items = [self.negation()]
        while self.at("AND"):
            self.take()
            items.append(self.negation())
        return items[0] if len(items) == 1 else BoolOp("AND", tuple(items))

    def negation(self):
        if self.at("NOT"):
            self.take()
            return Not(self.negation())
        if self.peek() and self.peek().text == "(":
            self.take()
            inner = self.disjunction()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.name("field")
        token = self.take()
        word = token.upper
        if token.kind == "op":
            return Comparison(path, "!=" if token.text == "<>" else token.text, self.literal())
        if word == "LIKE":
            return Comparison(path, "LIKE", self.literal())
        if word in ("IN", "INCLUDES", "EXCLUDES"):
            return Comparison(path, word, self.literal_list())
        if word == "NOT" and self.at("IN"):
            self.take()
            return Comparison(path, "NOTIN", self.literal_list())
        raise self.unexpected(token, "an operator")

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.peek() and self.peek().text == ",":
            self.take()
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return Literal("string", _unescape(token.text, token.pos))
        if token.kind == "number":
            return Literal("number", float(token.text) if "." in token.text else int(token.text))
        if token.kind in ("date", "datetime"):
            return Literal(token.kind, token.text)
        if token.kind == "name":
            if token.upper == "NULL":
                return Literal("null", None)
            if token.upper in ("TRUE", "FALSE"):
                return Literal("boolean", token.upper == "TRUE")
            if is_date_literal(token.upper):
                return Literal("relative", token.upper)
        raise self.unexpected(token, "a value")


def parse(text: str) -> Query:
    """Parse `text` or raise SoqlError(MALFORMED_QUERY)."""
    if not isinstance(text, str) or not text.strip():
        raise malformed("A query is required")
    try:
        return _Parser(text).query()
    except SoqlError as error:
        raise error.locate(text) from None
