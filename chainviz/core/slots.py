"""A counting limit shared by the threads and the tasks of one run (``max_concurrency``).

Only leaf steps (models, functions, retrievers) take a slot; a composite waiting
for its children holds none, so nesting can never deadlock. Waiters are served
first come, first served, whether they are threads or coroutines, and a waiter
gives up at once when its scope is cancelled.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable
from typing import TypeVar

from chainviz.core.cancel import CancelToken

__all__ = ["Slots"]


class _ThreadWaiter:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()


class _TaskWaiter:
    __slots__ = ("future", "loop")

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[None] = self.loop.create_future()

    def wake(self) -> None:
        def grant() -> None:
            if not self.future.done():
                self.future.set_result(None)

        self.loop.call_soon_threadsafe(grant)


_Waiter = _ThreadWaiter | _TaskWaiter
W = TypeVar("W", _ThreadWaiter, _TaskWaiter)


class Slots:
    """At most ``limit`` holders at a time."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = limit
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self.peak = 0

    def _take_or_queue(self, make_waiter: Callable[[], W]) -> W | None:
        """Take a free slot (None), or queue a new waiter and return it.

        The waiter is made only when one must wait: a threading.Event costs more
        than the rest of a step, and a free slot is the common case.
        """
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                held = self.limit - self._free
                if held > self.peak:
                    self.peak = held
                return None
            waiter = make_waiter()
            self._waiters.append(waiter)
            return waiter

    def acquire(self, token: CancelToken, node_id: str) -> None:
        """Block until a slot is free; raise ``RunCancelled`` if the scope is cancelled."""
        waiter = self._take_or_queue(_ThreadWaiter)
        if waiter is None:
            return
        remove = token.on_cancel(waiter.wake)
        try:
            while not waiter.event.wait(0.25):
                pass
        finally:
            remove()
        self._granted_or_withdraw(waiter, token, node_id)

    async def acquire_async(self, token: CancelToken, node_id: str) -> None:
        """The async twin of :meth:`acquire`."""
        waiter = self._take_or_queue(_TaskWaiter)
        if waiter is None:
            return
        remove = token.on_cancel(waiter.wake)
        try:
            await asyncio.shield(waiter.future)
        except asyncio.CancelledError:
            self._withdraw(waiter)
            raise
        finally:
            remove()
        self._granted_or_withdraw(waiter, token, node_id)

    def _granted_or_withdraw(self, waiter: _Waiter, token: CancelToken, node_id: str) -> None:
        if token.cancelled:
            self._withdraw(waiter)
            token.raise_if_cancelled(node_id)

    def _withdraw(self, waiter: _Waiter) -> None:
        """Leave the queue; if a slot had already been handed over, give it back."""
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return
        self.release()

    def release(self) -> None:
        """Free a slot, handing it straight to the first waiter if there is one."""
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
            else:
                self._free += 1
                return
        waiter.wake()
