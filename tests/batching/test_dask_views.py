"""A retrieval chain and a live BatchView on a LocalCluster on 127.0.0.1 (two workers).

* A chain holding a FAISS retriever and a SimulatedChatModel runs on the cluster, and
  its store reaches each worker once: the chunk tasks refer to one scattered payload
  held by both workers, each task is small, and each worker process unpickles it once.
* A BatchView follows a Dask batch item by item while its chunks still run (worker
  announcements), keeps results and records, and stops it without losing an item.

CHAINVIZ_REQUIRE_DASK=1 turns a skip into a failure (CI sets it), as in test_dask.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from chainviz import RunnableLambda, RunnablePassthrough
from chainviz.errors import RunCancelled
from tests.batching import dask_support, rag_steps, steps

assert dask_support.distributed  # the import skips this module where Dask is missing

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_retrieval_chain_ships_its_faiss_store_once_per_worker(client: Any) -> None:
    if os.environ.get("CHAINVIZ_REQUIRE_DASK") != "1":  # CI: a missing faiss fails here
        pytest.importorskip("faiss", reason="pip install 'chainviz[retrieval]'")
    from chainviz.models import SimulatedChatModel
    from chainviz.parsers import StrOutputParser
    from chainviz.prompts import ChatPromptTemplate
    from chainviz.retrieval import FAISS

    texts = [f"note {i}: bears number {i % 97} like rivers and honey {i}" for i in range(3000)]
    store = FAISS.from_texts(texts, rag_steps.CountingEmbeddings(dimensions=256))
    chain = (
        {"context": store.as_retriever(search_kwargs={"k": 2}) | rag_steps.join_documents,
         "question": RunnablePassthrough()}
        | ChatPromptTemplate.from_template("Use {context} to answer: {question}")
        | SimulatedChatModel(latency_scale=0)
        | StrOutputParser()
    )
    questions = [f"what do bears number {i} like?" for i in range(48)]
    seen: dict[str, Any] = {}
    records = []
    for record in chain.batch_records(questions, executor=client, chunk_size=4):
        if not seen:  # the batch's tasks are all still held: look at them
            seen.update(client.run_on_scheduler(rag_steps.chunk_tasks))
        records.append(record)

    assert sorted(r.index for r in records) == list(range(48))
    assert all(r.ok and isinstance(r.output, str) and r.output for r in records)
    assert all({"0/context/0", "2"} <= set(r.durations) for r in records)  # retriever, model

    # Every chunk task refers to the same scattered payload, by key...
    assert len(seen["chunks"]) == 12
    (payload,) = {dep for chunk in seen["chunks"] for dep in chunk["deps"]}
    assert all(chunk["deps"] == [payload] for chunk in seen["chunks"])
    # ...which is the store (megabytes), sent once to each of the two workers...
    assert seen["scattered"][payload]["nbytes"] > 3000 * 256 * 4
    assert seen["scattered"][payload]["holders"] == 2
    # ...while each task is small: inputs and configs only.
    assert max(chunk["bytes"] for chunk in seen["chunks"]) < 20_000
    # Each worker process built the store once, however many chunks it ran.
    pids = client.run(os.getpid)
    counts = client.run(rag_steps.unpickled)
    ran = {r.worker.split(":")[1] for r in records}
    assert {str(pids[address]): count for address, count in counts.items()} == {
        pid: 1 if pid in ran else 0 for pid in map(str, pids.values())
    }
    assert ran  # at least one worker ran chunks (normally both)


def test_a_batch_view_follows_items_while_their_chunks_still_run(client: Any) -> None:
    from chainviz.widgets import BatchView

    # Two chunks of four: three quick items and one 3-second item each.
    inputs = [0.0, 0.0, 0.0, 3.0] * 2
    view = BatchView(RunnableLambda(steps.snooze, name="snooze"), inputs, executor=client,
                     chunk_size=4)
    future = view.start()
    live = wait_for(lambda: view.snapshot if view.snapshot.get("done") == 6 else None,
                    "the quick items' announcements")
    assert not view.records  # no chunk has come back yet: the counts came from the workers
    assert live["status"] == "running" and live["in_flight"] == 2 and live["pending"] == 2
    assert live["workers"] >= 1 and live["steps"][0]["label"] == "snooze (whole chain)"

    assert future.result(timeout=30) == inputs
    final = view.snapshot
    assert final["status"] == "done" and (final["done"], final["in_flight"]) == (8, 0)
    assert final["steps"][0]["max"] >= 3.0 and final["slowest"][0]["seconds"] >= 3.0
    records = view.records
    assert list(records) == list(range(8))
    assert all(r.worker.split(":")[1] != str(os.getpid()) for r in records.values())
    # Unsubscribed; the handlers Dask keeps let go of the view.
    handlers = getattr(client, "_event_handlers", {})
    ours = [h for topic, h in handlers.items() if str(topic).startswith("chainviz-batch-")]
    assert all(getattr(handler, "push", None) is None for handler in ours)


def test_a_batch_view_reports_remote_errors_and_stops_without_losing_an_item(
    client: Any,
) -> None:
    from chainviz.widgets import BatchView

    view = BatchView(RunnableLambda(steps.fail_on_odd), range(10), executor=client,
                     chunk_size=3)
    results = view.run()
    assert results[0::2] == [0, 2, 4, 6, 8]
    assert all(isinstance(e, ValueError) for e in results[1::2])
    summary = view.summary
    assert summary is not None and (summary.done, summary.failed) == (5, 5)
    assert summary.errors[0].type == "ValueError" and summary.errors[0].count == 5

    inputs = [0.0] * 4 + [2.0] * 24
    view = BatchView(RunnableLambda(steps.snooze), inputs, executor=client, chunk_size=4)
    future = view.start()
    wait_for(lambda: len(view.records) >= 4, "the quick chunk")
    began = time.monotonic()
    assert view.stop()
    results = future.result(timeout=30)
    assert time.monotonic() - began < 2.0  # running 2 s chunks were not waited for
    assert len(results) == len(inputs) and results[:4] == [0.0] * 4
    assert all(r == 2.0 or isinstance(r, RunCancelled) for r in results[4:])
    assert view.snapshot["status"] == "cancelled" and view.snapshot["finished"] == len(inputs)
    time.sleep(2.0)  # let the workers finish the tasks they could not drop
