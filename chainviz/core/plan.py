"""The commands a composite's plan yields to its driver.

A composite (sequence, parallel, retry, …) is written once as a generator — its
*plan* — that yields :class:`Call`, :class:`Fanout` and :class:`Sleep` and gets
each result back (or has the child's exception thrown in, so a retry or fallback
can catch it). :mod:`chainviz.core.execute` carries plans out, with threads or
with tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any

from chainviz.core.config import RunnableConfig
from chainviz.core.run import Sink
from chainviz.errors import RunCancelled

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = ["ABORTS", "Call", "Command", "Fanout", "Plan", "Sleep"]

# Exceptions that stop a run rather than fail a step: they are never thrown into plans.
ABORTS: tuple[type[BaseException], ...] = (
    RunCancelled,
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    asyncio.CancelledError,
)


class Call:
    """Run one child. ``part`` is its escaped id part, or None for a wrapper's inner runnable."""

    __slots__ = ("config", "input", "kwargs", "part", "runnable", "sinks")

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        part: str | None,
        input: Any,
        *,
        config: RunnableConfig | None = None,
        sinks: tuple[Sink, ...] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.runnable = runnable
        self.part = part
        self.input = input
        self.config = config
        self.sinks = sinks
        self.kwargs = kwargs


class Fanout:
    """Run several children on the same input at once; the result maps key → output."""

    __slots__ = ("branches", "input")

    def __init__(self, branches: list[tuple[str, str, Runnable[Any, Any]]], input: Any) -> None:
        self.branches = branches  # (escaped part, key, runnable)
        self.input = input


class Sleep:
    """Wait, waking at once if the run is cancelled."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


Command = Call | Fanout | Sleep
Plan = Generator[Command, Any, Any]
