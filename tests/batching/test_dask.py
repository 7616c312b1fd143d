"""Batches on Dask: a LocalCluster on 127.0.0.1, and a scheduler and a worker started as
separate processes from another directory. CHAINVIZ_REQUIRE_DASK=1 turns a skip into a
failure (CI sets it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainviz import CancelToken, RunnableLambda, RunnableParallel
from chainviz.batching.worker import started_topic
from chainviz.errors import RunCancelled, WorkerLost
from tests.batching import steps
from tests.batching.dask_support import distributed

pytestmark = pytest.mark.slow


def test_batch_on_a_local_cluster(client: Any) -> None:
    chain = RunnableLambda(lambda x: x * 2) | RunnableParallel(a=lambda x: x, b=lambda x: -x)
    out = chain.batch(list(range(40)), executor=client, chunk_size=7)
    assert out == [{"a": 2 * i, "b": -2 * i} for i in range(40)]
    records = list(chain.batch_records(list(range(10)), executor=client, chunk_size=3))
    assert sorted(r.index for r in records) == list(range(10))
    assert {r.worker.split(":")[1] for r in records} - {str(os.getpid())}  # ran elsewhere
    assert all(set(r.durations) == {"", "0", "1", "1/a", "1/b"} for r in records)


def test_identical_calls_are_not_deduplicated(client: Any) -> None:
    out = RunnableLambda(lambda _: __import__("uuid").uuid4().hex).batch(
        ["same"] * 6, executor=client, chunk_size=1
    )
    assert len(set(out)) == 6  # pure=False: six samples, not one result six times


def test_errors_per_item_and_first_error_raises(client: Any) -> None:
    def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    chain = RunnableLambda(odd_fails)
    out = chain.batch(list(range(6)), executor=client, chunk_size=2, return_exceptions=True)
    assert out[0::2] == [0, 2, 4] and all(isinstance(e, ValueError) for e in out[1::2])
    with pytest.raises(ValueError):
        chain.batch(list(range(6)), executor=client, chunk_size=2)


def test_live_item_events_reach_the_client(client: Any) -> None:
    seen: list[dict[str, Any]] = []
    client.subscribe_topic("chainviz-test-topic", lambda event: seen.append(event[1]))
    chain = RunnableLambda(lambda x: x + 1)
    records = list(
        chain.batch_records(list(range(8)), executor=client, topic="chainviz-test-topic")
    )
    assert len(records) == 8
    deadline = time.monotonic() + 10
    while len(seen) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(e["index"] for e in seen) == list(range(8))
    assert all(e["ok"] and "" in e["durations"] for e in seen)


def test_workers_announce_each_chunk_they_start(client: Any) -> None:
    starts: list[dict[str, Any]] = []
    topic = "chainviz-test-starts"
    client.subscribe_topic(started_topic(topic), lambda event: starts.append(event[1]))
    try:
        records = list(RunnableLambda(steps.double).batch_records(
            list(range(9)), executor=client, chunk_size=4, topic=topic))
        assert len(records) == 9
        deadline = time.monotonic() + 10
        while len(starts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.unsubscribe_topic(started_topic(topic))
    assert sorted(tuple(s["indices"]) for s in starts) == [(0, 1, 2, 3), (4, 5, 6, 7), (8,)]
    assert all(s["worker"].split(":")[1] != str(os.getpid()) for s in starts)


def test_a_stop_cancels_the_chunks_not_returned_and_loses_no_item(client: Any) -> None:
    token = CancelToken()
    inputs = [0.0] * 4 + [2.0] * 24
    records = RunnableLambda(steps.snooze).batch_records(
        inputs, executor=client, chunk_size=4, cancel_token=token)
    began = time.monotonic()
    seen = []
    for record in records:
        seen.append(record)
        if len(seen) == 4:
            token.cancel("stopped by the test")
    assert time.monotonic() - began < 2.0  # running 2 s chunks were not waited for
    assert sorted(r.index for r in seen) == list(range(len(inputs)))
    assert all(r.ok for r in seen[:4]) and {r.index for r in seen[:4]} == {0, 1, 2, 3}
    assert all(isinstance(r.error, RunCancelled) for r in seen[4:])
    time.sleep(2.0)  # let the workers finish the tasks they could not drop


def test_futures_are_cancelled_from_the_clients_own_loop(client: Any) -> None:
    """Regression: a batch generator finalised on the client's event loop called
    future.cancel() there, which only made a coroutine ("never awaited") and cancelled
    nothing."""
    from chainviz.batching.dask_backend import cancel_futures

    future = client.submit(time.sleep, 30, pure=False)
    client.loop.add_callback(cancel_futures, client, [future])
    deadline = time.monotonic() + 10
    while future.status != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert future.status == "cancelled"


def test_a_killed_worker_loses_no_item(client: Any) -> None:
    pids = client.run(os.getpid)  # {worker address: pid}
    victim = next(iter(pids.values()))
    killer = threading.Timer(0.3, os.kill, args=(victim, signal.SIGKILL))
    killer.start()
    chain = RunnableLambda(steps.slow_identity)
    out = chain.batch(list(range(120)), executor=client, chunk_size=5, return_exceptions=True)
    killer.join()
    assert len(out) == 120
    for index, outcome in enumerate(out):
        assert outcome == index or isinstance(outcome, WorkerLost)
    client.cluster.scale(2)  # bring the cluster back for later tests
    client.wait_for_workers(2, timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def separate_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and a worker started as their own processes, from another directory,
    without this repository on their path (only the installed chainviz)."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            str(bin_dir / "dask"),
            "worker",
            address,
            "--nthreads",
            "2",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield address
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_separately_started_worker_runs_shippable_chains(separate_cluster: str) -> None:
    with distributed.Client(separate_cluster, timeout=30) as remote:
        remote.wait_for_workers(1, timeout=30)
        chain = RunnableLambda(lambda x: x * 3) | (lambda x: x + 1)
        assert chain.batch([1, 2, 3], executor=remote) == [4, 7, 10]


def test_a_chain_the_worker_cannot_import_fails_loudly(separate_cluster: str) -> None:
    with distributed.Client(separate_cluster, timeout=30) as remote:
        remote.wait_for_workers(1, timeout=30)
        chain = RunnableLambda(steps.double)  # pickled by reference: tests.batching.steps
        with pytest.raises(WorkerLost, match="can import chainviz and the modules"):
            chain.batch([1, 2], executor=remote)
