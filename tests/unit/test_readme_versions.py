"""README's table of supported versions is the catalog's (issue #18, item 11)."""

from __future__ import annotations

import re
import shutil

from mwaa_kit import catalog
from mwaa_kit.catalog import readme


def test_readme_table_is_the_catalogs():
    found = readme.current_block(readme.README.read_text())
    assert found is not None, f"README.md lost its '{readme.BEGIN}' block"
    assert found == readme.block(), (
        "README.md's version table disagrees with the catalog: run "
        "`python -m mwaa_kit.catalog.readme`")


def test_the_table_has_one_row_per_version_and_marks_the_default():
    rows = readme.table().splitlines()[2:]
    versions = [re.sub(r"[*]|\(default\)", "", row.split("|")[1]).strip() for row in rows]
    assert versions == list(reversed(catalog.supported_versions()))
    (default,) = [row for row in rows if "(default)" in row]
    assert f"**{catalog.DEFAULT_VERSION}**" in default
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        version = catalog.get_version(re.sub(r"[*]|\(default\)", "", cells[0]).strip())
        assert cells[1] == version.python_version
        assert f"apache-airflow-providers-amazon[aiobotocore]=={cells[2]}" in \
            version.preinstalled_providers
        assert cells[3] == version.release_date.isoformat()


def test_rewrite_fixes_a_stale_table(tmp_path):
    stale = tmp_path / "README.md"
    shutil.copyfile(readme.README, stale)
    text = stale.read_text()
    stale.write_text(text.replace(f"| {catalog.supported_versions()[0]} |", "| 1.10.12 |"))
    assert readme.current_block(stale.read_text()) != readme.block()
    assert readme.main([str(stale)]) == 0
    assert stale.read_text() == text
    assert readme.rewrite(stale) is False
