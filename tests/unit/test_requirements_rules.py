from pathlib import Path

import pytest

from mwaa_kit.contract.requirements import (
    effective_requirements,
    has_own_constraints,
    without_official_constraints,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("requests\n", False),
        ("-c https://example.com/constraints.txt\nrequests\n", True),
        ("requests\n--constraint /tmp/c.txt\n", True),
        ("  --constraint=/tmp/c.txt\n", True),
        ("# -c commented.txt\nrequests\n", False),
        ("-r other.txt\n", False),
    ],
)
def test_own_constraints_are_detected_as_mwaa_does(text, expected):
    assert has_own_constraints(text) is expected


def test_constraints_are_added_when_the_file_has_none():
    result = effective_requirements("requests==2.32.3\n", Path("/c.txt"))
    assert result == "requests==2.32.3\n-c /c.txt\n"


def test_a_file_with_its_own_constraints_is_left_alone():
    text = "-c https://example.com/c.txt\nrequests\n"
    assert effective_requirements(text, Path("/c.txt")) == text


def test_an_empty_file_still_gets_constraints():
    assert effective_requirements("", Path("/c.txt")) == "-c /c.txt\n"


OFFICIAL = "https://raw.githubusercontent.com/apache/airflow/constraints-3.0.6/constraints-3.12.txt"


@pytest.mark.parametrize("line", [f"-c {OFFICIAL}", f"--constraint {OFFICIAL}",
                                  f"--constraint={OFFICIAL}", f"  -c   {OFFICIAL}  "])
def test_the_official_constraints_line_of_a_packaged_file_is_left_to_the_contract(line):
    text = f"{line}\nhumanize\n"
    assert without_official_constraints(text, OFFICIAL) == "humanize\n"


def test_other_constraints_files_are_kept():
    text = f"-c {OFFICIAL.replace('3.0.6', '2.11.0')}\nhumanize\n"
    assert without_official_constraints(text, OFFICIAL) == text
