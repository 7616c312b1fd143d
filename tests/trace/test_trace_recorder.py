"""The recorder, on real runs through both the sync and the async path."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from trace_fakes import FakeChatModel, FakeMessage, Sleep, run

from chainviz import CancelToken, RunnableGenerator, RunnableLambda, RunnableParallel
from chainviz.errors import RunCancelled
from chainviz.trace import Recorder, Trace


def _double(x: int) -> int:
    return x * 2


def _fail(x: Any) -> Any:
    raise ValueError("the branch broke")


def test_a_sequence_is_recorded_step_by_step(mode: str) -> None:
    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(lambda x: x + 1, name="inc")
    assert run(chain, 5, {"callbacks": [recorder]}, mode) == 11
    trace = recorder.last
    assert isinstance(trace, Trace)
    assert trace.node_ids() == ["", "0", "1"]
    assert trace.root.kind == "sequence"
    assert trace.node("0").name == "_double"
    assert trace.node("1").name == "inc"
    assert [trace.node(n).output for n in ("0", "1", "")] == [10, 11, 11]
    assert trace.node("0").input == 5
    for run_ in trace.runs:
        assert run_.status == "done"
        assert run_.end_ns is not None and run_.start_ns <= run_.end_ns
    first, second = trace.node("0"), trace.node("1")
    assert first.end_ns is not None and first.end_ns <= second.start_ns
    assert trace.parent(first) is trace.root
    assert trace.children(trace.root) == (first, second)


def test_parallel_branches_overlap_and_the_slow_one_is_critical(mode: str) -> None:
    recorder = Recorder()
    chain = RunnableParallel(fast=Sleep(0.01, "f"), slow=Sleep(0.06, "s"))
    assert run(chain, None, {"callbacks": [recorder]}, mode) == {"fast": "f", "slow": "s"}
    trace = recorder.last
    fast, slow = trace.node("fast"), trace.node("slow")
    assert fast.end_ns is not None and slow.end_ns is not None
    # The branches ran at once: each started before the other ended.
    assert fast.start_ns < slow.end_ns and slow.start_ns < fast.end_ns
    assert trace.critical_path() == ["", "slow"]
    summaries = trace.node_summaries()
    assert set(summaries) == {"", "fast", "slow"}
    assert summaries["slow"]["status"] == "done"
    assert summaries["slow"]["tokens"] == 0
    latency = summaries["slow"]["latency_s"]
    assert latency is not None and latency == pytest.approx((slow.end_ns - slow.start_ns) / 1e9)


def test_a_failing_branch_records_error_and_cancelled_siblings(mode: str) -> None:
    recorder = Recorder()
    waiting = Sleep(30.0)
    chain = RunnableParallel(bad=RunnableLambda(_fail), waits=waiting)
    with pytest.raises(ValueError, match="the branch broke"):
        run(chain, None, {"callbacks": [recorder]}, mode)
    trace = recorder.last
    summaries = trace.node_summaries()
    assert summaries["bad"]["status"] == "error"
    assert summaries[""]["status"] == "error"
    bad = trace.node("bad")
    assert bad.error is not None
    assert bad.error.type == "ValueError"
    assert bad.error.message == "the branch broke"
    assert isinstance(bad.exception, ValueError)
    if waiting.started.is_set():  # a sibling that got going is cancelled, not left running
        assert summaries["waits"]["status"] == "cancelled"
        assert trace.node("waits").reason
    assert all(r.status != "running" for r in trace.runs)
    assert trace.critical_path() == ["", "bad"]


def test_a_cancelled_run_is_recorded_as_cancelled(mode: str) -> None:
    recorder = Recorder()
    sleeper = Sleep(30.0)
    chain = RunnableLambda(_double) | sleeper
    token = CancelToken()
    outcome: list[BaseException] = []

    def target() -> None:
        try:
            run(chain, 1, {"callbacks": [recorder]}, mode, cancel_token=token)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    assert sleeper.started.wait(10)
    token.cancel("stopped by the test")
    thread.join(10)
    assert not thread.is_alive()
    assert outcome and isinstance(outcome[0], RunCancelled | asyncio.CancelledError)
    trace = recorder.last
    assert trace.node("0").status == "done"
    assert trace.node("1").status == "cancelled"
    assert trace.status == "cancelled"
    assert trace.node_summaries()["1"]["latency_s"] is not None


def test_a_snapshot_taken_mid_run_shows_running_steps() -> None:
    recorder = Recorder()
    sleeper = Sleep(30.0)
    token = CancelToken()
    chain = RunnableLambda(_double) | sleeper
    def target() -> None:
        with pytest.raises(RunCancelled):
            chain.invoke(1, {"callbacks": [recorder]}, cancel_token=token)

    thread = threading.Thread(target=target)
    thread.start()
    try:
        assert sleeper.started.wait(10)
        live = recorder.last
        assert live.status == "running"
        assert live.node("1").status == "running"
        assert live.node("1").end_ns is None
        summary = live.node_summaries()
        assert summary["1"] == {"status": "running", "latency_s": None, "tokens": 0}
        assert summary["0"]["status"] == "done"
        assert live.critical_path() == ["", "0", "1"]
    finally:
        token.cancel("test over")
        thread.join(10)
    assert recorder.last.node("1").status == "cancelled"  # a new snapshot, the old is unchanged
    assert live.node("1").status == "running"


def test_model_tokens_and_usage_are_recorded(mode: str) -> None:
    recorder = Recorder()
    chain = RunnableLambda(lambda topic: f"tell me a joke about {topic}") | FakeChatModel()
    message = run(chain, "bears", {"callbacks": [recorder]}, mode)
    assert isinstance(message, FakeMessage)
    model = recorder.last.node("1")
    assert model.kind == "model"
    assert model.tokens == 6  # one token event per word of the prompt
    assert model.output is message
    assert model.usage == {
        "model_name": "fake-gpt-1", "input_tokens": 6, "output_tokens": 3, "total_tokens": 9
    }
    assert recorder.last.node_summaries()["1"]["tokens"] == 6


def _words(chunks: Any) -> Any:
    for chunk in chunks:
        for word in str(chunk).split():
            yield word + " "


def test_a_streamed_run_is_one_trace_with_its_tree(mode: str) -> None:
    recorder = Recorder()
    chain = RunnableLambda(lambda x: f"{x} and more") | RunnableGenerator(_words)
    config = {"callbacks": [recorder]}
    if mode == "sync":
        chunks = list(chain.stream("bears", config))
    else:

        async def collect() -> list[Any]:
            return [chunk async for chunk in chain.astream("bears", config)]

        chunks = asyncio.run(collect())
    assert chunks == ["bears ", "and ", "more "]
    assert len(recorder.traces) == 1
    trace = recorder.last
    assert trace.node_ids() == ["", "0", "1"]
    assert [trace.parent(trace.node(n)) for n in ("0", "1")] == [trace.root, trace.root]
    assert trace.node("1").output == "bears and more "
    assert trace.critical_path() == ["", "0", "1"]


def test_one_recorder_keeps_every_run(mode: str) -> None:
    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    for value in (1, 2, 3):
        run(chain, value, {"callbacks": [recorder]}, mode)
    assert len(recorder.traces) == 3
    assert repr(recorder) == "<Recorder: 3 run(s), 18 event(s)>"
    assert [t.output for t in recorder.traces] == [4, 8, 12]
    assert recorder.last.output == 12
    assert len({t.trace_id for t in recorder.traces}) == 3
    recorder.clear()
    assert recorder.traces == []


def test_an_empty_recorder_says_how_to_use_it() -> None:
    with pytest.raises(LookupError, match="callbacks"):
        _ = Recorder().last
    empty = Recorder()
    assert repr(empty) == "<Recorder: 0 run(s), 0 event(s)>"
    assert empty  # an empty recorder is still a recorder (no __len__ to make it falsy)
    assert empty._repr_mimebundle_() == {"text/plain": repr(empty)}


def test_traces_are_built_lazily_and_cached() -> None:
    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    chain.invoke(1, {"callbacks": [recorder]})
    first = recorder.traces
    assert recorder.traces[0] is first[0]  # nothing new: the same snapshot
    chain.invoke(2, {"callbacks": [recorder]})
    assert len(recorder.traces) == 2


def test_a_retried_step_keeps_every_attempt() -> None:
    attempts = {"n": 0}

    def flaky(x: int) -> int:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ConnectionError("try again")
        return x

    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(flaky).with_retry(
        wait_exponential_jitter=False, stop_after_attempt=3
    )
    assert chain.invoke(4, {"callbacks": [recorder]}) == 8
    trace = recorder.last
    assert [r.status for r in trace.runs_of("1")] == ["error", "error", "done"]
    assert trace.node_summaries()["1"]["status"] == "done"
    assert len(recorder.traces) == 1


def test_a_recorder_bound_to_an_inner_step_records_that_step() -> None:
    recorder = Recorder()
    inner = (RunnableLambda(_double) | RunnableLambda(_double)).with_config(callbacks=[recorder])
    chain = RunnableLambda(_double) | inner
    assert chain.invoke(1) == 8
    trace = recorder.last
    assert trace.root.node_id == "1"
    assert trace.node_ids() == ["1", "1/0", "1/1"]
    assert trace.critical_path() == ["1", "1/0", "1/1"]


# ------------------------------------------------------------------ threads and tasks


def _check_complete(trace: Trace, value: int) -> None:
    assert trace.node_ids() == ["", "a", "b"] or trace.node_ids() == ["", "b", "a"]
    assert all(r.status == "done" for r in trace.runs)
    assert trace.output == {"a": value * 2, "b": value + 1}


def test_runs_from_many_threads_are_kept_apart() -> None:
    recorder = Recorder()
    chain = RunnableParallel(a=RunnableLambda(_double), b=RunnableLambda(lambda x: x + 1))
    barrier = threading.Barrier(8)

    def worker(offset: int) -> None:
        barrier.wait()
        for i in range(25):
            chain.invoke(offset * 100 + i, {"callbacks": [recorder]})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    traces = recorder.traces
    assert len(traces) == 200
    assert len(recorder.events) == 200 * 6
    for trace in traces:
        _check_complete(trace, trace.root.input)
    assert sorted(t.root.input for t in traces) == sorted(
        n * 100 + i for n in range(8) for i in range(25)
    )


def test_runs_from_many_tasks_are_kept_apart() -> None:
    recorder = Recorder()

    async def add_one(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    chain = RunnableParallel(a=RunnableLambda(_double), b=RunnableLambda(add_one))

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(chain.ainvoke(i, {"callbacks": [recorder]}) for i in range(50))
        )

    asyncio.run(main())
    traces = recorder.traces
    assert len(traces) == 50
    for trace in traces:
        _check_complete(trace, trace.root.input)


def test_a_batch_with_one_recorder_gives_one_trace_per_item() -> None:
    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    assert chain.batch([1, 2, 3, 4], {"callbacks": [recorder]}) == [4, 8, 12, 16]
    assert sorted(t.output for t in recorder.traces) == [4, 8, 12, 16]


def test_on_event_is_safe_to_hammer_from_threads_while_reading() -> None:
    recorder = Recorder()
    chain = RunnableLambda(_double) | RunnableLambda(_double)
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            seen.append(len(recorder.traces))
            time.sleep(0)

    reading = threading.Thread(target=reader)
    reading.start()
    def invoke_many() -> None:
        for _ in range(50):
            chain.invoke(1, {"callbacks": [recorder]})

    workers = [threading.Thread(target=invoke_many) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    stop.set()
    reading.join()
    assert len(recorder.traces) == 200
    assert seen == sorted(seen)  # snapshots only ever grow
