"""Batches on this machine: items start on the caller's thread, and threads join in
only when items block, so a batch of cheap items costs what a loop of ``invoke``
costs while a batch of slow ones runs side by side. Executors elsewhere (process
pools, Dask) are :mod:`chainviz.batching`'s job.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig, validate_config
from chainviz.core.pool import shared_pool
from chainviz.errors import ConfigError

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = ["abatch", "abatch_as_completed", "batch_as_completed", "per_item_configs"]

# How long an item may run on the caller's thread before a batch fans out to the pool.
_SCOUT_SECONDS = 0.002
# The longest it waits between looks once items have been finishing: an item that blocks
# after many cheap ones is noticed within about twice this.
_SCOUT_MAX_SECONDS = 0.032


def per_item_configs(
    config: RunnableConfig | Sequence[RunnableConfig] | None, size: int
) -> list[RunnableConfig]:
    if config is None or isinstance(config, Mapping):
        return [validate_config(config)] * size
    configs = [validate_config(c) for c in config]
    if len(configs) != size:
        raise ConfigError(
            f"batch got {size} inputs but {len(configs)} configs; "
            "pass one config for all inputs or exactly one per input."
        )
    return configs


def batch_as_completed(
    runnable: Runnable[Any, Any],
    inputs: list[Any],
    configs: list[RunnableConfig],
    return_exceptions: bool,
    cancel_token: CancelToken | None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, output)`` as items finish (see ``Runnable.batch_as_completed``)."""
    size = len(inputs)
    if not size:
        return
    limit = min(configs[0].get("max_concurrency") or size, size)
    batch_token = CancelToken(cancel_token)
    finished: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = queue.SimpleQueue()
    claim = iter(range(size))  # shared by every thread: each index is taken once
    done_here = [0]  # items the caller's thread has finished, watched by the scout
    batch_over = threading.Event()

    def run_item(index: int) -> tuple[int, Any, BaseException | None]:
        try:
            output = runnable.invoke(inputs[index], configs[index], cancel_token=batch_token)
        except BaseException as exc:
            return index, None, exc
        return index, output, None

    def worker() -> None:
        for index in claim:
            # Run what was claimed, even once cancelled (it ends at once): an index taken
            # and dropped would leave the batch waiting for it forever.
            finished.put(run_item(index))
            if batch_token.cancelled:
                return

    def scout() -> None:
        # Items start on this thread, so a batch of cheap items costs what a loop
        # costs. If no item finished since the last look, one blocks: fan out. Looks
        # start 2 ms apart and space out while items keep finishing, since each one
        # takes the GIL from the caller's thread.
        wait, seen = _SCOUT_SECONDS, 0
        while not batch_over.wait(wait):
            if done_here[0] == seen:
                # Workers for what is left, not for the whole batch: after 20,000 cheap
                # items, 8 that block need 7 threads beside this one, not 4,096.
                left = size - seen - 1
                shared_pool().submit_many(worker, min(limit - 1, left))
                return
            seen = done_here[0]
            wait = min(wait * 2, _SCOUT_MAX_SECONDS)

    def settle(item: tuple[int, Any, BaseException | None]) -> tuple[int, Any]:
        index, output, error = item
        if error is None:
            return index, output
        if return_exceptions and isinstance(error, Exception):
            return index, error
        raise error

    if limit > 1:
        shared_pool().submit(scout)
    outstanding = size
    invoke = runnable.invoke
    try:
        for index in claim:
            outstanding -= 1
            # run_item and settle written out: this loop is the whole cost of a batch of
            # cheap items, and the target is the cost of a loop of invoke calls. An item
            # here needs only the caller's token, not the batch's: the batch cannot end
            # while this thread runs one of its items.
            try:
                output = invoke(inputs[index], configs[index], cancel_token=cancel_token)
            except BaseException as exc:
                if not (return_exceptions and isinstance(exc, Exception)):
                    raise
                output = exc
            done_here[0] += 1
            yield index, output
            while not finished.empty():
                outstanding -= 1
                yield settle(finished.get())
        while outstanding:
            try:
                item = finished.get(timeout=0.25)
            except queue.Empty:
                continue
            outstanding -= 1
            yield settle(item)
    finally:
        batch_over.set()
        batch_token.cancel("the batch ended")


async def abatch(
    runnable: Runnable[Any, Any],
    inputs: list[Any],
    configs: list[RunnableConfig],
    return_exceptions: bool,
    cancel_token: CancelToken | None,
) -> list[Any]:
    """Run every item as a task; ``max_concurrency`` limits items in flight."""
    limit = (configs[0].get("max_concurrency") if configs else None) or len(inputs) or 1
    gate = asyncio.Semaphore(limit)

    async def one(index: int) -> Any:
        async with gate:
            try:
                return await runnable.ainvoke(
                    inputs[index], configs[index], cancel_token=cancel_token
                )
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(inputs))]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        raise


async def abatch_as_completed(
    runnable: Runnable[Any, Any],
    inputs: list[Any],
    configs: list[RunnableConfig],
    return_exceptions: bool,
) -> AsyncIterator[tuple[int, Any]]:
    """Yield ``(index, output)`` as item tasks finish."""
    limit = (configs[0].get("max_concurrency") if configs else None) or len(inputs) or 1
    gate = asyncio.Semaphore(limit)

    async def one(index: int) -> tuple[int, Any]:
        async with gate:
            try:
                return index, await runnable.ainvoke(inputs[index], configs[index])
            except Exception as exc:
                if return_exceptions:
                    return index, exc
                raise

    tasks = [asyncio.ensure_future(one(i)) for i in range(len(inputs))]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
