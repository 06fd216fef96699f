"""Compose status: a stack runs when every service runs, the finished init job aside."""

from mwaa_kit.runtime.compose import stack


def test_an_exited_service_is_not_running_but_the_finished_init_job_is_fine():
    running = [{"service": "init", "state": "exited", "name": "i"},
               {"service": "scheduler", "state": "running", "name": "s"}]
    assert stack.ComposeEnvironment.all_running(running)
    dead = [*running[:1], {"service": "scheduler", "state": "exited", "name": "s"}]
    assert not stack.ComposeEnvironment.all_running(dead)
    assert not stack.ComposeEnvironment.all_running([])
