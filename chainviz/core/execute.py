"""How a runnable is executed: events around every step, plans driven, branches fanned out.

Composite runnables (sequence, parallel, assign, retry, fallbacks, …) do not
call their children. They are written once, as a *plan*: a generator that
yields commands — :class:`Call` one child, :class:`Fanout` to several at once,
:class:`Sleep` — and receives each command's result (or has its exception
thrown in, so a retry or fallback can catch it). Two small drivers carry plans
out: :func:`drive_sync` with threads, :func:`drive_async` with tasks. The
orchestration lives in the plans, so the sync and async paths cannot drift.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.core.pool import shared_pool
from chainviz.core.run import Sink, Step
from chainviz.errors import RunCancelled, note_failed_node, record_completed

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = [
    "Call",
    "Fanout",
    "Plan",
    "Sleep",
    "add_chunks",
    "collect",
    "collect_async",
    "drive_async",
    "drive_sync",
    "execute_async",
    "execute_sync",
    "fanout_stream_async",
    "fanout_stream_sync",
    "stream_async",
    "stream_sync",
]

# Exceptions that stop a run rather than fail a step: they are never thrown into plans.
ABORTS: tuple[type[BaseException], ...] = (
    RunCancelled,
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    asyncio.CancelledError,
)


class Call:
    """Run one child. ``part`` is its escaped id part, or None for a wrapper's inner runnable."""

    __slots__ = ("config", "input", "kwargs", "part", "runnable", "sinks")

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        part: str | None,
        input: Any,
        *,
        config: RunnableConfig | None = None,
        sinks: tuple[Sink, ...] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.runnable = runnable
        self.part = part
        self.input = input
        self.config = config
        self.sinks = sinks
        self.kwargs = kwargs


class Fanout:
    """Run several children on the same input at once; the result maps key → output."""

    __slots__ = ("branches", "input")

    def __init__(self, branches: list[tuple[str, str, Runnable[Any, Any]]], input: Any) -> None:
        self.branches = branches  # (escaped part, key, runnable)
        self.input = input


class Sleep:
    """Wait, waking at once if the run is cancelled."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


Command = Call | Fanout | Sleep
Plan = Generator[Command, Any, Any]


# ---------------------------------------------------------------------------- sync


def execute_sync(runnable: Runnable[Any, Any], input: Any, step: Step) -> Any:
    """Run one step: check cancellation, emit start/end/error/cancel, run its body."""
    if step.token.cancelled:
        step.check_cancelled()
    if runnable.transparent:
        return drive_sync(runnable._plan(input, step), step)
    if not step.sinks:
        try:
            return _body_sync(runnable, input, step)
        except ABORTS:
            raise
        except Exception as exc:
            note_failed_node(exc, step.node_id, runnable.kind)
            raise
    step.begin(runnable, input)
    try:
        output = _body_sync(runnable, input, step)
    except BaseException as exc:
        _report_failure(exc, runnable, step)
        raise
    step.finish(output)
    return output


def _report_failure(exc: BaseException, runnable: Runnable[Any, Any], step: Step) -> None:
    if isinstance(exc, ABORTS):
        reason = str(exc) if isinstance(exc, RunCancelled) else type(exc).__name__
        step.cancel_event(reason or "cancelled")
    else:
        note_failed_node(exc, step.node_id, runnable.kind)
        step.fail(exc)


def _body_sync(runnable: Runnable[Any, Any], input: Any, step: Step) -> Any:
    if runnable.composite:
        return drive_sync(runnable._plan(input, step), step)
    slots = step.ctx.slots if runnable.uses_slot else None
    if slots is None:
        return runnable._call(input, step)
    slots.acquire(step.token, step.node_id)
    try:
        return runnable._call(input, step)
    finally:
        slots.release()


def drive_sync(plan: Plan, step: Step) -> Any:
    """Carry out a plan on this thread (fanouts use the shared pool)."""
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                command = plan.send(value) if error is None else plan.throw(error)
            except StopIteration as stop:
                return stop.value
            error = value = None
            try:
                if type(command) is Call:
                    value = execute_sync(command.runnable, command.input, _child(step, command))
                elif type(command) is Fanout:
                    value = _fanout_sync(command, step)
                else:
                    step.sleep(command.seconds)  # type: ignore[union-attr]
            except ABORTS:
                raise
            except Exception as exc:
                error = exc
    finally:
        plan.close()


def _child(step: Step, command: Call) -> Step:
    return step.child(
        command.part, config=command.config, sinks=command.sinks, kwargs=command.kwargs
    )


class _FanoutState:
    """Bookkeeping shared by the threads of one fanout."""

    __slots__ = ("claimed", "done", "error", "finished", "lock", "results", "wakeup")

    def __init__(self, size: int) -> None:
        self.lock = threading.Lock()
        self.wakeup = threading.Condition(self.lock)
        self.claimed = 0
        self.done = 0
        self.results: list[Any] = [None] * size
        self.finished = [False] * size
        self.error: tuple[int, BaseException] | None = None

    def claim(self, size: int) -> int | None:
        with self.lock:
            if self.claimed >= size or self.error is not None:
                return None
            index = self.claimed
            self.claimed += 1
            return index


def _fanout_steps(command: Fanout, step: Step) -> tuple[list[Step], list[CancelToken]]:
    tokens = [step.token.child() for _ in command.branches]
    steps = [step.child(part, token=token) for (part, _, _), token in zip(command.branches, tokens)]
    return steps, tokens


def _fanout_sync(command: Fanout, step: Step) -> dict[str, Any]:
    branches = command.branches
    size = len(branches)
    if size == 0:
        return {}
    steps, tokens = _fanout_steps(command, step)
    if size == 1:
        _, key, runnable = branches[0]
        return {key: execute_sync(runnable, command.input, steps[0])}
    state = _FanoutState(size)

    def run_claimed(index: int) -> None:
        try:
            output = execute_sync(branches[index][2], command.input, steps[index])
        except BaseException as exc:
            with state.lock:
                if state.error is None:
                    state.error = (index, exc)
                state.wakeup.notify_all()
        else:
            with state.lock:
                state.results[index] = output
                state.finished[index] = True
                state.done += 1
                if state.done == size:
                    state.wakeup.notify_all()

    def worker() -> None:
        index = state.claim(size)
        if index is not None:
            run_claimed(index)

    pool = shared_pool()
    saturated = False
    for _ in range(size):
        if not pool.submit(worker):
            saturated = True
    try:
        while True:
            if saturated:
                # The pool is at its ceiling: run queued branches here rather than wait.
                index = state.claim(size)
                if index is not None:
                    run_claimed(index)
                    continue
            with state.lock:
                if state.error is not None or state.done == size:
                    break
                state.wakeup.wait(0.25)
    except BaseException:  # Interrupt while waiting: stop every branch, keep nothing running
        for token in tokens:
            step.cancel_scope(token, "interrupted")
        raise
    return _fanout_result(command, step, steps, tokens, state.results, state.finished, state.error)


def _fanout_result(
    command: Fanout,
    step: Step,
    steps: list[Step],
    tokens: list[CancelToken],
    results: list[Any],
    finished: list[bool],
    error: tuple[int, BaseException] | None,
) -> dict[str, Any]:
    if error is None:
        return {key: results[i] for i, (_, key, _) in enumerate(command.branches)}
    failed_index, exc = error
    reason = f"sibling '{steps[failed_index].node_id}' failed"
    for i, token in enumerate(tokens):
        if not finished[i] and i != failed_index:
            step.cancel_scope(token, reason)
    record_completed(exc, {steps[i].node_id: results[i] for i in range(len(steps)) if finished[i]})
    raise exc


# --------------------------------------------------------------------------- async


async def execute_async(runnable: Runnable[Any, Any], input: Any, step: Step) -> Any:
    """The async twin of :func:`execute_sync`."""
    if step.token.cancelled:
        step.check_cancelled()
    if runnable.transparent:
        return await drive_async(runnable._plan(input, step), step)
    if not step.sinks:
        try:
            return await _body_async(runnable, input, step)
        except ABORTS:
            raise
        except Exception as exc:
            note_failed_node(exc, step.node_id, runnable.kind)
            raise
    step.begin(runnable, input)
    try:
        output = await _body_async(runnable, input, step)
    except BaseException as exc:
        _report_failure(exc, runnable, step)
        raise
    step.finish(output)
    return output


async def _body_async(runnable: Runnable[Any, Any], input: Any, step: Step) -> Any:
    if runnable.composite:
        return await drive_async(runnable._plan(input, step), step)
    slots = step.ctx.slots if runnable.uses_slot else None
    if slots is None:
        return await runnable._acall(input, step)
    await slots.acquire_async(step.token, step.node_id)
    try:
        return await runnable._acall(input, step)
    finally:
        slots.release()


async def drive_async(plan: Plan, step: Step) -> Any:
    """Carry out a plan on the running event loop (fanouts become tasks)."""
    value: Any = None
    error: Exception | None = None
    try:
        while True:
            try:
                command = plan.send(value) if error is None else plan.throw(error)
            except StopIteration as stop:
                return stop.value
            error = value = None
            try:
                if type(command) is Call:
                    value = await execute_async(
                        command.runnable, command.input, _child(step, command)
                    )
                elif type(command) is Fanout:
                    value = await _fanout_async(command, step)
                else:
                    await step.asleep(command.seconds)  # type: ignore[union-attr]
            except ABORTS:
                raise
            except Exception as exc:
                error = exc
    finally:
        plan.close()


async def _fanout_async(command: Fanout, step: Step) -> dict[str, Any]:
    branches = command.branches
    size = len(branches)
    if size == 0:
        return {}
    steps, tokens = _fanout_steps(command, step)
    if size == 1:
        return {branches[0][1]: await execute_async(branches[0][2], command.input, steps[0])}
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(execute_async(runnable, command.input, branch_step))
        for (_, _, runnable), branch_step in zip(branches, steps)
    ]
    failures: list[int] = []
    all_done: asyncio.Future[None] = loop.create_future()
    remaining = size

    def on_done(index: int, task: asyncio.Task[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if not task.cancelled() and task.exception() is not None and not failures:
            failures.append(index)
            if not all_done.done():
                all_done.set_result(None)
        elif remaining == 0 and not all_done.done():
            all_done.set_result(None)

    for index, task in enumerate(tasks):
        task.add_done_callback(functools.partial(on_done, index))
    try:
        await all_done
    except BaseException:  # the caller was cancelled (Stop, Interrupt): cancel every branch
        for task, token in zip(tasks, tokens):
            task.cancel()
            step.cancel_scope(token, "cancelled")
        raise
    finished = [t.done() and not t.cancelled() and t.exception() is None for t in tasks]
    results = [t.result() if ok else None for t, ok in zip(tasks, finished)]
    error = None
    if failures:
        index = failures[0]
        error = (index, tasks[index].exception())
        for task in tasks:
            if not task.done():
                task.cancel()
    return _fanout_result(command, step, steps, tokens, results, finished, error)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- streaming

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
            _report_failure(exc, self.runnable, self.step)

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
        self.steps, self.tokens = _fanout_steps(command, step)
        size = len(command.branches)
        self.totals: list[Any] = [_MISSING] * size
        self.finished = [False] * size
        self.remaining = size

    def take(self, index: int, chunk: Any, error: BaseException | None) -> dict[str, Any] | None:
        """The item to yield for one report, or None; a branch's error is raised here."""
        if error is not None:
            outputs = [None if t is _MISSING else t for t in self.totals]
            _fanout_result(
                self.command, self.step, self.steps, self.tokens, outputs, self.finished,
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
        for index, token in enumerate(self.tokens):
            if not self.finished[index]:
                self.step.cancel_scope(token, "the stream was stopped")


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
