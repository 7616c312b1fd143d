"""How often a view redraws, kept apart from how often its state changes.

Events can arrive thousands of times a second; a browser needs a few frames a
second (it animates running bars with its own clock in between). A
:class:`Throttle` sits between the two: the event sink only calls
:meth:`Throttle.mark` (a flag, no lock, no message); a :class:`RefreshTimer`
thread calls :meth:`Throttle.tick` every interval, which renders and publishes
one snapshot if anything changed and the interval has passed on the throttle's
clock; :meth:`Throttle.flush` publishes once more at the end, whatever the time.

The clock is a parameter (``clock=``, seconds), so tests drive the throttle with a
fake clock and call ``tick`` themselves; no test waits on wall-clock seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["DEFAULT_INTERVAL", "RefreshTimer", "Throttle"]

#: Seconds between two published snapshots at most (ten a second).
DEFAULT_INTERVAL = 0.1

T = TypeVar("T")


class Throttle(Generic[T]):
    """Render with ``render()`` and hand the result to ``publish`` at most once per
    ``interval`` seconds of ``clock()``, and only when :meth:`mark` was called since.

    ``snapshot`` is the last published value (a cache: reading it renders nothing).
    """

    def __init__(
        self,
        render: Callable[[], T],
        publish: Callable[[T], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"A throttle's interval must be above 0 seconds, not {interval!r}.")
        self.interval = interval
        self._render = render
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._dirty = False
        self._last: float | None = None
        self.snapshot: T | None = None
        #: How many snapshots were published (ticks and flushes).
        self.published = 0

    def mark(self) -> None:
        """Something changed (cheap: called by event sinks on the run's threads)."""
        self._dirty = True

    @property
    def dirty(self) -> bool:
        return self._dirty

    def tick(self) -> bool:
        """Publish if something changed and ``interval`` has passed since the last
        publication; True if it published."""
        with self._lock:
            if not self._dirty:
                return False
            now = self._clock()
            if self._last is not None and now - self._last < self.interval:
                return False
            self._emit(now)
            return True

    def flush(self) -> None:
        """Publish now, changed or not, interval or not (the final state of a run)."""
        with self._lock:
            self._emit(self._clock())

    def _emit(self, now: float) -> None:
        self._dirty = False
        self._last = now
        value = self._render()
        self.snapshot = value
        self.published += 1
        self._publish(value)


class RefreshTimer:
    """A daemon thread that calls ``throttle.tick()`` every ``throttle.interval`` seconds
    until :meth:`stop`, which ends the thread and then flushes once."""

    def __init__(self, throttle: Throttle[object] | Throttle[T], *, name: str = "chainviz-refresh"
                 ) -> None:
        self._throttle = throttle
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> RefreshTimer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        interval = self._throttle.interval
        while not self._stopped.wait(interval):
            try:
                self._throttle.tick()
            except Exception:  # a failed redraw must not end the redraws, nor the run
                continue

    def stop(self, *, flush: bool = True) -> None:
        """Stop ticking; with ``flush``, publish the final state once."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        if flush:
            self._throttle.flush()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()
