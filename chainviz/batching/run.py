"""Dispatching a batch to an executor, chunk by chunk, and collecting every item."""

from __future__ import annotations

import concurrent.futures as cf
import math
from collections.abc import Iterator, Sequence
from typing import Any

from chainviz.batching.records import ItemRecord
from chainviz.batching.shipping import dumps_chain
from chainviz.batching.worker import run_chunk
from chainviz.core.base import Runnable
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.errors import ConfigError, RunCancelled, WorkerLost

__all__ = ["auto_chunk_size", "is_dask_client", "run_batch"]

MAX_CHUNK = 50  # measured: ~1-2 ms of scheduler overhead per task; 50 items amortise it


def is_dask_client(executor: object) -> bool:
    kind = type(executor)
    return kind.__name__ == "Client" and kind.__module__.startswith("distributed")


def auto_chunk_size(size: int, workers: int) -> int:
    """About four chunks per worker, at most :data:`MAX_CHUNK` items each."""
    return max(1, min(MAX_CHUNK, math.ceil(size / max(1, workers * 4))))


def _chunks(size: int, chunk_size: int) -> list[list[int]]:
    return [list(range(i, min(size, i + chunk_size))) for i in range(0, size, chunk_size)]


def _shippable(config: RunnableConfig) -> RunnableConfig:
    # Sinks are objects of this process (a view, a recorder): they stay here.
    return {k: v for k, v in config.items() if k != "callbacks"}  # type: ignore[return-value]


def run_batch(
    chain: Runnable[Any, Any],
    inputs: Sequence[Any],
    configs: Sequence[RunnableConfig],
    *,
    executor: Any,
    chunk_size: int | None = None,
    topic: str | None = None,
    cancel_token: CancelToken | None = None,
) -> Iterator[ItemRecord]:
    """Yield one record per input, in completion order, from ``executor``.

    ``executor`` is any :class:`concurrent.futures.Executor` or a Dask ``Client``.
    Cancelling ``cancel_token`` stops the batch: chunks not yet started are cancelled;
    on a thread pool the running items stop at their next step boundary and finished
    ones keep their outputs; chunks running in other processes cannot be interrupted,
    so their items are given up on. Every item not finished comes back as
    :class:`~chainviz.errors.RunCancelled`.
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ConfigError(f"chunk_size must be a positive int, but {chunk_size!r} was given.")
    if not inputs:
        return
    if is_dask_client(executor):
        from chainviz.batching.dask_backend import run_on_dask

        yield from run_on_dask(
            chain, inputs, configs, executor, chunk_size, topic, cancel_token
        )
        return
    if not isinstance(executor, cf.Executor):
        raise ConfigError(
            f"executor must be a concurrent.futures.Executor or a dask.distributed Client, "
            f"but a {type(executor).__name__} was given. Pass executor=None for the local default."
        )
    workers = int(getattr(executor, "_max_workers", 4) or 4)
    size = chunk_size or auto_chunk_size(len(inputs), workers)
    local = isinstance(executor, cf.ThreadPoolExecutor)
    payload: Runnable[Any, Any] | bytes = chain if local else dumps_chain(chain)
    pending: dict[cf.Future[list[ItemRecord]], list[int]] = {}
    try:
        for indices in _chunks(len(inputs), size):
            chunk_configs = [configs[i] if local else _shippable(configs[i]) for i in indices]
            future = executor.submit(
                run_chunk, payload, indices, [inputs[i] for i in indices], chunk_configs,
                None, cancel_token if local else None,
            )
            pending[future] = indices
        if cancel_token is None:
            for future in cf.as_completed(pending):
                yield from _records_of(future, pending[future])
            return
        stop: cf.Future[Any] = cf.Future()
        remove = cancel_token.on_cancel(lambda: _complete(stop))
        try:
            returned: set[cf.Future[Any]] = set()
            waiting: list[cf.Future[Any]] = [*pending, stop]
            for future in cf.as_completed(waiting):
                if future is stop:
                    yield from _stopped(pending, returned, wait_running=local)
                    return
                returned.add(future)
                yield from _records_of(future, pending[future])
                if len(returned) == len(pending):
                    return  # every chunk is back; the stop future never completes
        finally:
            remove()
    finally:
        for future in pending:
            future.cancel()


def _complete(stop: cf.Future[Any]) -> None:
    if not stop.done():
        stop.set_result(None)


def cancelled_records(indices: Sequence[int]) -> list[ItemRecord]:
    """One :class:`RunCancelled` record per item that was stopped before it came back."""
    return [
        ItemRecord(i, error=RunCancelled(f"Item {i} was stopped before it finished."))
        for i in indices
    ]


def _stopped(
    pending: dict[cf.Future[list[ItemRecord]], list[int]],
    returned: set[cf.Future[Any]],
    *,
    wait_running: bool,
) -> Iterator[ItemRecord]:
    """The records of the chunks not returned yet, once the batch was stopped."""
    for future, indices in pending.items():
        if future in returned:
            continue
        if future.cancel() or not (wait_running or future.done()):
            yield from cancelled_records(indices)
        else:  # done, or running on a thread that heard the token: its items end soon
            yield from _records_of(future, indices)


def _records_of(future: cf.Future[list[ItemRecord]], indices: list[int]) -> list[ItemRecord]:
    """The chunk's records, or one failure record per item if the chunk itself was lost."""
    try:
        records = future.result()
    except Exception as exc:
        lost = WorkerLost(
            f"The worker running items {indices[0]}–{indices[-1]} failed before returning them "
            f"({type(exc).__name__}: {exc}). Run the batch again, or with return_exceptions=True "
            "to keep the other items' results."
        )
        lost.__cause__ = exc
        return [ItemRecord(i, error=lost) for i in indices]
    returned = {r.index for r in records}
    missing = [i for i in indices if i not in returned]
    return records + [
        ItemRecord(i, error=WorkerLost(f"Item {i} was not returned by its worker."))
        for i in missing
    ]
