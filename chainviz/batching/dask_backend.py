"""Running a batch on a Dask cluster: the chain is broadcast once, chunks are tasks.

Tasks are submitted with ``pure=False`` (Dask would otherwise run identical calls
once: sampling one prompt N times needs N calls) and ``retries=1``, so a chunk
whose worker died runs again elsewhere; if it fails again, its items are reported
as failed, never dropped.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chainviz.batching.records import ItemRecord
from chainviz.batching.run import _chunks, _shippable, auto_chunk_size, cancelled_records
from chainviz.batching.shipping import dumps_chain
from chainviz.batching.worker import run_chunk
from chainviz.core.base import Runnable
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.errors import WorkerLost, require_extra

__all__ = ["run_on_dask"]


def _worker_threads(client: Any) -> int:
    try:
        workers = client.scheduler_info()["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    except Exception:
        return 4


def run_on_dask(
    chain: Runnable[Any, Any],
    inputs: Sequence[Any],
    configs: Sequence[RunnableConfig],
    client: Any,
    chunk_size: int | None,
    topic: str | None,
    cancel_token: CancelToken | None = None,
) -> Iterator[ItemRecord]:
    distributed = require_extra("distributed", "dask", purpose="Running a batch on Dask")
    size = chunk_size or auto_chunk_size(len(inputs), _worker_threads(client))
    # One copy per worker, not one per task (a FAISS index can be large).
    payload = client.scatter(dumps_chain(chain), broadcast=True, hash=False)
    futures = {}
    for indices in _chunks(len(inputs), size):
        future = client.submit(
            run_chunk,
            payload,
            indices,
            [inputs[i] for i in indices],
            [_shippable(configs[i]) for i in indices],
            topic,
            pure=False,
            retries=1,
        )
        futures[future.key] = (future, indices)
    # Stop: cancel every chunk not finished; Dask drops queued ones and forgets running
    # ones (a running task is not interrupted on its worker, its result is thrown away).
    # Finished chunks keep their results.
    remove: Callable[[], None] = lambda: None  # noqa: E731
    if cancel_token is not None:
        remove = cancel_token.on_cancel(
            lambda: cancel_futures(client, [f for f, _ in futures.values() if not f.done()])
        )
    try:
        for future, result in distributed.as_completed(
            [f for f, _ in futures.values()], with_results=True, raise_errors=False
        ):
            indices = futures[future.key][1]
            if future.status == "cancelled" and cancel_token is not None and (
                cancel_token.cancelled
            ):
                yield from cancelled_records(indices)
                continue
            if future.status == "error" or isinstance(result, BaseException):
                error = result if isinstance(result, BaseException) else future.exception()
                lost = WorkerLost(
                    f"Dask could not run items {indices[0]}–{indices[-1]} "
                    f"({type(error).__name__}: {error}). Check that every worker can import "
                    "chainviz and the modules your steps use (see the README), then run again."
                )
                lost.__cause__ = error
                yield from (ItemRecord(i, error=lost) for i in indices)
                continue
            returned = {r.index for r in result}
            yield from result
            for i in indices:
                if i not in returned:
                    yield ItemRecord(i, error=WorkerLost(f"Item {i} was not returned by Dask."))
    finally:
        remove()
        cancel_futures(client, [f for f, _ in futures.values() if not f.done()])


# Cancel tasks scheduled on a client's loop, kept until done: a loop holds only a weak
# reference to its tasks.
_cancelling: set[asyncio.Future[Any]] = set()


def cancel_futures(client: Any, futures: list[Any]) -> None:
    """Cancel ``futures`` from any thread, the client's own event loop included.

    On the client's loop (a batch generator finalised there by the garbage collector,
    a Stop callback run there) ``client.cancel`` hands back its coroutine instead of
    running it; left alone, nothing would be cancelled. It is scheduled on that loop.
    """
    if not futures:
        return
    pending = client.cancel(futures)
    if inspect.isawaitable(pending):
        task = asyncio.ensure_future(pending)
        _cancelling.add(task)
        task.add_done_callback(_cancelling.discard)

