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
from typing import Any, Generic, TypeVar

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


class _Ticker:
    """One daemon thread for the whole process, ticking every registered throttle.

    Starting a thread costs milliseconds (the caller waits for it to start); a view
    starts and stops refreshing on every run, so the thread is made once and sleeps
    while no run is going on.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._timers: list[RefreshTimer] = []
        self._thread: threading.Thread | None = None

    def add(self, timer: RefreshTimer) -> None:
        with self._cond:
            if timer not in self._timers:
                self._timers.append(timer)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="chainviz-refresh", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def discard(self, timer: RefreshTimer) -> None:
        with self._cond:
            if timer in self._timers:
                self._timers.remove(timer)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._timers:
                    self._cond.wait()
                timers = list(self._timers)
                interval = min(t.interval for t in timers)
            for timer in timers:
                timer.beat()
            with self._cond:
                self._cond.wait(interval)


_TICKER = _Ticker()


class RefreshTimer:
    """Ticks ``throttle`` every ``throttle.interval`` seconds (on a shared daemon thread)
    between :meth:`start` and :meth:`stop`; ``stop`` flushes once, after which no tick
    of this timer publishes. With ``flush_first``, the ticking thread publishes once as
    soon as it wakes (so the caller does not pay for the first render)."""

    def __init__(self, throttle: Throttle[Any]) -> None:
        self._throttle = throttle
        self.interval = throttle.interval
        self._lock = threading.Lock()
        self._active = False
        self._flush_first = False

    def start(self, *, flush_first: bool = False) -> RefreshTimer:
        with self._lock:
            self._active = True
            self._flush_first = flush_first
        _TICKER.add(self)
        return self

    def beat(self) -> None:
        """One tick (called by the shared thread); nothing once stopped."""
        with self._lock:  # held while publishing, so stop() waits for a tick in flight
            if not self._active:
                return
            try:
                if self._flush_first:
                    self._flush_first = False
                    self._throttle.flush()
                else:
                    self._throttle.tick()
            except Exception:  # a failed redraw must not end the redraws, nor the run
                pass

    def stop(self, *, flush: bool = True) -> None:
        """Stop ticking; with ``flush``, publish the final state once."""
        _TICKER.discard(self)
        with self._lock:
            self._active = False
            self._flush_first = False
        if flush:
            self._throttle.flush()

    @property
    def running(self) -> bool:
        return self._active
