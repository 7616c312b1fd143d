"""Batches on concurrent.futures executors: threads and other processes."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from typing import Any

import pytest

from chainviz import RunnableLambda, RunnableParallel
from chainviz.errors import PicklingError, WorkerLost
from tests.batching import steps

pytest.importorskip("cloudpickle")


def chain() -> Any:
    return RunnableLambda(steps.double) | RunnableParallel(
        same=RunnableLambda(lambda x: x), plus=lambda x: x + 1
    )


def expected(n: int) -> list[dict[str, int]]:
    return [{"same": 2 * i, "plus": 2 * i + 1} for i in range(n)]


@pytest.fixture
def process_pool() -> Any:
    context = multiprocessing.get_context("spawn")  # what macOS/Windows do; no shared state
    with cf.ProcessPoolExecutor(2, mp_context=context) as pool:
        yield pool


def test_thread_pool_keeps_order_and_loses_nothing() -> None:
    with cf.ThreadPoolExecutor(3) as pool:
        assert chain().batch(list(range(23)), executor=pool, chunk_size=4) == expected(23)


def test_process_pool_runs_lambdas_shipped_with_cloudpickle(process_pool: Any) -> None:
    assert chain().batch(list(range(11)), executor=process_pool, chunk_size=3) == expected(11)


def test_records_carry_durations_measured_where_the_item_ran(process_pool: Any) -> None:
    records = list(chain().batch_records(list(range(6)), executor=process_pool, chunk_size=2))
    assert sorted(r.index for r in records) == list(range(6))
    for record in records:
        assert record.ok
        assert set(record.durations) == {"", "0", "1", "1/same", "1/plus"}
        assert all(seconds >= 0 for seconds in record.durations.values())
        assert record.worker.split(":")[1].isdigit()  # host:pid:thread of the worker


def test_errors_come_back_per_item(process_pool: Any) -> None:
    runnable = RunnableLambda(steps.fail_on_odd)
    out = runnable.batch(
        list(range(6)), executor=process_pool, chunk_size=2, return_exceptions=True
    )
    assert out[0::2] == [0, 2, 4]
    assert all(isinstance(e, ValueError) for e in out[1::2])
    with pytest.raises(ValueError, match="odd input"):
        runnable.batch(list(range(6)), executor=process_pool, chunk_size=2)


def test_an_unpicklable_step_is_named() -> None:
    runnable = RunnableParallel(fine=RunnableLambda(str), locked=RunnableLambda(steps.HoldsALock()))
    with cf.ProcessPoolExecutor(1) as pool, pytest.raises(PicklingError) as info:
        runnable.batch([1, 2], executor=pool)
    assert info.value.node_id == "locked"
    assert "'locked'" in str(info.value) and "lock" in str(info.value).lower()


def test_a_dead_worker_reports_its_items_as_failed_never_drops_them() -> None:
    runnable = RunnableLambda(steps.die_on_three)
    with cf.ProcessPoolExecutor(2) as pool:
        out = runnable.batch(list(range(8)), executor=pool, chunk_size=2, return_exceptions=True)
    assert len(out) == 8
    assert isinstance(out[3], WorkerLost) and isinstance(out[2], WorkerLost)
    # every other item either came back right or is reported lost with the broken pool
    for index, outcome in enumerate(out):
        assert outcome == index or isinstance(outcome, WorkerLost)
    assert "items 2–3" in str(out[3])


def test_abatch_with_an_executor() -> None:
    import asyncio

    with cf.ThreadPoolExecutor(2) as pool:
        out = asyncio.run(chain().abatch(list(range(5)), executor=pool, chunk_size=2))
    assert out == expected(5)


def test_bad_executor_and_chunk_size() -> None:
    from chainviz.errors import ConfigError

    with pytest.raises(ConfigError, match=r"concurrent\.futures\.Executor"):
        chain().batch([1], executor=object())
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(ConfigError, match="chunk_size"):
        chain().batch([1], executor=pool, chunk_size=0)
