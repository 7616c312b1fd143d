"""Streaming: output chunks pass through streaming steps while upstream still produces.

A step that does not stream its input collects it first (``collect``), as in
LangChain; parallel branches stream side by side as ``{key: chunk}``.
"""

from __future__ import annotations

import asyncio
import functools
import queue
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from chainviz.core.execute import fanout_result, fanout_scope, report_failure
from chainviz.core.plan import ABORTS, Fanout
from chainviz.core.pool import shared_pool
from chainviz.core.run import Step

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = [
    "add_chunks",
    "collect",
    "collect_async",
    "fanout_stream_async",
    "fanout_stream_sync",
    "stream_async",
    "stream_sync",
]

_MISSING: Any = object()


def add_chunks(left: Any, right: Any) -> Any:
    """Combine two stream chunks: ``+`` where it works, dicts key by key, else the newer.

    A chunk whose type sets ``replaces_previous = True`` holds the whole output so far
    (a parser's growing partial JSON object) and replaces what came before.
    """
    if getattr(right, "replaces_previous", False) is True:
        return right
    if isinstance(left, dict) and isinstance(right, dict):
        merged = dict(left)
        for key, value in right.items():
            merged[key] = add_chunks(merged[key], value) if key in merged else value
        return merged
    try:
        return left + right
    except TypeError:
        return right


def collect(chunks: Iterator[Any]) -> Any:
    """Add up a stream's chunks into one value (a non-streaming step's input)."""
    total = _MISSING
    for chunk in chunks:
        total = chunk if total is _MISSING else add_chunks(total, chunk)
    return None if total is _MISSING else total


async def collect_async(chunks: AsyncIterator[Any]) -> Any:
    total = _MISSING
    async for chunk in chunks:
        total = chunk if total is _MISSING else add_chunks(total, chunk)
    return None if total is _MISSING else total


class _StreamRecord:
    """What streaming one step needs to remember, whichever driver pulls the chunks:
    whether it has begun (at its first input chunk), and its output so far."""

    __slots__ = ("begun", "runnable", "step", "total", "tracing")

    def __init__(self, runnable: Runnable[Any, Any], step: Step) -> None:
        self.runnable = runnable
        self.step = step
        self.tracing = bool(step.sinks)
        self.begun = False
        self.total: Any = _MISSING

    def input_chunk(self) -> None:
        if not self.begun:
            self.begun = True
            self.step.check_cancelled()

    def begin_with(self, chunk: Any) -> None:
        if self.tracing:
            self.step.begin(self.runnable, chunk)

    def output_chunk(self, out: Any) -> None:
        if self.step.token.cancelled:
            self.step.check_cancelled()
        if self.tracing:
            self.total = out if self.total is _MISSING else add_chunks(self.total, out)

    def failed(self, exc: BaseException) -> None:
        if self.begun or not isinstance(exc, ABORTS):
            if not self.begun and self.tracing:
                self.step.begin(self.runnable, None)
            report_failure(exc, self.runnable, self.step)

    def done(self) -> None:
        if self.tracing:
            if not self.begun:
                self.step.begin(self.runnable, None)
            self.step.finish(None if self.total is _MISSING else self.total)


def stream_sync(runnable: Runnable[Any, Any], chunks: Iterator[Any], step: Step) -> Iterator[Any]:
    """Stream a step: its output chunks, pulled while upstream still produces input."""
    if runnable.transparent:
        yield from runnable._transform(chunks, step)
        return
    record = _StreamRecord(runnable, step)

    def feed() -> Iterator[Any]:
        for chunk in chunks:
            if not record.begun:
                record.input_chunk()
                record.begin_with(chunk)
            yield chunk

    slots = step.ctx.slots if runnable.uses_slot else None
    try:
        if slots is not None:
            slots.acquire(step.token, step.node_id)
        try:
            for out in runnable._transform(feed(), step):
                record.output_chunk(out)
                yield out
        finally:
            if slots is not None:
                slots.release()
    except BaseException as exc:
        record.failed(exc)
        raise
    record.done()


async def stream_async(
    runnable: Runnable[Any, Any], chunks: AsyncIterator[Any], step: Step
) -> AsyncIterator[Any]:
    """The async twin of :func:`stream_sync`."""
    if runnable.transparent:
        async for out in runnable._atransform(chunks, step):
            yield out
        return
    record = _StreamRecord(runnable, step)

    async def feed() -> AsyncIterator[Any]:
        async for chunk in chunks:
            if not record.begun:
                record.input_chunk()
                record.begin_with(chunk)
            yield chunk

    slots = step.ctx.slots if runnable.uses_slot else None
    try:
        if slots is not None:
            await slots.acquire_async(step.token, step.node_id)
        try:
            async for out in runnable._atransform(feed(), step):
                record.output_chunk(out)
                yield out
        finally:
            if slots is not None:
                slots.release()
    except BaseException as exc:
        record.failed(exc)
        raise
    record.done()


# ------------------------------------------------------------- streaming fanout

_BRANCH_DONE: Any = object()


class _BranchMerger:
    """Merges the chunks branches report (from threads or tasks) into ``{key: chunk}``
    items, keeping each branch's total so a failure can report what had finished."""

    def __init__(self, command: Fanout, step: Step) -> None:
        self.command = command
        self.step = step
        self.token = fanout_scope(step)
        self.steps = [step.child(part, token=self.token) for part, _, _ in command.branches]
        size = len(command.branches)
        self.totals: list[Any] = [_MISSING] * size
        self.finished = [False] * size
        self.remaining = size

    def take(self, index: int, chunk: Any, error: BaseException | None) -> dict[str, Any] | None:
        """The item to yield for one report, or None; a branch's error is raised here."""
        if error is not None:
            outputs = [None if t is _MISSING else t for t in self.totals]
            fanout_result(
                self.command, self.step, self.token, outputs, self.finished,
                (index, error),
            )
        if chunk is _BRANCH_DONE:
            self.finished[index] = True
            self.remaining -= 1
            return None
        total = self.totals[index]
        self.totals[index] = chunk if total is _MISSING else add_chunks(total, chunk)
        return {self.command.branches[index][1]: chunk}

    def stop_unfinished(self) -> None:
        if not all(self.finished):
            self.step.cancel_scope(self.token, "the stream was stopped")


def fanout_stream_sync(command: Fanout, step: Step) -> Iterator[dict[str, Any]]:
    """Stream every branch at once; yield ``{key: chunk}`` as any branch produces."""
    merger = _BranchMerger(command, step)
    inbox: queue.SimpleQueue[tuple[int, Any, BaseException | None]] = queue.SimpleQueue()

    def pump(index: int) -> None:
        runnable = command.branches[index][2]
        try:
            for chunk in stream_sync(runnable, iter((command.input,)), merger.steps[index]):
                inbox.put((index, chunk, None))
        except BaseException as exc:
            inbox.put((index, None, exc))
        else:
            inbox.put((index, _BRANCH_DONE, None))

    for index in range(len(command.branches)):
        shared_pool().submit(functools.partial(pump, index))
    try:
        while merger.remaining:
            try:
                item = merger.take(*inbox.get(timeout=0.25))
            except queue.Empty:
                continue
            if item is not None:
                yield item
    except BaseException:
        merger.stop_unfinished()
        raise


async def fanout_stream_async(command: Fanout, step: Step) -> AsyncIterator[dict[str, Any]]:
    """The async twin of :func:`fanout_stream_sync`, with tasks and an asyncio queue."""
    merger = _BranchMerger(command, step)
    inbox: asyncio.Queue[tuple[int, Any, BaseException | None]] = asyncio.Queue()

    async def pump(index: int) -> None:
        async def single() -> AsyncIterator[Any]:
            yield command.input

        runnable = command.branches[index][2]
        try:
            async for chunk in stream_async(runnable, single(), merger.steps[index]):
                inbox.put_nowait((index, chunk, None))
        except BaseException as exc:
            inbox.put_nowait((index, None, exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            inbox.put_nowait((index, _BRANCH_DONE, None))

    tasks = [asyncio.ensure_future(pump(i)) for i in range(len(command.branches))]
    try:
        while merger.remaining:
            item = merger.take(*await inbox.get())
            if item is not None:
                yield item
    except BaseException:
        merger.stop_unfinished()
        raise
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
