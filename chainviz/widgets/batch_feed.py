"""What a running batch tells its view, queued as it happens and folded when drawn.

A :class:`BatchFeed` is the one queue between a batch's threads and a
:class:`~chainviz.widgets.batch_state.BatchState`. Whoever learns something pushes it,
stamped with the view's clock, and marks the view's throttle dirty — nothing else,
so the batch pays a deque append per message:

* ``record``: an :class:`~chainviz.batching.ItemRecord` the batch yielded;
* ``item`` / ``chunk``: a Dask worker's announcement of a finished item or of a chunk
  it started (:meth:`BatchFeed.subscribe` hears them with ``Client.subscribe_topic``);
* ``start`` / ``end``: the start and the end of an item's root step, here or on a
  thread pool (:meth:`BatchFeed.on_event`, an event sink), keyed by the run's trace
  id. Items are in flight between the two, whenever their records reach the batch.

:meth:`BatchFeed.drain_into` folds the queue into the state, in arrival order, on the
thread that draws. Needs no widget package.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from chainviz.batching.worker import started_topic
from chainviz.widgets.batch_state import BatchState

__all__ = ["BatchFeed", "TopicHandler"]


class BatchFeed:
    """The queue of what a batch reported, each entry ``(time, kind, value)``."""

    __slots__ = ("clock", "mark", "queue")

    def __init__(self, clock: Callable[[], float], mark: Callable[[], None]) -> None:
        self.clock = clock
        self.mark = mark
        self.queue: collections.deque[tuple[float, str, Any]] = collections.deque()

    def push(self, kind: str, value: Any) -> None:
        self.queue.append((self.clock(), kind, value))
        self.mark()

    def on_event(self, event: Any) -> None:
        """An event sink (local runs): the start and the end of an item's root step."""
        if event.parent_run_id is None:
            kind = event.type
            if kind == "start":
                self.push("start", event.trace_id)
            elif kind in ("end", "error", "cancel"):
                self.push("end", event.trace_id)

    def drain_into(self, state: BatchState) -> None:
        queue = self.queue
        while queue:
            at, kind, value = queue.popleft()
            if kind == "record":
                state.add_record(value, at)
            elif kind == "item":
                state.add_announcement(value, at)
            elif kind == "chunk":
                state.started(value.get("indices", ()))
            elif kind == "start":
                state.started_unindexed(value)
            elif kind == "end":
                state.ended_unindexed(value)

    def subscribe(self, client: Any, topic: str) -> Callable[[], None]:
        """Hear a Dask batch's announcements on ``topic``; returns the unsubscriber."""
        handlers = {topic: TopicHandler(self.push, "item"),
                    started_topic(topic): TopicHandler(self.push, "chunk")}
        for name, handler in handlers.items():
            client.subscribe_topic(name, handler)

        def unsubscribe() -> None:
            for name, handler in handlers.items():
                handler.close()
                client.unsubscribe_topic(name)

        return unsubscribe


class TopicHandler:
    """A ``Client.subscribe_topic`` handler pushing ``(kind, message)`` onto a feed.

    ``unsubscribe_topic`` stops the scheduler sending, but the client keeps the handler,
    so :meth:`close` lets go of the feed (and ignores any event still on its way).
    """

    __slots__ = ("kind", "push")

    def __init__(self, push: Callable[[str, Any], None], kind: str) -> None:
        self.push: Callable[[str, Any], None] | None = push
        self.kind = kind

    def __call__(self, event: tuple[float, Any]) -> None:
        push = self.push
        if push is not None:
            push(self.kind, event[1])

    def close(self) -> None:
        self.push = None
