"""How a runnable is executed: events around every step, plans driven, branches fanned out.

Composite runnables (sequence, parallel, assign, retry, fallbacks, …) do not
call their children: they are written once, as a plan of commands (see
:mod:`chainviz.core.plan`). Two small drivers carry plans out:
:func:`drive_sync` with threads, :func:`drive_async` with tasks. The
orchestration lives in the plans, so the sync and async paths cannot drift.
Streaming lives in :mod:`chainviz.core.streaming`.
"""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from chainviz.core.cancel import CancelToken
from chainviz.core.plan import ABORTS, Call, Fanout, Plan, Sleep
from chainviz.core.pool import shared_pool
from chainviz.core.run import Step
from chainviz.errors import RunCancelled, note_failed_node, record_completed

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = [
    "ABORTS",
    "Call",
    "Fanout",
    "Plan",
    "Sleep",
    "drive_async",
    "drive_sync",
    "execute_async",
    "execute_sync",
    "fanout_result",
    "fanout_scope",
    "report_failure",
]

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
    slots = _slots_for(runnable, step)
    if slots is not None:
        slots.acquire(step.token, step.node_id)  # before the start event: see _slots_for
        try:
            return _traced_sync(runnable, input, step, _call_sync)
        finally:
            slots.release()
    # _traced_sync written out: a traced step is the per-step cost a Recorder adds.
    step.begin(runnable, input)
    try:
        if runnable.composite:
            output = drive_sync(runnable._plan(input, step), step)
        else:
            output = runnable._call(input, step)
    except BaseException as exc:
        report_failure(exc, runnable, step)
        raise
    step.finish(output)
    return output


def _slots_for(runnable: Runnable[Any, Any], step: Step) -> Any:
    """The run's ``max_concurrency`` slots if this traced step takes one, else None.

    A traced step waits for its slot *before* its start event, so time spent queued
    behind the limit is not counted as the step's own (the streaming path does the
    same): a waterfall of ``max_concurrency=1`` shows the steps one after another.
    """
    slots = step.ctx.slots
    if slots is None or runnable.composite or not runnable.uses_slot:
        return None
    return slots


def _call_sync(runnable: Runnable[Any, Any], input: Any, step: Step) -> Any:
    return runnable._call(input, step)


def _traced_sync(
    runnable: Runnable[Any, Any], input: Any, step: Step,
    body: Callable[[Runnable[Any, Any], Any, Step], Any],
) -> Any:
    step.begin(runnable, input)
    try:
        output = body(runnable, input, step)
    except BaseException as exc:
        report_failure(exc, runnable, step)
        raise
    step.finish(output)
    return output


def report_failure(exc: BaseException, runnable: Runnable[Any, Any], step: Step) -> None:
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


def fanout_scope(step: Step) -> CancelToken:
    """The cancel scope of a fanout's branches: one for all of them, not one each.

    A fanout only ever stops its unfinished branches together (a sibling failed, the
    caller stopped or interrupted). Branch steps are made where each branch starts and
    are not kept: ten thousand async branches would otherwise keep ten thousand objects
    alive, and the garbage collector runs more often for each one kept.
    """
    return step.token.child()


def _fanout_sync(command: Fanout, step: Step) -> dict[str, Any]:
    branches = command.branches
    size = len(branches)
    if size == 0:
        return {}
    token = fanout_scope(step)
    if size == 1:
        part, key, runnable = branches[0]
        return {key: execute_sync(runnable, command.input, step.child(part, token=token))}
    state = _FanoutState(size)

    def run_claimed(index: int) -> None:
        part, _, runnable = branches[index]
        try:
            output = execute_sync(runnable, command.input, step.child(part, token=token))
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

    saturated = shared_pool().submit_many(worker, size) < size
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
        step.cancel_scope(token, "interrupted")
        raise
    return fanout_result(command, step, token, state.results, state.finished, state.error)


def fanout_result(
    command: Fanout,
    step: Step,
    token: CancelToken,
    results: list[Any],
    finished: list[bool],
    error: tuple[int, BaseException] | None,
) -> dict[str, Any]:
    if error is None:
        return {key: results[i] for i, (_, key, _) in enumerate(command.branches)}
    failed_index, exc = error
    # The failed branch has ended (its error events are out): the scope holds only the
    # siblings still running, and finished ones are past cancelling.
    branches = command.branches
    step.cancel_scope(token, f"sibling '{step.child_id(branches[failed_index][0])}' failed")
    record_completed(
        exc,
        {step.child_id(part): results[i] for i, (part, _, _) in enumerate(branches) if finished[i]},
    )
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
    slots = _slots_for(runnable, step)
    if slots is None:
        return await _traced_async(runnable, input, step, _body_async)
    await slots.acquire_async(step.token, step.node_id)  # before the start event
    try:
        return await _traced_async(runnable, input, step, _call_async)
    finally:
        slots.release()


def _call_async(runnable: Runnable[Any, Any], input: Any, step: Step) -> Awaitable[Any]:
    return runnable._acall(input, step)


async def _traced_async(
    runnable: Runnable[Any, Any], input: Any, step: Step,
    body: Callable[[Runnable[Any, Any], Any, Step], Awaitable[Any]],
) -> Any:
    step.begin(runnable, input)
    try:
        output = await body(runnable, input, step)
    except BaseException as exc:
        report_failure(exc, runnable, step)
        raise
    step.finish(output)
    return output


def _body_async(runnable: Runnable[Any, Any], input: Any, step: Step) -> Awaitable[Any]:
    # Returns the awaitable rather than awaiting it: one coroutine frame less per step,
    # which counts when ten thousand branches run at once.
    if runnable.composite:
        return drive_async(runnable._plan(input, step), step)
    slots = step.ctx.slots if runnable.uses_slot else None
    if slots is None:
        return runnable._acall(input, step)
    return _in_slot_async(runnable, input, step, slots)


async def _in_slot_async(runnable: Runnable[Any, Any], input: Any, step: Step, slots: Any) -> Any:
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


def _branch_awaitable(runnable: Runnable[Any, Any], input: Any, step: Step) -> Awaitable[Any]:
    """What a branch task awaits: the branch's own coroutine when nothing wraps it.

    Untraced leaf branches skip :func:`execute_async`'s frame (a task of ten thousand
    branches pays it twice per branch, at start and at wake-up); their failure note
    is added by the fanout instead (see :func:`_noted`).
    """
    if step.sinks or runnable.transparent or step.token.cancelled:
        return execute_async(runnable, input, step)
    return _body_async(runnable, input, step)


def _as_task(loop: asyncio.AbstractEventLoop, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
    if type(awaitable) is types.CoroutineType:  # the common case, without ensure_future's checks
        return loop.create_task(awaitable)
    return asyncio.ensure_future(awaitable, loop=loop)


def _noted(exc: BaseException, runnable: Runnable[Any, Any], node_id: str) -> BaseException:
    if not isinstance(exc, ABORTS):
        note_failed_node(exc, node_id, runnable.kind)  # once: inner notes win
    return exc


async def _fanout_async(command: Fanout, step: Step) -> dict[str, Any]:
    branches = command.branches
    size = len(branches)
    if size == 0:
        return {}
    token = fanout_scope(step)
    if size == 1:
        part, key, runnable = branches[0]
        return {key: await execute_async(runnable, command.input, step.child(part, token=token))}
    loop = asyncio.get_running_loop()
    tasks = [
        _as_task(loop, _branch_awaitable(runnable, command.input, step.child(part, token=token)))
        for part, _, runnable in branches
    ]
    failed: list[asyncio.Future[Any]] = []
    all_done: asyncio.Future[None] = loop.create_future()
    remaining = size

    # One callback for every task (no partial per task): the failed task is found by
    # identity afterwards, which happens once per run at most.
    def on_done(task: asyncio.Future[Any]) -> None:
        nonlocal remaining
        remaining -= 1
        if all_done.done():
            return
        if not task.cancelled() and task.exception() is not None:
            failed.append(task)
            all_done.set_result(None)
        elif remaining == 0:
            all_done.set_result(None)

    for task in tasks:
        task.add_done_callback(on_done)
    try:
        await all_done
    except BaseException:  # the caller was cancelled (Stop, Interrupt): cancel every branch
        for task in tasks:
            task.cancel()
        step.cancel_scope(token, "cancelled")
        raise
    if not failed:
        return {key: task.result() for (_, key, _), task in zip(branches, tasks)}
    index = tasks.index(failed[0])
    part, _, runnable = branches[index]
    error = (index, _noted(failed[0].exception(), runnable, step.child_id(part)))  # type: ignore[arg-type]
    finished = [t.done() and not t.cancelled() and t.exception() is None for t in tasks]
    results = [t.result() if ok else None for t, ok in zip(tasks, finished)]
    for task in tasks:
        if not task.done():
            task.cancel()
    return fanout_result(command, step, token, results, finished, error)
