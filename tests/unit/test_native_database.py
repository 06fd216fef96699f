from mwaa_kit import catalog
from mwaa_kit.project import Project
from mwaa_kit.runtime.native import environment, postgres


def test_without_postgresql_the_runtime_falls_back_to_sqlite_and_says_so(tmp_path, monkeypatch):
    def missing():
        raise postgres.PostgresUnavailableError("No PostgreSQL server found.")

    monkeypatch.setattr(postgres, "find_bin_dir", missing)
    messages = []
    native = environment.NativeEnvironment(Project(root=tmp_path), messages.append)
    url = native._database_url({"postgres": 5432})
    assert url == f"sqlite:///{native.home / 'airflow.db'}"
    assert any("WARNING" in m and "SQLite" in m for m in messages)


def test_with_postgresql_the_url_points_at_the_version_s_database_on_the_kit_s_server(tmp_path):
    native = environment.NativeEnvironment(Project(root=tmp_path, airflow_version="2.11.0"))
    assert native._database_url({"postgres": 6543}) == (
        "postgresql+psycopg2://airflow@127.0.0.1:6543/airflow_2_11_0")


def test_each_catalog_version_has_its_own_plain_database_name():
    names = {version: postgres.database_name(version) for version in catalog.supported_versions()}
    assert names["3.3.1"] == "airflow_3_3_1"
    assert len(set(names.values())) == len(names)
    assert all(name.isidentifier() and name == name.lower() for name in names.values())


def test_odd_version_strings_still_make_a_plain_name():
    assert postgres.database_name("3.4.0rc1") == "airflow_3_4_0rc1"
    assert postgres.database_name("3.4.0+local-Build") == "airflow_3_4_0_local_build"


def test_each_version_gets_its_own_airflow_home_beside_the_shared_state(tmp_path):
    new = environment.NativeEnvironment(Project(root=tmp_path, airflow_version="3.3.1"))
    old = environment.NativeEnvironment(Project(root=tmp_path, airflow_version="2.11.0"))
    assert new.home == tmp_path / ".mwaa-kit" / "airflow-home" / "3.3.1"
    assert old.home == tmp_path / ".mwaa-kit" / "airflow-home" / "2.11.0"
    assert (new.database, old.database) == ("airflow_3_3_1", "airflow_2_11_0")
    # What a switch must keep: one PostgreSQL cluster, the logs, the stub's data and the
    # admin password live outside the version's folder.
    assert new.native_dir == old.native_dir and new.password_file() == old.password_file()
    assert not new.native_dir.is_relative_to(new.home)
