"""Every uv call of the kit retries a failing registry for longer than uv's default and
trusts the system CAs, unless the user's environment says otherwise."""

from mwaa_kit.uv_settings import uv_environment


def test_the_kit_s_defaults_fill_what_the_environment_leaves_unset():
    env = uv_environment({"PATH": "/bin"})
    assert env == {"PATH": "/bin", "UV_SYSTEM_CERTS": "true", "UV_HTTP_RETRIES": "6",
                   "UV_PYTHON_DOWNLOADS": "never"}


def test_the_user_s_own_settings_win():
    env = uv_environment({"UV_HTTP_RETRIES": "2", "UV_SYSTEM_CERTS": "false"})
    assert env["UV_HTTP_RETRIES"] == "2" and env["UV_SYSTEM_CERTS"] == "false"


def test_without_a_base_it_starts_from_the_process_environment(monkeypatch):
    monkeypatch.setenv("MWAA_KIT_PROBE", "1")
    assert uv_environment()["MWAA_KIT_PROBE"] == "1"
