"""Stopping a batch with a cancel token: nothing is lost, nothing waits for what cannot
be stopped, and what had finished keeps its output."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from collections.abc import Iterator

import pytest

from chainviz import CancelToken, RunnableLambda
from chainviz.batching import ItemRecord
from chainviz.errors import RunCancelled
from tests.batching import steps

pytest.importorskip("cloudpickle")

LONG = 30.0  # seconds an item would take if the stop were not heard


def stop_after(
    records: Iterator[ItemRecord], token: CancelToken, finished: int
) -> list[ItemRecord]:
    """Collect every record, cancelling ``token`` once ``finished`` items came back."""
    seen: list[ItemRecord] = []
    for record in records:
        seen.append(record)
        if len(seen) == finished:
            token.cancel("stopped by the test")
    return seen


def check(seen: list[ItemRecord], size: int, quick: set[int]) -> None:
    assert sorted(r.index for r in seen) == list(range(size))  # each item once
    for record in seen:
        if record.index in quick:
            assert record.ok and record.output == 0
        else:
            assert isinstance(record.error, RunCancelled), record


@pytest.mark.parametrize("pool", [None, 3], ids=["local", "thread-pool"])
def test_a_stop_ends_running_items_here_and_keeps_finished_ones(pool: int | None) -> None:
    inputs = [0, 0, 0] + [LONG] * 9
    token = CancelToken()
    began = time.monotonic()
    executor = cf.ThreadPoolExecutor(pool) if pool else None
    try:
        records = steps.Nap().batch_records(
            inputs, executor=executor, chunk_size=1, cancel_token=token
        )
        seen = stop_after(records, token, 3)
    finally:
        if executor is not None:
            executor.shutdown(wait=True)
    assert time.monotonic() - began < LONG / 3
    check(seen, len(inputs), {0, 1, 2})


def test_a_stop_gives_up_on_chunks_running_in_other_processes() -> None:
    inputs = [0.0] + [1.5] * 7
    with cf.ProcessPoolExecutor(1) as pool:
        token = CancelToken()
        chain = RunnableLambda(steps.snooze)
        records = chain.batch_records(inputs, executor=pool, chunk_size=1, cancel_token=token)
        began = time.monotonic()
        seen = stop_after(records, token, 1)
        assert time.monotonic() - began < 1.2  # the running 1.5 s chunk was not waited for
    assert sorted(r.index for r in seen) == list(range(8))
    assert seen[0].ok and seen[0].index == 0
    assert all(isinstance(r.error, RunCancelled) for r in seen[1:])


def test_a_token_cancelled_before_the_batch_runs_nothing() -> None:
    token = CancelToken()
    token.cancel("no")
    calls: list[int] = []
    with cf.ThreadPoolExecutor(2) as pool:
        seen = list(RunnableLambda(calls.append).batch_records(
            list(range(5)), executor=pool, cancel_token=token))
    assert sorted(r.index for r in seen) == list(range(5))
    assert all(isinstance(r.error, RunCancelled) for r in seen) and not calls


@pytest.mark.parametrize("pool", [None, 2], ids=["local", "thread-pool"])
def test_a_token_never_cancelled_changes_nothing(pool: int | None) -> None:
    executor = cf.ThreadPoolExecutor(pool) if pool else None
    try:
        seen = list(steps.Nap().batch_records(
            [0.001] * 9, executor=executor, chunk_size=2, cancel_token=CancelToken()))
    finally:
        if executor is not None:
            executor.shutdown()
    assert sorted(r.index for r in seen) == list(range(9)) and all(r.ok for r in seen)


def test_a_token_never_cancelled_changes_nothing_in_other_processes() -> None:
    with cf.ProcessPoolExecutor(1) as pool:
        seen = list(RunnableLambda(steps.double).batch_records(
            list(range(5)), executor=pool, chunk_size=2, cancel_token=CancelToken()))
    assert sorted(r.output for r in seen) == [0, 2, 4, 6, 8]


def test_a_local_batch_stopped_while_threads_claim_items_loses_none() -> None:
    """Regression: a pool thread that claimed an item after the stop dropped it, and the
    batch waited for it forever."""
    def run(token: CancelToken, out: list[object]) -> None:
        out.extend(steps.Nap().batch(
            [LONG] * 40, {"max_concurrency": 4}, cancel_token=token, return_exceptions=True))

    for _ in range(5):
        token = CancelToken()
        out: list[object] = []
        runner = threading.Thread(target=run, args=(token, out), daemon=True)
        runner.start()
        time.sleep(0.1)  # the scout has fanned out: threads are waiting on items
        token.cancel("stopped by the test")
        runner.join(10)
        assert not runner.is_alive()
        assert len(out) == 40 and all(isinstance(o, RunCancelled) for o in out)
