"""The README's table of supported versions, made from the catalog:
`python -m mwaa_kit.catalog.readme [README.md]` rewrites it in place (between the two
marker comments); tests/unit/test_readme_versions.py fails when they disagree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from packaging.requirements import Requirement

from mwaa_kit import catalog

BEGIN = "<!-- versions: made by `python -m mwaa_kit.catalog.readme`; do not edit -->"
END = "<!-- /versions -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def _provider(version: catalog.AirflowVersion, name: str) -> str:
    for spec in version.preinstalled_providers:
        requirement = Requirement(spec)
        if requirement.name == f"apache-airflow-providers-{name}":
            return next(iter(requirement.specifier)).version
    return "-"


def table() -> str:
    """The Markdown table: one row per catalog version, newest first, the default marked."""
    rows = [
        "| Airflow | Python (MWAA's image) | Amazon provider in the image | Released |",
        "|---|---|---|---|",
    ]
    for number in reversed(catalog.supported_versions()):
        version = catalog.get_version(number)
        airflow = f"**{number}** (default)" if number == catalog.DEFAULT_VERSION else number
        rows.append(f"| {airflow} | {version.python_version} | {_provider(version, 'amazon')} "
                    f"| {version.release_date.isoformat()} |")
    return "\n".join(rows)


def block() -> str:
    return f"{BEGIN}\n{table()}\n{END}"


def current_block(text: str) -> str | None:
    """The table block of a README's text, None when it has no markers."""
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return None
    return text[start:end + len(END)]


def rewrite(path: Path) -> bool:
    """Put the catalog's table in `path`; True when the file changed."""
    text = path.read_text()
    found = current_block(text)
    if found is None:
        raise SystemExit(f"{path}: no '{BEGIN}' ... '{END}' block to rewrite")
    updated = text.replace(found, block())
    if updated != text:
        path.write_text(updated)
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("readme", nargs="?", type=Path, default=README)
    arguments = parser.parse_args(argv)
    changed = rewrite(arguments.readme)
    print(f"{arguments.readme}: {'updated' if changed else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
