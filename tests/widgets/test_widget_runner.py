"""Runs for a view: foreground, background and awaited; Stop and Interrupt cancel them."""

from __future__ import annotations

import _thread
import asyncio
import threading
from typing import Any

import pytest
from widget_steps import Fail, Sleep

from chainviz import RunnableParallel
from chainviz.core import events as ev
from chainviz.errors import RunCancelled
from chainviz.widgets.runner import Outcome, RunBusy, Runner


class Hooks:
    def __init__(self) -> None:
        self.events: list[ev.RunEvent] = []
        self.outcomes: list[Outcome] = []
        self.begun = 0

    def begin(self) -> Any:
        self.begun += 1
        return {"callbacks": [self.events.append]}

    def end(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)


def runner() -> tuple[Runner, Hooks]:
    hooks = Hooks()
    return Runner(hooks.begin, hooks.end), hooks


def test_a_foreground_run_returns_the_output_between_its_hooks() -> None:
    run, hooks = runner()
    assert run.run(Sleep(0, "out"), None) == "out"
    assert hooks.begun == 1
    assert [o.status for o in hooks.outcomes] == ["done"]
    assert hooks.outcomes[0].output == "out"
    assert {e.type for e in hooks.events} == {"start", "end"}
    assert not run.busy


def test_a_failure_is_raised_again_after_the_end_hook() -> None:
    run, hooks = runner()
    with pytest.raises(ValueError, match="nope"):
        run.run(Fail("nope"), None)
    assert hooks.outcomes[0].status == "error"
    assert isinstance(hooks.outcomes[0].error, ValueError)


def test_stop_cancels_the_running_branches_of_a_background_run_and_keeps_the_others() -> None:
    slow = Sleep(30.0)
    chain = RunnableParallel(fast=Sleep(0, "quick"), slow=slow)
    run, hooks = runner()
    future = run.start(chain, None)
    assert slow.started.wait(5.0)
    assert run.busy
    with pytest.raises(RunBusy, match="already running"):
        run.run(chain, None)
    assert run.stop()
    with pytest.raises(RunCancelled):
        future.result(timeout=5.0)
    assert run.wait(5.0)
    outcome = hooks.outcomes[-1]
    assert (outcome.status, outcome.reason) == ("cancelled", "stopped")
    ends = {e.node_id: e.type for e in hooks.events if e.type != "start"}
    assert ends["fast"] == "end" and ends["slow"] == "cancel"
    assert not run.stop()  # nothing left to stop


def test_interrupt_during_a_foreground_run_cancels_it_and_is_raised_again() -> None:
    slow = Sleep(30.0)
    chain = RunnableParallel(fast=Sleep(0, "quick"), slow=slow)
    run, hooks = runner()

    def interrupt() -> None:
        slow.started.wait(5.0)
        _thread.interrupt_main()  # what Jupyter's Interrupt does to a blocked cell

    threading.Thread(target=interrupt).start()
    with pytest.raises(KeyboardInterrupt):
        run.run(chain, None)
    outcome = hooks.outcomes[-1]
    assert (outcome.status, outcome.reason) == ("cancelled", "interrupted")
    ends = {e.node_id: e.type for e in hooks.events if e.type != "start"}
    assert ends["fast"] == "end" and ends["slow"] == "cancel"
    assert not run.busy


def test_an_awaited_run_and_its_stop() -> None:
    slow = Sleep(30.0)
    chain = RunnableParallel(fast=Sleep(0, "quick"), slow=slow)
    run, hooks = runner()

    async def main() -> None:
        assert await run.arun(Sleep(0, "a"), None) == "a"
        task = asyncio.ensure_future(run.arun(chain, None))
        while not slow.started.is_set():
            await asyncio.sleep(0.01)
        run.stop()
        with pytest.raises(RunCancelled):
            await task

    asyncio.run(main())
    assert [o.status for o in hooks.outcomes] == ["done", "cancelled"]
    assert not run.busy


def test_a_failing_begin_hook_leaves_the_runner_free() -> None:
    def begin() -> Any:
        raise RuntimeError("no config")

    run = Runner(begin, lambda outcome: None)
    with pytest.raises(RuntimeError):
        run.run(Sleep(0), None)
    assert not run.busy
    future = run.start(Sleep(0), None)
    with pytest.raises(RuntimeError):
        future.result(timeout=5)
    assert run.wait(5)
