"""Which Airflow CLI commands MWAA runs through its /aws_mwaa/cli endpoint, per Airflow major,
read from cli_commands.toml (the data cites MWAA's page; this module only reads and applies
it), so a new major or a change of MWAA's list is a data change."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from mwaa_kit.catalog import CATALOG_DIR, CatalogError, _load_toml, _version_key

DATA_FILE = "cli_commands.toml"


@dataclass(frozen=True)
class Entry:
    """One listed command: its words ("dags", "show") and the options that single it out
    ("--save"), if any."""

    words: tuple[str, ...]
    options: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, where: str) -> Entry:
        """`text` as the data writes it ("dags show --save"); CatalogError when it names no
        command or puts a word after an option."""
        parts = text.split()
        words = tuple(part for part in parts if not part.startswith("-"))
        options = tuple(part for part in parts if part.startswith("-"))
        if not words or parts[:len(words)] != list(words):
            raise CatalogError(f"{where}: {text!r} must be command words, then options")
        return cls(words, options)

    def matches(self, arguments: list[str]) -> bool:
        """Whether a command line (without `airflow`) is this entry: it starts with the words
        and, when the entry has options, carries one (`--opt` or `--opt=value`)."""
        if tuple(arguments[:len(self.words)]) != self.words:
            return False
        return not self.options or any(
            argument == option or argument.startswith(f"{option}=")
            for argument in arguments[len(self.words):] for option in self.options)

    def __str__(self) -> str:
        return " ".join(self.words + self.options)


@dataclass(frozen=True)
class CliCommandRules:
    """MWAA's rules for one Airflow major: the supported commands, and the options of
    supported commands it still refuses."""

    major: int
    supported: tuple[Entry, ...]
    unsupported: tuple[Entry, ...]

    def refusal(self, arguments: list[str]) -> str | None:
        """Why MWAA would not run `arguments` (a command without `airflow`), or None when it
        would."""
        command = " ".join(arguments) or "(no command)"
        for entry in self.unsupported:
            if entry.matches(arguments):
                return (f"`{entry}` is not supported by the Airflow CLI of Amazon MWAA "
                        f"(Apache Airflow v{self.major}).")
        if any(entry.matches(arguments) for entry in self.supported):
            return None
        return (f"`{command}` is not a supported Airflow CLI command on Amazon MWAA "
                f"(Apache Airflow v{self.major}); supported: "
                f"{', '.join(str(entry) for entry in self.supported)}.")


@cache
def _rules() -> dict[int, CliCommandRules]:
    data = _load_toml(CATALOG_DIR / DATA_FILE)
    majors = data.get("majors")
    if not isinstance(majors, dict) or not majors:
        raise CatalogError(f"{DATA_FILE}: missing [majors.N] tables")
    rules = {}
    for major, lists in majors.items():
        where = f"{DATA_FILE} [majors.{major}]"
        if not major.isdigit() or not isinstance(lists, dict) or "supported" not in lists:
            raise CatalogError(f"{where}: must be a table with a `supported` list")
        entries = {}
        for name in ("supported", "unsupported"):
            texts = lists.get(name, [])
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise CatalogError(f"{where}: `{name}` must be a list of strings")
            entries[name] = tuple(Entry.parse(text, where) for text in texts)
        rules[int(major)] = CliCommandRules(int(major), **entries)
    return rules


def cli_rules(airflow_version: str) -> CliCommandRules:
    """The rules of `airflow_version`'s major; CatalogError when the data has none for it."""
    major = _version_key(airflow_version)[0]
    try:
        return _rules()[major]
    except KeyError:
        raise CatalogError(f"{DATA_FILE}: no [majors.{major}] for Airflow "
                           f"{airflow_version}") from None
