"""Cancel tokens: how a run tells its running steps to stop.

A token belongs to a scope (a run, or one branch of a parallel). Cancelling a
token cancels every token made from it. Threads see it at their next step or
chunk boundary, or at once when they wait through :meth:`CancelToken.wait`;
async waiters are woken through the loop they wait on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from chainviz.errors import RunCancelled

__all__ = ["CancelToken"]


# One lock for every token's bookkeeping. Its critical sections are a few list
# operations, and a parallel makes a token per branch: a lock per token cost as much
# as the rest of the token (10,000 async branches made 10,000 locks).
_lock = threading.Lock()


class CancelToken:
    """A cancellable scope. Cheap to make; lists and the event behind ``wait`` come lazily."""

    __slots__ = ("_callbacks", "_children", "_event", "cancelled", "parent", "reason")

    def __init__(self, parent: CancelToken | None = None) -> None:
        self.cancelled = False
        self.reason = ""
        self._event: threading.Event | None = None
        self._children: list[CancelToken] | None = None
        self._callbacks: list[Callable[[], None]] | None = None
        self.parent = parent
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: CancelToken) -> None:
        # acquire/release rather than `with` (half the cost): every branch and every
        # batch item comes through here.
        _lock.acquire()
        try:
            if not self.cancelled:
                if self._children is None:
                    self._children = [child]
                else:
                    self._children.append(child)
                return
        finally:
            _lock.release()
        child.cancel(self.reason)

    def child(self) -> CancelToken:
        """A token cancelled whenever this one is (but not the other way round)."""
        return CancelToken(self)

    def detach(self) -> None:
        """Stop listening to the parent (a finished run must not pile up in a long-lived
        token's children)."""
        parent = self.parent
        if parent is not None:
            _lock.acquire()
            try:
                if parent._children:
                    parent._children.remove(self)
            except ValueError:
                pass
            finally:
                _lock.release()

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel this scope and every scope made from it; idempotent."""
        with _lock:
            if self.cancelled:
                return
            self.cancelled = True
            self.reason = reason
            children, self._children = self._children, None
            callbacks, self._callbacks = self._callbacks, None
            event = self._event
        # Outside the lock: callbacks may take locks of their own, and children take it.
        if event is not None:
            event.set()
        for callback in callbacks or ():
            callback()
        for child in children or ():
            child.cancel(reason)

    def raise_if_cancelled(self, node_id: str | None = None) -> None:
        """Raise :class:`RunCancelled` if this scope was cancelled."""
        if self.cancelled:
            raise RunCancelled(f"The run was cancelled ({self.reason}).", node_id=node_id)

    def wait(self, timeout: float | None) -> bool:
        """Sleep up to ``timeout`` seconds, waking at once on cancel; True if cancelled."""
        if self.cancelled:
            return True
        with _lock:
            if self._event is None:
                self._event = threading.Event()
                if self.cancelled:
                    self._event.set()
            event = self._event
        return event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from the cancelling thread) when cancelled; returns a remover."""
        with _lock:
            if not self.cancelled:
                if self._callbacks is None:
                    self._callbacks = [callback]
                else:
                    self._callbacks.append(callback)

                def remove() -> None:
                    with _lock:
                        if self._callbacks and callback in self._callbacks:
                            self._callbacks.remove(callback)

                return remove
        callback()
        return lambda: None

    async def async_wait(self, timeout: float | None) -> bool:
        """The async twin of :meth:`wait`: sleep, but wake as soon as the scope is cancelled."""
        if self.cancelled:
            return True
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            def set_once() -> None:
                if not woken.done():
                    woken.set_result(None)

            try:
                loop.call_soon_threadsafe(set_once)
            except RuntimeError:  # the loop has closed: nobody waits here any more
                pass

        remove = self.on_cancel(wake)
        try:
            await asyncio.wait_for(asyncio.shield(woken), timeout)
        except TimeoutError:
            pass
        finally:
            remove()
        return self.cancelled
