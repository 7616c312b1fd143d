"""Run events: frozen values delivered to the sinks in a run's ``callbacks``.

Every event has a monotonic timestamp in nanoseconds (``time_ns``, from
:data:`clock`), the id of the step's run and of its parent's run, the step's
node id, kind and name, and the id of the whole invoke (``trace_id``: the same for
every event of one ``invoke``/``ainvoke``/``stream`` call, retries of the root
included). A run of one step emits ``start`` and then exactly one of ``end`` (with
the output), ``error`` (with the exception) or ``cancel``; model steps emit
``token`` events in between. With no sink attached no event object is built.

Events are named tuples: immutable, and about five times cheaper to make than
frozen dataclasses, which matters on the per-step path. ``event.type`` names the
kind of event.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Protocol, runtime_checkable

__all__ = [
    "CancelEvent",
    "EndEvent",
    "ErrorEvent",
    "EventSink",
    "RunEvent",
    "StartEvent",
    "TokenEvent",
    "clock",
]

#: The clock every event is stamped with; tests may replace it with a fake.
clock = time.perf_counter_ns


class StartEvent(NamedTuple):
    """A step started; ``input`` is what it was given."""

    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    input: Any = None
    trace_id: int = 0

    @property
    def type(self) -> str:
        return "start"


class EndEvent(NamedTuple):
    """A step finished; ``output`` is its output (the object itself, not a copy)."""

    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    output: Any = None
    trace_id: int = 0

    @property
    def type(self) -> str:
        return "end"


class ErrorEvent(NamedTuple):
    """A step failed with ``error``."""

    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    error: BaseException | None = None
    trace_id: int = 0

    @property
    def type(self) -> str:
        return "error"


class CancelEvent(NamedTuple):
    """A step was stopped before it finished; ``reason`` says why."""

    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    reason: str = ""
    trace_id: int = 0

    @property
    def type(self) -> str:
        return "cancel"


class TokenEvent(NamedTuple):
    """A model step produced a token (``text``); ``chunk`` is the message chunk."""

    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    text: str = ""
    chunk: Any = None
    trace_id: int = 0

    @property
    def type(self) -> str:
        return "token"


#: Any run event (usable with ``isinstance`` too).
RunEvent = StartEvent | EndEvent | ErrorEvent | CancelEvent | TokenEvent


@runtime_checkable
class EventSink(Protocol):
    """An object sink: anything with ``on_event``. A plain callable works too."""

    def on_event(self, event: RunEvent) -> None: ...
