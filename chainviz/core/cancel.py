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


class CancelToken:
    """A cancellable scope. Cheap to make; the event behind ``wait`` is made lazily."""

    __slots__ = ("_callbacks", "_children", "_event", "_lock", "cancelled", "parent", "reason")

    def __init__(self, parent: CancelToken | None = None) -> None:
        self.cancelled = False
        self.reason = ""
        self._lock = threading.Lock()
        self._event: threading.Event | None = None
        self._children: list[CancelToken] = []
        self._callbacks: list[Callable[[], None]] = []
        self.parent = parent
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: CancelToken) -> None:
        with self._lock:
            if not self.cancelled:
                self._children.append(child)
                return
        child.cancel(self.reason)

    def child(self) -> CancelToken:
        """A token cancelled whenever this one is (but not the other way round)."""
        return CancelToken(self)

    def detach(self) -> None:
        """Stop listening to the parent (a finished run must not pile up in a long-lived
        token's children)."""
        parent = self.parent
        if parent is not None:
            with parent._lock:
                try:
                    parent._children.remove(self)
                except ValueError:
                    pass

    def cancel(self, reason: str = "cancelled") -> None:
        """Cancel this scope and every scope made from it; idempotent."""
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            self.reason = reason
            children, self._children = self._children, []
            callbacks, self._callbacks = self._callbacks, []
            event = self._event
        if event is not None:
            event.set()
        for callback in callbacks:
            callback()
        for child in children:
            child.cancel(reason)

    def raise_if_cancelled(self, node_id: str | None = None) -> None:
        """Raise :class:`RunCancelled` if this scope was cancelled."""
        if self.cancelled:
            raise RunCancelled(f"The run was cancelled ({self.reason}).", node_id=node_id)

    def wait(self, timeout: float | None) -> bool:
        """Sleep up to ``timeout`` seconds, waking at once on cancel; True if cancelled."""
        if self.cancelled:
            return True
        with self._lock:
            if self._event is None:
                self._event = threading.Event()
                if self.cancelled:
                    self._event.set()
            event = self._event
        return event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from the cancelling thread) when cancelled; returns a remover."""
        with self._lock:
            if not self.cancelled:
                self._callbacks.append(callback)

                def remove() -> None:
                    with self._lock:
                        if callback in self._callbacks:
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
