import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from mwaa_kit.contract.plugins import (
    PluginsError,
    build_plugins_zip,
    extract_plugins_zip,
)


def _plugins(tmp_path):
    root = tmp_path / "plugins"
    (root / "operators").mkdir(parents=True)
    (root / "operators" / "__init__.py").write_text("")
    (root / "operators" / "mine.py").write_text("VALUE = 1\n")
    (root / "operators" / "__pycache__").mkdir()
    (root / "operators" / "__pycache__" / "mine.cpython-312.pyc").write_bytes(b"junk")
    return root


def test_zip_is_deterministic_and_has_plugins_contents_at_top_level(tmp_path):
    root = _plugins(tmp_path)
    first = build_plugins_zip(root, tmp_path / "a" / "plugins.zip").read_bytes()
    (root / "operators" / "mine.py").touch()  # a new mtime must not change the bytes
    second = build_plugins_zip(root, tmp_path / "b" / "plugins.zip").read_bytes()
    assert first == second
    names = zipfile.ZipFile(tmp_path / "a" / "plugins.zip").namelist()
    assert names == ["operators/__init__.py", "operators/mine.py"]


def test_extract_replaces_the_plugins_folder(tmp_path):
    archive = build_plugins_zip(_plugins(tmp_path), tmp_path / "plugins.zip")
    home = tmp_path / "home" / "plugins"
    home.mkdir(parents=True)
    (home / "stale.py").write_text("")
    names = extract_plugins_zip(archive, home)
    assert sorted(names) == ["operators/__init__.py", "operators/mine.py"]
    assert (home / "operators" / "mine.py").read_text() == "VALUE = 1\n"
    assert not (home / "stale.py").exists()


def test_concurrent_extractions_of_the_same_bundle_all_succeed(tmp_path):
    """The compose image's one-off commands (run-states, airflow) apply the contract while
    others do: two `dags trigger --wait` polls once collided on a shared staging folder."""
    archive = build_plugins_zip(_plugins(tmp_path), tmp_path / "plugins.zip")
    home = tmp_path / "home" / "plugins"
    start = threading.Barrier(4)

    def extract(_):
        start.wait()
        for _ in range(25):
            extract_plugins_zip(archive, home)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(extract, range(4)))  # re-raises any thread's error
    assert (home / "operators" / "mine.py").read_text() == "VALUE = 1\n"
    assert sorted(p.name for p in home.parent.iterdir()) == ["plugins"]


@pytest.mark.parametrize("entry", ["../evil.py", "/etc/evil.py", "ops/../../evil.py"])
def test_unsafe_entries_are_refused_and_nothing_is_written(tmp_path, entry):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as bad:
        bad.writestr("fine.py", "")
        bad.writestr(entry, "")
    home = tmp_path / "home" / "plugins"
    home.mkdir(parents=True)
    (home / "kept.py").write_text("")
    with pytest.raises(PluginsError, match="refused"):
        extract_plugins_zip(archive, home)
    assert sorted(p.name for p in home.iterdir()) == ["kept.py"]
    assert not (tmp_path / "evil.py").exists()


def test_symlink_entries_are_refused(tmp_path):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as bad:
        link = zipfile.ZipInfo("link.py")
        link.external_attr = (0o120777) << 16
        bad.writestr(link, "/etc/passwd")
    with pytest.raises(PluginsError, match="symlink"):
        extract_plugins_zip(archive, tmp_path / "plugins")


def test_not_a_zip_is_a_clear_error(tmp_path):
    archive = tmp_path / "plugins.zip"
    archive.write_text("not a zip")
    with pytest.raises(PluginsError, match="not a zip file"):
        extract_plugins_zip(archive, tmp_path / "plugins")


def test_a_symlink_in_plugins_is_refused_and_no_partial_zip_is_left(tmp_path):
    root = _plugins(tmp_path)
    (root / "linked.py").symlink_to(tmp_path / "elsewhere.py")
    (tmp_path / "elsewhere.py").write_text("X = 1\n")
    out = tmp_path / "dist"
    with pytest.raises(PluginsError, match="linked.py: is a symlink"):
        build_plugins_zip(root, out / "plugins.zip")
    assert not out.exists() or list(out.iterdir()) == []
