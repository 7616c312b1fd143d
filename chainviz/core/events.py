"""Run events: frozen values delivered to the sinks in a run's ``callbacks``.

Every event has a monotonic timestamp in nanoseconds (``time_ns``, from
:data:`clock`), the id of the step's run and of its parent's run, the step's
node id and kind. A run of one step emits ``start`` and then exactly one of
``end`` (with the output), ``error`` (with the exception) or ``cancel``; model
steps emit ``token`` events in between. With no sink attached no event object is
built at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class RunEvent:
    """What every event carries."""

    type: ClassVar[str] = "event"
    time_ns: int
    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class StartEvent(RunEvent):
    """A step started; ``input`` is what it was given."""

    type: ClassVar[str] = "start"
    input: Any = None


@dataclass(frozen=True, slots=True)
class EndEvent(RunEvent):
    """A step finished; ``output`` is its output (the object itself, not a copy)."""

    type: ClassVar[str] = "end"
    output: Any = None


@dataclass(frozen=True, slots=True)
class ErrorEvent(RunEvent):
    """A step failed with ``error``."""

    type: ClassVar[str] = "error"
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class CancelEvent(RunEvent):
    """A step was stopped before it finished; ``reason`` says why."""

    type: ClassVar[str] = "cancel"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TokenEvent(RunEvent):
    """A model step produced a token (``text``); ``chunk`` is the message chunk."""

    type: ClassVar[str] = "token"
    text: str = ""
    chunk: Any = None


@runtime_checkable
class EventSink(Protocol):
    """An object sink: anything with ``on_event``. A plain callable works too."""

    def on_event(self, event: RunEvent) -> None: ...
