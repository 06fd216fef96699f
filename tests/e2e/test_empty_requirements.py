"""Why validate may leave an empty requirements.txt unresolved: for every catalog version,
MWAA's image alone (Airflow and its providers, the version's constraints, MWAA's essential
pins) resolves for MWAA's platform, and whatever of it has no wheel is MWAA's to build,
not the user's. Were a catalog entry ever to break that, this test says so, not a user's
empty file."""

from __future__ import annotations

import pytest

from mwaa_kit import catalog
from mwaa_kit.checks import requirements
from mwaa_kit.checks.findings import CheckResult
from mwaa_kit.project import Project

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("version", catalog.supported_versions())
def test_the_image_alone_resolves_and_reports_nothing(version, tmp_path):
    """What validate made of an empty file before it skipped it: with only MWAA's own
    constraints line (which adds nothing), the resolution and the search for packages
    without a wheel run as for any file."""
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "requirements.txt").write_text(
        f"-c {catalog.get_version(version).constraints_url}\n")
    result = CheckResult("requirements")
    requirements.run(Project(root=tmp_path, airflow_version=version), result)
    assert [f for f in result.findings if f.severity != "info"] == []
    assert result.details["resolved_packages"] > 100  # Airflow, its providers, their deps
    assert result.details["requirements"] == {}
