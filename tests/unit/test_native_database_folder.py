"""Where the native runtime keeps PostgreSQL's data: in the project, unless the server's
user (`postgres`, under root) cannot enter the project's folder (/root/project; a CI
workspace under a 0700 folder); then in a folder of its own under SHARED_CLUSTERS, which
`down --purge` deletes too. The server's user stands in as `nobody`, an account every
machine has, so the folder rules run over real permissions."""

import shutil
import tempfile
from pathlib import Path

import pytest

from mwaa_kit.project import Project
from mwaa_kit.runtime.native import postgres
from mwaa_kit.runtime.native.environment import NativeEnvironment


@pytest.fixture
def as_root(monkeypatch, tmp_path):
    """The server runs as another user than the caller's, as under root; clusters that
    move go to a folder of the test's."""
    monkeypatch.setattr(postgres, "_server_user", lambda: "nobody")
    monkeypatch.setattr(postgres, "SHARED_CLUSTERS", tmp_path / "shared")
    return tmp_path / "shared"


@pytest.fixture
def open_folder():
    """A folder every user may enter (pytest's own tmp folders are owner-only)."""
    folder = Path(tempfile.mkdtemp(prefix="mwaa-kit-open-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def _private_project(tmp_path: Path) -> Path:
    private = tmp_path / "private"
    (private / "work space" / "project").mkdir(parents=True)
    private.chmod(0o700)
    return private / "work space" / "project"


def test_a_project_the_server_cannot_enter_keeps_its_cluster_in_a_shared_folder_of_its_own(
        as_root, tmp_path):
    first = _private_project(tmp_path / "one") / ".mwaa-kit" / "native"
    second = _private_project(tmp_path / "two") / ".mwaa-kit" / "native"
    chosen = postgres.cluster_dir(first)
    assert chosen.parent.parent == as_root and chosen.name == "postgres"
    assert postgres.cluster_dir(first) == chosen  # the same folder on every run
    assert postgres.cluster_dir(second) != chosen
    assert postgres.passfile(chosen).parent == chosen.parent


def test_a_project_the_server_can_enter_keeps_its_cluster_inside(as_root, open_folder):
    state = open_folder / "work space" / "project" / ".mwaa-kit" / "native"
    state.mkdir(parents=True)
    assert postgres.cluster_dir(state) == state / "postgres"


def test_a_server_run_by_the_caller_keeps_the_cluster_inside_any_folder(monkeypatch,
                                                                        tmp_path):
    monkeypatch.setattr(postgres, "_server_user", lambda: None)
    state = _private_project(tmp_path) / ".mwaa-kit" / "native"
    assert postgres.cluster_dir(state) == state / "postgres"


def test_root_without_a_postgres_account_keeps_the_cluster_inside_until_up_says_why(
        monkeypatch, tmp_path):
    def no_account():
        raise postgres.PostgresUnavailableError("create a `postgres` user")

    monkeypatch.setattr(postgres, "_server_user", no_account)
    state = _private_project(tmp_path) / ".mwaa-kit" / "native"
    assert postgres.cluster_dir(state) == state / "postgres"


def test_a_data_folder_the_server_cannot_enter_is_refused_naming_the_folder(as_root,
                                                                           open_folder):
    project = _private_project(open_folder)
    with pytest.raises(postgres.DataDirUnreachableError) as refused:
        postgres.check_reachable(project / ".mwaa-kit" / "native" / "postgres")
    assert f"cannot enter {open_folder / 'private'} (mode drwx------)" in str(refused.value)
    assert f"chmod o+x {open_folder / 'private'}" in str(refused.value)


def test_purge_deletes_a_cluster_kept_outside_the_project(as_root, tmp_path):
    native = NativeEnvironment(Project(root=_private_project(tmp_path)))
    assert not native.postgres_dir.is_relative_to(native.state_dir)
    native.postgres_dir.mkdir(parents=True)
    (native.postgres_dir / "PG_VERSION").write_text("15\n")
    postgres.passfile(native.postgres_dir).write_text("127.0.0.1:*:*:airflow:secret\n")
    native.native_dir.mkdir(parents=True)
    native.down(purge=True)
    assert not native.state_dir.exists()
    assert not native.postgres_dir.parent.exists()
    assert as_root.exists()  # other projects' clusters stay
