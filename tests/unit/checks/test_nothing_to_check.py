"""A check with no input from the project does no work and says so: an empty
requirements.txt is not resolved, no [airflow_config] option starts no Airflow to look
options up, no plugin starts no Airflow to import plugins."""

import subprocess

import pytest
from click.testing import CliRunner

from mwaa_kit.checks import config, dags, plugins, requirements, runner
from mwaa_kit.checks.findings import CheckResult, Report
from mwaa_kit.checks.scratch import Step, StepOutcome
from mwaa_kit.cli import output
from mwaa_kit.cli.validate import emit
from mwaa_kit.cli.validate import validate as validate_command
from mwaa_kit.project import load_project


def _project(tmp_path, requirements_text=None, options="", plugin=False):
    (tmp_path / "dags").mkdir()
    (tmp_path / "mwaa-kit.toml").write_text(
        f'[environment]\nairflow_version = "3.3.1"\n{options}')
    if requirements_text is not None:
        (tmp_path / "requirements").mkdir()
        (tmp_path / "requirements" / "requirements.txt").write_text(requirements_text)
    if plugin:
        (tmp_path / "plugins" / "operators").mkdir(parents=True)
        (tmp_path / "plugins" / "operators" / "mine.py").write_text("X = 1\n")
    return load_project(tmp_path)


def _no_call(what):
    def called(*args, **kwargs):
        raise AssertionError(f"{what} ran for a project that gives it nothing to check")
    return called


@pytest.mark.parametrize("text", [None, "", "\n# only a comment\n   \n"])
def test_an_empty_requirements_file_is_not_resolved(tmp_path, monkeypatch, text):
    monkeypatch.setattr(requirements, "resolve", _no_call("uv pip compile"))
    result = CheckResult("requirements")
    requirements.run(_project(tmp_path, text), result)
    assert result.status == "passed"
    assert [(f.severity, f.file) for f in result.findings] == [("info", requirements.FILE)]
    assert result.details == {
        "nothing_to_check": "no requirements to resolve: the environment is MWAA's image alone"}


def test_a_file_with_only_an_option_line_is_still_resolved(tmp_path, monkeypatch):
    """A -c line changes how the image itself resolves: that is the user's to check."""
    seen = []

    def resolve(version, text, workdir, extra=()):
        seen.append(text)
        return subprocess.CompletedProcess([], 1, stdout="", stderr="× No solution found")

    monkeypatch.setattr(requirements, "resolve", resolve)
    result = CheckResult("requirements")
    requirements.run(_project(tmp_path, "-c https://example.com/mine.txt\n"), result)
    assert seen == ["-c https://example.com/mine.txt\n"]
    assert [f.code for f in result.errors] == ["requirements.unresolvable"]
    assert "nothing_to_check" not in result.details


def test_config_has_something_to_look_up_only_with_options(tmp_path):
    assert config.nothing_to_look_up(_project(tmp_path)) == \
        "no [airflow_config] options to look up"
    other = tmp_path / "other"
    other.mkdir()
    with_option = _project(other, options='[airflow_config]\n"core.parallelism" = "8"\n')
    assert config.nothing_to_look_up(with_option) is None


@pytest.mark.parametrize("requirements_text, plugin, idle", [
    (None, False, True),
    ("# nothing\n", False, True),
    (None, True, False),  # a module under plugins/
    ("apache-airflow-providers-openlineage\n", False, False),  # an entry-point plugin
    ("-r more.txt\n", False, False),  # it may bring one too
])
def test_plugins_have_something_to_import(tmp_path, requirements_text, plugin, idle):
    project = _project(tmp_path, requirements_text, plugin=plugin)
    reason = plugins.nothing_to_import(project)
    assert (reason == "no plugins to import: no Python module under plugins/ and no "
            "requirements") if idle else reason is None


def test_data_files_in_plugins_are_no_plugin(tmp_path):
    project = _project(tmp_path)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "lookup.csv").write_text("a,b\n")
    assert plugins.nothing_to_import(project)


class _FakeScratch:
    """Records the steps of each call for one Airflow interpreter."""

    left_out = []

    def __init__(self, started):
        self.started = started

    def run_steps(self, steps):
        self.started.append(list(steps))
        return {name: StepOutcome({}, None, 0.0) for name in steps}

    def close(self):
        pass


def _fake_airflow(monkeypatch):
    """Record which Airflow-backed parts the runner starts; no environment is built."""
    started = []
    prepared = []

    def prepare(project, report, **skips):
        prepared.append(project.root)
        return _FakeScratch(started)

    monkeypatch.setattr(runner, "prepare_scratch", prepare)
    monkeypatch.setattr(requirements, "resolve", _no_call("uv pip compile"))
    for module, step, findings in ((config, "options_step", "unknown_options"),
                                   (plugins, "imports_step", "import_findings"),
                                   (dags, "parse_step", "parse_findings")):
        monkeypatch.setattr(module, step, lambda scratch, **options: Step("script.py"))
        monkeypatch.setattr(module, findings, lambda scratch, report, result, **options: None)
    return started, prepared


def test_validate_starts_airflow_only_for_the_dags_of_a_bare_project(tmp_path, monkeypatch):
    started, prepared = _fake_airflow(monkeypatch)
    project = _project(tmp_path, "")
    outcome = runner.validate(project)
    assert started == [["dags"]] and prepared == [project.root]
    notes = {result.name: result.details.get("nothing_to_check") for result in outcome.results}
    assert notes == {
        "config": "no [airflow_config] options to look up",
        "startup": None,
        "requirements": "no requirements to resolve: the environment is MWAA's image alone",
        "plugins": "no plugins to import: no Python module under plugins/ and no requirements",
        "dags": None,
    }
    assert outcome.ok and all(result.status == "passed" for result in outcome.results)


def test_validate_starts_every_part_that_has_input(tmp_path, monkeypatch):
    started, _ = _fake_airflow(monkeypatch)
    project = _project(tmp_path, options='[airflow_config]\n"core.parallelism" = "8"\n',
                       plugin=True)
    runner.validate(project)
    assert started == [["config", "plugins", "dags"]]  # one Airflow start for the three


def test_a_check_with_nothing_to_check_prepares_no_environment(tmp_path, monkeypatch):
    """`validate --only config` without options builds no virtualenv (minutes the first
    time) and cannot be skipped for want of one."""
    started, prepared = _fake_airflow(monkeypatch)
    outcome = runner.validate(_project(tmp_path), only=["config", "plugins"])
    assert started == [] and prepared == []
    assert [result.status for result in outcome.results] == ["passed", "passed"]


def test_the_summary_says_why_a_check_did_nothing(tmp_path, monkeypatch):
    _fake_airflow(monkeypatch)
    monkeypatch.setattr(output.stdout, "width", 300)
    _project(tmp_path, "")
    result = CliRunner().invoke(
        validate_command, ["-p", str(tmp_path), "-q", "--only", "config", "--only",
                           "requirements"])
    assert result.exit_code == 0, result.output
    # escaped: rich does not read [airflow_config] as markup
    assert "no [airflow_config] options to look up" in result.output
    assert "no requirements to resolve: the environment is MWAA's image alone" in result.output


def test_the_findings_table_shows_section_names(capsys, monkeypatch):
    """Findings name Airflow sections ([core]) that rich would otherwise drop as markup."""
    monkeypatch.setattr(output.stdout, "width", 300)
    result = CheckResult("config")
    result.add("warning", "core.x: [core] has no option 'x'", file="mwaa-kit.toml",
               hint="check [core]")
    emit(Report("/p", "3.3.1", [result]), "table", None, False)
    out = capsys.readouterr().out
    assert "core.x: [core] has no option 'x'" in out and "check [core]" in out
