"""A step waiting for a ``max_concurrency`` slot has not started yet: its start event
comes when it gets the slot, so traces and waterfalls show the steps one after another
rather than all starting at once with the queueing counted as their own time."""

from __future__ import annotations

import itertools
import time

import pytest

from chainviz import CancelToken, EndEvent, RunEvent, RunnableLambda, RunnableParallel, StartEvent
from chainviz.errors import RunCancelled
from tests.core.helpers import run_mode


def _intervals(events: list[RunEvent]) -> dict[str, tuple[int, int]]:
    starts = {e.node_id: e.time_ns for e in events if isinstance(e, StartEvent)}
    ends = {e.node_id: e.time_ns for e in events if isinstance(e, EndEvent)}
    return {node: (starts[node], ends[node]) for node in ends if node}


def test_a_limit_of_one_gives_intervals_that_do_not_overlap(mode: str) -> None:
    events: list[RunEvent] = []
    def work(x: int) -> int:
        time.sleep(0.005)
        return x

    chain = RunnableParallel({f"b{i}": RunnableLambda(work) for i in range(6)})
    run_mode(mode, chain, 1, {"max_concurrency": 1, "callbacks": [events.append]})
    intervals = sorted(_intervals(events).values())
    assert len(intervals) == 6
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end <= start


def test_a_step_cancelled_while_queued_never_starts() -> None:
    events: list[RunEvent] = []
    token = CancelToken()

    def stop_the_run(x: int) -> int:
        token.cancel("stopped")  # whichever branch runs first; the other is queued
        return x

    chain = RunnableParallel(a=RunnableLambda(stop_the_run), b=RunnableLambda(stop_the_run))
    with pytest.raises(RunCancelled):
        chain.invoke(1, {"max_concurrency": 1, "callbacks": [events.append]},
                     cancel_token=token)
    started = {e.node_id for e in events if isinstance(e, StartEvent)} - {""}
    assert len(started) == 1
