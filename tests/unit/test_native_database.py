from mwaa_kit.project import Project
from mwaa_kit.runtime.native import environment, postgres


def test_without_postgresql_the_runtime_falls_back_to_sqlite_and_says_so(tmp_path, monkeypatch):
    def missing():
        raise postgres.PostgresUnavailableError("No PostgreSQL server found.")

    monkeypatch.setattr(postgres, "find_bin_dir", missing)
    messages = []
    native = environment.NativeEnvironment(Project(root=tmp_path), messages.append)
    url = native._database_url({"postgres": 5432})
    assert url.startswith("sqlite:///") and url.endswith("airflow.db")
    assert any("WARNING" in m and "SQLite" in m for m in messages)


def test_with_postgresql_the_url_points_at_the_kit_s_server(tmp_path):
    native = environment.NativeEnvironment(Project(root=tmp_path))
    assert native._database_url({"postgres": 6543}) == (
        "postgresql+psycopg2://airflow@127.0.0.1:6543/airflow")
