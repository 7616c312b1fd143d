"""Parallelism is shown by barriers, gauges and overlapping event intervals, never by
wall-clock thresholds."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from chainviz import RunEvent, RunnableLambda, RunnableParallel
from chainviz.core.pool import shared_pool
from chainviz.errors import completed_outputs, failed_node_id
from tests.core.helpers import Gauge, Sleep, run_mode


@pytest.mark.parametrize("size", [8, 64])
def test_branches_meet_at_a_barrier(mode: str, size: int) -> None:
    barrier = threading.Barrier(size, timeout=30)

    def meet(x: int) -> int:
        barrier.wait()
        return x

    chain = RunnableParallel({f"b{i}": RunnableLambda(meet) for i in range(size)})
    assert run_mode(mode, chain, 7) == {f"b{i}": 7 for i in range(size)}


@pytest.mark.parametrize("limit", [1, 3])
def test_max_concurrency_peak_is_exactly_the_limit(mode: str, limit: int) -> None:
    gauge = Gauge()

    def hold(x: int) -> int:
        with gauge:
            time.sleep(0.02)
        return x

    chain = RunnableParallel({f"b{i}": RunnableLambda(hold) for i in range(8)})
    run_mode(mode, chain, 1, {"max_concurrency": limit})
    assert gauge.peak == limit


def test_max_concurrency_counts_leaves_across_nested_parallels(mode: str) -> None:
    gauge = Gauge()

    def hold(x: int) -> int:
        with gauge:
            time.sleep(0.01)
        return x

    def level(depth: int) -> Any:
        if depth == 0:
            return RunnableLambda(hold)
        return RunnableParallel(a=level(depth - 1), b=level(depth - 1))

    chain = level(3)
    out = run_mode(mode, chain, 1, {"max_concurrency": 1})
    assert out["a"]["b"]["a"] == 1
    assert gauge.peak == 1
    run_mode(mode, chain, 1, {"max_concurrency": 2})
    assert gauge.peak == 2


def test_async_branches_overlap() -> None:
    events: list[RunEvent] = []

    async def wait(x: int) -> int:
        await asyncio.sleep(0.05)
        return x

    chain = RunnableParallel(a=RunnableLambda(wait), b=RunnableLambda(wait))
    asyncio.run(chain.ainvoke(1, {"callbacks": [events.append]}))
    spans = {
        e.node_id: [x.time_ns for x in events if x.run_id == e.run_id]
        for e in events
        if e.type == "start" and e.node_id in ("a", "b")
    }
    (a_start, a_end), (b_start, b_end) = spans["a"], spans["b"]
    assert a_start < b_end and b_start < a_end


def test_first_failure_raises_original_exception_with_note(mode: str) -> None:
    events: list[RunEvent] = []

    slow = Sleep(30)

    def boom(_: Any) -> None:
        slow.started.wait(10)  # fail while the slow sibling is running
        raise KeyError("missing")

    chain = RunnableParallel(
        joke=RunnableLambda(lambda x: "ha"),
        poem=RunnableLambda(str) | boom,
        slow=slow,
    )
    with pytest.raises(KeyError) as info:
        run_mode(mode, chain, 1, {"callbacks": [events.append]})
    assert failed_node_id(info.value) == "poem/1"
    assert any("poem/1" in note for note in info.value.__notes__)
    # the finished branch's output stays reachable from the exception and the events
    assert completed_outputs(info.value) == {"joke": "ha"}
    assert any(e.type == "end" and e.node_id == "joke" and e.output == "ha" for e in events)
    cancelled = {e.node_id for e in events if e.type == "cancel"}
    assert "slow" in cancelled
    assert not any(e.type == "end" and e.node_id == "slow" for e in events)


@pytest.mark.parametrize("leaf", ["sync", "async"])
def test_untraced_failure_keeps_note_outputs_and_stops_siblings(mode: str, leaf: str) -> None:
    # Without a sink, branches take the core's fast path (no per-step events): the
    # failure must still name its node, keep finished outputs and stop the slow sibling.
    slow = Sleep(30)
    joked = threading.Event()

    # Fail while the slow sibling runs and after joke has returned. (joke's output is
    # recorded just after it returns, out of sight: the pause lets that happen.)
    def boom_sync(_: Any) -> None:
        slow.started.wait(10)
        joked.wait(10)
        time.sleep(0.05)
        raise KeyError("missing")

    async def boom_async(_: Any) -> None:
        while not (slow.started.is_set() and joked.is_set()):
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.05)
        raise KeyError("missing")

    def joke_sync(_: Any) -> str:
        joked.set()
        return "ha"

    async def joke_async(_: Any) -> str:
        joked.set()
        return "ha"

    boom = boom_sync if leaf == "sync" else boom_async
    joke = joke_sync if leaf == "sync" else joke_async
    chain = RunnableParallel(joke=RunnableLambda(joke), poem=RunnableLambda(boom), slow=slow)
    with pytest.raises(KeyError) as info:
        run_mode(mode, chain, 1)
    assert failed_node_id(info.value) == "poem"
    assert sum("poem" in note for note in info.value.__notes__) == 1
    assert completed_outputs(info.value) == {"joke": "ha"}
    assert slow.started.is_set()


def test_waiting_async_branches_keep_no_step_alive() -> None:
    # A branch's Step is needed only to start a plain async function: thousands of
    # waiting branches must not keep thousands of Steps alive (each survivor makes the
    # garbage collector run more often; 10,000 branches were 0.8x asyncio.gather).
    import gc

    from chainviz.core.run import Step

    size = 500
    seen: list[int] = []
    started = 0

    async def wait(x: int) -> int:
        nonlocal started
        started += 1
        await asyncio.sleep(0.05)
        return x

    async def count(x: int) -> int:
        while started < size:
            await asyncio.sleep(0.001)
        seen.append(
            sum(isinstance(o, Step) and o.node_id.startswith("waiting-") for o in gc.get_objects())
        )
        return x

    chain = RunnableParallel(
        {**{f"waiting-{i}": RunnableLambda(wait) for i in range(size)}, "count": count}
    )
    assert asyncio.run(chain.ainvoke(1))["waiting-0"] == 1
    assert seen == [0]  # none of the waiting branches' Steps is alive while they wait


def test_untraced_nested_failure_is_noted_at_the_innermost_node(mode: str) -> None:
    async def boom(_: Any) -> None:
        raise ValueError("no")

    chain = RunnableParallel(
        outer=RunnableParallel(inner=RunnableLambda(str) | RunnableLambda(boom), ok=str),
        other=RunnableLambda(str),
    )
    with pytest.raises(ValueError) as info:
        run_mode(mode, chain, 1)
    assert failed_node_id(info.value) == "outer/inner/1"
    assert len([n for n in info.value.__notes__ if n.startswith("chainviz: raised")]) == 1


def test_sibling_threads_stop_and_no_event_after_the_last(mode: str) -> None:
    events: list[RunEvent] = []
    release = threading.Event()

    def blocked(x: Any) -> Any:
        release.wait(10)  # a user function that ignores cancellation
        return x

    def boom(_: Any) -> None:
        raise ValueError("no")

    after_blocked = RunnableLambda(lambda x: x)
    chain = RunnableParallel(stuck=RunnableLambda(blocked) | after_blocked, bad=boom)
    with pytest.raises(ValueError):
        run_mode(mode, chain, 1, {"callbacks": [events.append]})
    count = len(events)
    assert events[-1].node_id == "" and events[-1].type == "error"
    release.set()
    time.sleep(0.2)  # give the straggler thread time to reach its next boundary
    assert len(events) == count
    assert not any(e.node_id == "stuck/1" for e in events)


def test_retry_filters_still_match(mode: str) -> None:
    attempts = 0

    def flaky(x: int) -> int:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("try again")
        return x

    chain = RunnableParallel(
        a=RunnableLambda(flaky).with_retry(
            retry_if_exception_type=(ConnectionError,), wait_exponential_jitter=False
        ),
        b=RunnableLambda(str),
    )
    assert run_mode(mode, chain, 5) == {"a": 5, "b": "5"}
    assert attempts == 3


def test_retry_gives_up_and_does_not_retry_other_types(mode: str) -> None:
    calls = 0

    def bad(_: Any) -> None:
        nonlocal calls
        calls += 1
        raise TypeError("never retried")

    chain = RunnableLambda(bad).with_retry(retry_if_exception_type=(ConnectionError,))
    with pytest.raises(TypeError):
        run_mode(mode, chain, 1)
    assert calls == 1


def test_fallbacks(mode: str) -> None:
    def bad(_: Any) -> None:
        raise RuntimeError("primary down")

    chain = RunnableLambda(bad).with_fallbacks([RunnableLambda(lambda x: f"backup {x}")])
    assert run_mode(mode, chain, 1) == "backup 1"
    only_value = RunnableLambda(bad).with_fallbacks(
        [RunnableLambda(str)], exceptions_to_handle=(ValueError,)
    )
    with pytest.raises(RuntimeError):
        run_mode(mode, only_value, 1)


def test_cancel_token_stops_a_run_from_another_thread(mode: str) -> None:
    from chainviz import CancelToken
    from chainviz.errors import RunCancelled

    token = CancelToken()
    events: list[RunEvent] = []
    timer = threading.Timer(0.1, token.cancel, args=("stop pressed",))
    timer.start()
    chain = RunnableParallel(a=Sleep(30), b=Sleep(30))
    with pytest.raises(RunCancelled):
        run_mode(mode, chain, 1, {"callbacks": [events.append]}, cancel_token=token)
    assert {e.node_id for e in events if e.type == "cancel"} >= {"a", "b", ""}


def test_keyboard_interrupt_cancels_branches() -> None:
    import _thread
    import signal

    # Jupyter's Interrupt is SIGINT with Python's own handler; other libraries loaded
    # earlier in the test process (Dask, Playwright) may have replaced it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_during_a_parallel(_thread.interrupt_main)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_during_a_parallel(interrupt: Any) -> None:
    events: list[RunEvent] = []
    timer = threading.Timer(0.2, interrupt)
    timer.start()
    chain = RunnableParallel(a=Sleep(30), b=Sleep(30))
    with pytest.raises(KeyboardInterrupt):
        chain.invoke(1, {"callbacks": [events.append]})
    assert {e.node_id for e in events if e.type == "cancel"} >= {"a", "b", ""}
    assert not any(e.type == "end" for e in events)


def test_the_pool_is_shared_not_created_per_call() -> None:
    chain = RunnableParallel(a=RunnableLambda(str), b=RunnableLambda(str))
    pool = shared_pool()
    before = pool.thread_count
    for _ in range(50):
        chain.invoke(1)
    assert shared_pool() is pool
    assert pool.thread_count <= before + 2
