"""Threads for sync branches, and a private event loop for async-only steps.

One process-wide pool grows with demand: a task goes to an idle thread, or to a
new one while fewer than :data:`MAX_THREADS` exist, so N branches that block all
run at once (langchain-core's fresh 6-thread pool runs 128 of them in 2.2 s).
Idle threads exit after :data:`IDLE_SECONDS`. When the ceiling is reached the
task waits in a queue and :meth:`ThreadPool.submit` says so, so that a caller
can run queued work itself instead of waiting (nested parallels never deadlock).
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["MAX_THREADS", "ThreadPool", "run_coroutine_sync", "run_in_pool", "shared_pool"]

T = TypeVar("T")

MAX_THREADS = 4096
IDLE_SECONDS = 30.0


class ThreadPool:
    """A pool whose threads are made on demand, up to a ceiling, and retire when idle.

    Idle threads block in ``SimpleQueue.get``, which wakes exactly one of them per task
    in C. (A ``Condition`` woke a thousand threads that then queued for its lock one
    by one.) The lock guards three counters: threads, idle threads and tasks queued
    but not yet taken; an idle thread is free to take a new task only beyond the
    queued ones.
    """

    def __init__(self, max_threads: int = MAX_THREADS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.max_threads = max_threads
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._threads = 0
        self._idle = 0
        self._queued = 0

    @property
    def thread_count(self) -> int:
        return self._threads

    @property
    def idle_count(self) -> int:
        """Threads waiting for a task."""
        return self._idle

    def submit(self, task: Callable[[], None]) -> bool:
        """Queue ``task``; True if a thread will take it now, False if the pool is full."""
        return self.submit_many(task, 1) == 1

    def submit_many(self, task: Callable[[], None], count: int) -> int:
        """Queue ``count`` runs of ``task``; return how many threads take them now.

        Runs beyond the returned number wait for a thread (the pool is full), so a
        caller can do that work itself rather than wait.
        """
        if count <= 0:
            return 0
        with self._lock:
            free = max(0, self._idle - self._queued)
            taken_by_idle = min(count, free)
            started = min(count - taken_by_idle, self.max_threads - self._threads)
            self._threads += started
            self._queued += count
        for _ in range(count):
            self._tasks.put(task)
        # Started outside the lock: a new thread's first act is to take it.
        for _ in range(started):
            threading.Thread(target=self._work, name="chainviz-worker", daemon=True).start()
        return taken_by_idle + started

    def _work(self) -> None:
        lock, tasks = self._lock, self._tasks
        while True:
            with lock:
                self._idle += 1
            try:
                task = tasks.get(timeout=self.idle_seconds)
            except queue.Empty:
                with lock:
                    # Retire only if the queued tasks do not count on this thread.
                    if self._queued < self._idle:
                        self._idle -= 1
                        self._threads -= 1
                        return
                    self._idle -= 1
                continue
            with lock:
                self._idle -= 1
                self._queued -= 1
            task()  # tasks handle their own exceptions


_pool = ThreadPool()


def shared_pool() -> ThreadPool:
    """The process-wide pool."""
    return _pool


def _reset_after_fork() -> None:
    # Threads do not survive fork; a child must not wait on the parent's workers.
    global _pool, _loop_thread
    _pool = ThreadPool()
    _loop_thread = None


os.register_at_fork(after_in_child=_reset_after_fork)


class _LoopThread:
    """A daemon thread running an event loop, for async-only steps under sync invoke."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="chainviz-loop", daemon=True)
        self.thread.start()
        ready.wait()


_loop_thread: _LoopThread | None = None
_loop_lock = threading.Lock()


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop_thread
    with _loop_lock:
        if _loop_thread is None:
            _loop_thread = _LoopThread()
        return _loop_thread.loop


def run_coroutine_sync(
    coro: Coroutine[Any, Any, T], on_cancel: Callable[[Callable[[], None]], Callable[[], None]]
) -> T:
    """Run ``coro`` to completion on the private loop thread and return its result.

    Works whether or not the calling thread has a running loop (a notebook cell
    does), and needs no ``nest_asyncio``. ``on_cancel`` registers a callback that
    cancels the coroutine (the run's cancel token); an Interrupt cancels it too.
    """
    future = asyncio.run_coroutine_threadsafe(coro, _private_loop())
    def cancel() -> None:
        future.cancel()

    remove = on_cancel(cancel)
    try:
        while True:
            try:
                return future.result(timeout=0.25)
            except TimeoutError:
                continue
    except BaseException:
        future.cancel()
        raise
    finally:
        remove()


async def run_in_pool(function: Callable[..., Any], *args: Any) -> Any:
    """Run a sync function on the shared pool and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def task() -> None:
        try:
            result, error = function(*args), None
        except BaseException as exc:
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the awaiting loop is gone (its run was abandoned); nobody wants the result

    shared_pool().submit(task)
    return await future
