"""The compose image's entrypoint says an expected failure in two lines, as the CLI does,
and leaves tracebacks to bugs: the container's log is what `mwaa-kit up` shows on failure."""

from mwaa_kit.contract.requirements import RequirementsError
from mwaa_kit.runtime.compose import entrypoint


def test_an_expected_failure_is_said_without_a_traceback(monkeypatch, capsys):
    def fail(*arguments):
        raise RequirementsError("The requirements could not be installed: no network",
                                hint="check the proxy")

    monkeypatch.setattr(entrypoint, "main", fail)

    assert entrypoint.run(["scheduler"]) == 1
    err = capsys.readouterr().err
    assert err == ("mwaa-kit: error: The requirements could not be installed: no network\n"
                   "mwaa-kit: hint: check the proxy\n")


def test_a_bug_keeps_its_traceback(monkeypatch):
    def crash(*arguments):
        raise ZeroDivisionError

    monkeypatch.setattr(entrypoint, "main", crash)

    try:
        entrypoint.run(["scheduler"])
    except ZeroDivisionError:
        return
    raise AssertionError("a bug was swallowed")
