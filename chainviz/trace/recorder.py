"""A sink that records runs: pass it in ``config={"callbacks": [recorder]}``.

Recording is cheap on purpose: :meth:`Recorder.on_event` appends the event to a
list (and, for a run's first event, reads the wall clock once); it takes no lock.
The structured :class:`~chainviz.trace.model.Trace` is built only when asked for,
and cached until new events arrive.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from chainviz.core import events as ev
from chainviz.trace.build import build_traces
from chainviz.trace.model import ClockAnchor, Trace

__all__ = ["Recorder"]

_StartEvent = ev.StartEvent


class Recorder:
    """Collects every run it sees; ``recorder.last`` is the newest, ``recorder.traces`` all.

    Safe to share between threads and tasks (several runs at once included). Runs
    are told apart by their root step: a step whose parent this recorder has not
    seen starts a new trace. (So each attempt of a retry or fallback wrapped around
    the *whole* chain is a trace of its own: the core's events carry no id for the
    invoke that would tie them together.)
    """

    __slots__ = ("_anchors", "_cache", "_events", "_generation", "_lock", "_made_at")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[ev.RunEvent] = []
        # Root run id -> (wall ns, monotonic ns): a plain tuple on the recording path,
        # made into a ClockAnchor (a frozen dataclass, ~10x dearer) only when read.
        self._anchors: dict[int, tuple[int, int]] = {}
        self._generation = 0  # bumped by clear(), so a stale build is never cached
        self._cache: tuple[int, int, list[Trace]] = (0, 0, [])
        self._made_at = (time.time_ns(), ev.clock())

    @property
    def anchor(self) -> ClockAnchor:
        """Wall and monotonic clocks read together when the recorder was made; runs
        whose root it saw start get their own anchor, read at that moment."""
        return ClockAnchor(*self._made_at)

    def on_event(self, event: ev.RunEvent) -> None:
        """Record one event (called by the core, possibly from several threads)."""
        # No lock: list.append and a dict store are atomic, and a root's anchor is
        # stored before its start event, so a reader that sees the event sees the anchor.
        # (The lock cost a third of the recorder's time per step.)
        if event.parent_run_id is None and type(event) is _StartEvent:
            self._anchors[event.run_id] = (time.time_ns(), ev.clock())
        self._events.append(event)

    # ------------------------------------------------------------------- reading

    @property
    def events(self) -> tuple[ev.RunEvent, ...]:
        """Every event received, in arrival order."""
        with self._lock:
            return tuple(self._events)

    @property
    def traces(self) -> list[Trace]:
        """One trace per recorded run, in the order the runs started (snapshots)."""
        with self._lock:
            generation, count, cached = self._cache
            if generation == self._generation and count == len(self._events):
                return list(cached)
            generation, count = self._generation, len(self._events)
            events = self._events[:count]
            anchors = dict(self._anchors)
        default = self.anchor

        def anchor_for(root_id: int) -> ClockAnchor:
            clocks = anchors.get(root_id)
            return default if clocks is None else ClockAnchor(*clocks)

        traces = build_traces(events, anchor_for)
        with self._lock:
            stale = self._cache[0] != generation or self._cache[1] <= count
            if generation == self._generation and stale:
                self._cache = (generation, count, traces)
        return list(traces)

    @property
    def last(self) -> Trace:
        """The trace of the run that started last."""
        traces = self.traces
        if not traces:
            raise LookupError(
                "This recorder has not recorded a run yet. Pass it to a run with "
                "chain.invoke(input, config={'callbacks': [recorder]})."
            )
        return traces[-1]

    def clear(self) -> None:
        """Forget every recorded run."""
        with self._lock:
            self._events.clear()
            self._anchors.clear()
            self._generation += 1

    def __repr__(self) -> str:
        with self._lock:
            count = len(self._events)
        return f"<Recorder: {len(self.traces)} run(s), {count} event(s)>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        traces = self.traces
        if not traces:
            return {"text/plain": repr(self)}
        return traces[-1]._repr_mimebundle_(include, exclude)
