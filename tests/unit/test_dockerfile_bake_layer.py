"""The Airflow image installs Airflow in a layer of its own, built from the few kit files
the Dockerfile copies before the rest (so a change elsewhere in the kit does not reinstall
Airflow). Those files must be enough to import bake.py: a module they import that is not
copied fails only in the image build (it did: mwaa_kit/errors.py)."""

import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "airflow" / "Dockerfile"


def _copies_before_bake() -> list[tuple[list[str], str]]:
    text = DOCKERFILE.read_text()
    head = text[:text.index("bake.py \"${AIRFLOW_VERSION}\"")]
    return [(line.split()[1:-1], line.split()[-1])
            for line in re.findall(r"^COPY mwaa_kit\S* .*$", head, re.MULTILINE)]


def test_the_files_copied_before_the_bake_step_are_enough_to_import_it(tmp_path):
    for sources, destination in _copies_before_bake():
        target = tmp_path / destination.lstrip("/")
        for source in sources:
            path = REPO / source
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                folder = target if destination.endswith("/") else target.parent
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, folder / (path.name if destination.endswith("/")
                                            else target.name))
    kit = tmp_path / "opt" / "mwaa-kit"
    # -S: no site processing, so the kit's editable install (a .pth import hook) cannot
    # supply what the copy lacks; the third-party packages (uv, packaging) stay reachable.
    probe = ("import sys; sys.path[:0] = [sys.argv[1]]; sys.path += sys.argv[2:]; "
             "import bake, mwaa_kit; "
             "assert mwaa_kit.__file__.startswith(sys.argv[1]), mwaa_kit.__file__")
    result = subprocess.run([sys.executable, "-S", "-c", probe, str(kit),
                             *site.getsitepackages()],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
