"""A requirements install that fails leaves no virtualenv behind in the cache."""

import pytest

from mwaa_kit import catalog
from mwaa_kit.contract import requirements
from mwaa_kit.contract.requirements import RequirementsError, ensure_virtualenv


def test_a_failed_install_removes_its_half_built_virtualenv(tmp_path, monkeypatch):
    def failing_install(version, requirements_text, constraints_text, path, *rest):
        (path / "venv" / "lib").mkdir(parents=True)
        (path / "venv" / "lib" / "big-package.whl").write_bytes(b"x" * 1024)
        raise RequirementsError("no-such-package: not found")

    monkeypatch.setattr(requirements, "_install", failing_install)
    envs = tmp_path / "venvs"
    with pytest.raises(RequirementsError, match="no-such-package"):
        ensure_virtualenv(catalog.get_version(catalog.DEFAULT_VERSION), "no-such-package\n",
                          "", envs, {}, tmp_path / "install.log")
    assert [path.name for path in envs.iterdir() if not path.name.endswith(".lock")] == []
