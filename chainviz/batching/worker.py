"""The code that runs where a chunk runs: a thread here, another process, a Dask worker."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from chainviz.batching.records import ItemRecord
from chainviz.batching.shipping import loads_chain, portable_error
from chainviz.core.base import Runnable
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.core.events import RunEvent

__all__ = ["DurationSink", "iter_chunk", "run_chunk", "started_topic"]


class DurationSink:
    """Adds up each node's run time for one item (cheap: two dict operations an event)."""

    def __init__(self) -> None:
        self.started: dict[int, int] = {}
        self.durations: dict[str, float] = {}

    def __call__(self, event: RunEvent) -> None:
        if event.type == "start":
            self.started[event.run_id] = event.time_ns
        elif event.type in ("end", "error", "cancel"):
            began = self.started.pop(event.run_id, None)
            if began is not None:
                seconds = (event.time_ns - began) / 1e9
                self.durations[event.node_id] = self.durations.get(event.node_id, 0.0) + seconds


def where_am_i() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def started_topic(topic: str) -> str:
    """The topic on which a Dask worker announces each chunk it starts (``{"indices",
    "worker"}``), beside ``topic``, where it announces each finished item."""
    return f"{topic}.started"


def run_chunk(
    payload: Runnable[Any, Any] | bytes,
    indices: Sequence[int],
    inputs: Sequence[Any],
    configs: Sequence[RunnableConfig],
    topic: str | None = None,
    cancel_token: CancelToken | None = None,
) -> list[ItemRecord]:
    """Run one chunk of a batch concurrently (the local default) and record every item.

    With a ``topic`` on a Dask worker, each finished item is also announced with
    ``log_event`` so a live view can follow the batch as it goes, and the chunk's start
    on :func:`started_topic`. ``cancel_token`` (in this process only: a token does not
    travel) stops the chunk's items at their next step boundary.
    """
    return list(iter_chunk(payload, indices, inputs, configs, topic, cancel_token))


def iter_chunk(
    payload: Runnable[Any, Any] | bytes,
    indices: Sequence[int],
    inputs: Sequence[Any],
    configs: Sequence[RunnableConfig],
    topic: str | None = None,
    cancel_token: CancelToken | None = None,
) -> Iterator[ItemRecord]:
    """:func:`run_chunk`, yielding each record as its item finishes."""
    chain = loads_chain(payload) if isinstance(payload, bytes) else payload
    sinks = [DurationSink() for _ in indices]
    item_configs: list[RunnableConfig] = [
        {**config, "callbacks": [*config.get("callbacks", ()), sink]}
        for config, sink in zip(configs, sinks)
    ]
    announce = _announcer(topic, indices)
    worker = where_am_i()
    for position, outcome in chain.batch_as_completed(
        list(inputs), item_configs, return_exceptions=True, cancel_token=cancel_token
    ):
        error = portable_error(outcome) if isinstance(outcome, BaseException) else None
        record = ItemRecord(
            indices[position],
            None if error is not None else outcome,
            error,
            sinks[position].durations,
            worker,
        )
        if announce is not None:
            announce(record)
        yield record


def _announcer(topic: str | None, indices: Sequence[int]) -> Any:
    if topic is None:
        return None
    try:
        from distributed import get_worker

        dask_worker = get_worker()
    except (ImportError, ValueError):
        return None
    dask_worker.log_event(
        started_topic(topic), {"indices": list(indices), "worker": where_am_i()}
    )

    def announce(record: ItemRecord) -> None:
        dask_worker.log_event(
            topic,
            {
                "index": record.index,
                "ok": record.ok,
                "error": None if record.ok else f"{type(record.error).__name__}: {record.error}",
                "durations": dict(record.durations),
                "worker": record.worker,
            },
        )

    return announce
