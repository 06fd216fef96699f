"""The requirements check reports a package without a wheel only when the user's
requirements add it: what MWAA's image already holds at the same version (python-nvd3 of
Airflow 2) is built once in the image, never at the user's install. uv is faked here:
each wheels-only resolution names the first package still lacking a wheel, as uv does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mwaa_kit import catalog
from mwaa_kit.checks import requirements as rq
from mwaa_kit.checks.findings import CheckResult

VERSION = catalog.get_version("2.11.0")
# What the fake image holds; python-nvd3 and one more have no wheel for MWAA's platform.
IMAGE = {"apache-airflow": "2.11.0", "python-nvd3": "0.16.0", "unicodecsv": "0.14.1"}
NO_WHEEL = {("python-nvd3", "0.16.0"), ("unicodecsv", "0.14.1"), ("docopt", "0.6.2"),
            ("python-nvd3", "0.15.0")}


class FakeUv:
    """Stands in for rq.resolve: the image, plus the user's `name==version` lines."""

    def __init__(self):
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.no_wheel = set(NO_WHEEL)

    def __call__(self, version, requirements_text, workdir, extra=()):
        self.calls.append((requirements_text, tuple(extra)))
        resolved = dict(IMAGE)
        for line in rq.parse_lines(requirements_text):
            name, _, pinned = line.text.partition("==")
            resolved[name] = pinned
        if "--only-binary" in extra:
            allowed = {extra[i + 1] for i, argument in enumerate(extra)
                       if argument == "--no-binary"}
            for name, pinned in resolved.items():
                if (name, pinned) in self.no_wheel and name not in allowed:
                    return subprocess.CompletedProcess(
                        ["uv"], 1, "", f"  × No solution found when resolving dependencies:\n"
                        f"  ╰─▶ Because {name}=={pinned} has no usable wheels and you require "
                        f"{name}=={pinned}, we can conclude that your requirements are "
                        "unsatisfiable.\n")
        stdout = "".join(f"{name}=={pinned}\n" for name, pinned in sorted(resolved.items()))
        return subprocess.CompletedProcess(["uv"], 0, stdout, "")

    @property
    def image_alone(self) -> int:
        return sum(1 for text, extra in self.calls if text == "" and not extra)


@pytest.fixture
def uv(monkeypatch):
    fake = FakeUv()
    monkeypatch.setattr(rq, "resolve", fake)
    monkeypatch.setattr(rq, "_needs_compiler", lambda name, found_version, workdir: None)
    return fake


def _source_builds(text: str, tmp_path: Path) -> CheckResult:
    result = CheckResult("requirements")
    rq._source_builds(VERSION, text, rq.parse_lines(text), tmp_path, result)
    return result


def test_the_images_own_source_builds_are_not_reported(uv, tmp_path):
    result = _source_builds("requests==2.32.3\n", tmp_path)
    assert result.findings == []
    assert uv.image_alone == 1
    # it went past both image packages until the resolution succeeded
    assert uv.calls[-1][1].count("--no-binary") == 2


def test_what_the_user_adds_is_reported_past_the_image_packages(uv, tmp_path):
    result = _source_builds("requests==2.32.3\ndocopt==0.6.2\n", tmp_path)
    assert [(f.severity, f.code, f.line) for f in result.findings] == [
        ("warning", "requirements.sdist_only", 2)]
    assert "docopt==0.6.2 has no wheel" in result.findings[0].message
    assert not any("nvd3" in f.message or "unicodecsv" in f.message for f in result.findings)
    assert uv.image_alone == 1  # resolved once, however many packages lack a wheel


def test_an_image_package_at_another_version_is_the_users(uv, tmp_path):
    result = _source_builds("python-nvd3==0.15.0\n", tmp_path)
    assert [(f.code, f.line) for f in result.findings] == [("requirements.sdist_only", 1)]
    assert "python-nvd3==0.15.0" in result.findings[0].message


def test_the_image_is_not_resolved_when_every_package_has_a_wheel(uv, tmp_path):
    uv.no_wheel = set()
    assert _source_builds("docopt==0.6.2\n", tmp_path).findings == []
    assert uv.image_alone == 0 and len(uv.calls) == 1


def test_image_pins_are_the_image_resolved_alone(uv, tmp_path):
    assert rq.image_pins(VERSION, tmp_path) == {
        "apache-airflow": "2.11.0", "python-nvd3": "0.16.0", "unicodecsv": "0.14.1"}
    assert uv.calls == [("", ())]
