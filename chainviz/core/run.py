"""The state of one run, and the view of it that each executing step gets.

A :class:`RunContext` is made per ``invoke``/``ainvoke`` (per item in a batch):
the concurrency limit, the sinks that were detached because they raised, the
runs that have started but not ended, and whether the run's last event has been
delivered (after it, no event reaches a sink). A :class:`Step` is one executing
runnable: its node id, its run id, its cancel scope, its config and sinks. Leaf
steps use it to stream tokens, sleep on the cancel token and read config.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chainviz.core import events as ev
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.core.slots import Slots

if TYPE_CHECKING:
    from chainviz.core.base import Runnable

__all__ = ["RunContext", "Sink", "Step", "new_run_id"]

Sink = Callable[[ev.RunEvent], None]

# Events are built straight from their field tuples on the per-step path: the named
# tuples' generated __new__ (a Python function) costs as much again.
_new = tuple.__new__

_run_ids = itertools.count(1)
new_run_id = _run_ids.__next__


def _as_sink(candidate: Any) -> Sink:
    on_event = getattr(candidate, "on_event", None)
    if callable(on_event):
        return on_event  # type: ignore[no-any-return]
    if callable(candidate):
        return candidate  # type: ignore[no-any-return]
    from chainviz.errors import ConfigError

    raise ConfigError(
        f"Each entry of callbacks must be a callable or an object with on_event(event), "
        f"but a {type(candidate).__name__} was given."
    )


def as_sinks(callbacks: Sequence[Any] | None) -> tuple[Sink, ...]:
    """Normalise a config's ``callbacks`` into plain callables."""
    return tuple(_as_sink(c) for c in callbacks) if callbacks else ()


class RunContext:
    """Shared by every step of one run."""

    __slots__ = ("closed", "detached", "lock", "open_runs", "slots", "trace_id")

    def __init__(self, max_concurrency: int | None) -> None:
        self.trace_id = new_run_id()
        self.lock = threading.Lock()
        self.slots = Slots(max_concurrency) if max_concurrency else None
        self.closed = False
        self.detached: set[int] = set()
        self.open_runs: dict[int, Step] = {}

    def close(self) -> None:
        """The root step has ended: from now on no event reaches a sink."""
        with self.lock:
            self.closed = True
            self.open_runs.clear()

    def deliver(self, sinks: tuple[Sink, ...], event: ev.RunEvent) -> None:
        """Call each sink; a sink that raises is detached with one warning (caller holds lock)."""
        detached = self.detached
        for sink in sinks:
            if detached and id(sink) in detached:
                continue
            try:
                sink(event)
            except Exception as exc:
                self.detached.add(id(sink))
                warnings.warn(
                    f"chainviz detached the event sink {sink!r} because it raised "
                    f"{type(exc).__name__}: {exc}. The run goes on without it.",
                    RuntimeWarning,
                    stacklevel=2,
                )


class Step:
    """One executing runnable, as its implementation sees it."""

    __slots__ = (
        "config",
        "ctx",
        "kind",
        "kwargs",
        "name",
        "node_id",
        "parent",
        "parent_run_id",
        "run_id",
        "sinks",
        "token",
    )

    def __init__(
        self,
        ctx: RunContext,
        node_id: str,
        token: CancelToken,
        sinks: tuple[Sink, ...],
        config: RunnableConfig,
        parent: Step | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.ctx = ctx
        self.node_id = node_id
        self.token = token
        self.sinks = sinks
        self.config = config
        self.parent = parent
        self.parent_run_id: int | None = None  # resolved when the step begins
        self.run_id: int | None = None
        self.kind = ""
        self.name = ""
        self.kwargs: Mapping[str, Any] = kwargs or {}

    # -- what leaf implementations use -------------------------------------------------

    @property
    def tracing(self) -> bool:
        """True when events are being recorded (a sink is attached)."""
        return bool(self.sinks)

    @property
    def configurable(self) -> Mapping[str, Any]:
        return self.config.get("configurable") or {}

    def check_cancelled(self) -> None:
        """Raise :class:`~chainviz.errors.RunCancelled` if this step's scope was cancelled."""
        if self.token.cancelled:
            self.token.raise_if_cancelled(self.node_id)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, ending at once (with ``RunCancelled``) if the run is cancelled."""
        if (seconds > 0 and self.token.wait(seconds)) or self.token.cancelled:
            self.token.raise_if_cancelled(self.node_id)

    async def asleep(self, seconds: float) -> None:
        """The async twin of :meth:`sleep`."""
        if (seconds > 0 and await self.token.async_wait(seconds)) or self.token.cancelled:
            self.token.raise_if_cancelled(self.node_id)

    def emit_token(self, text: str, chunk: Any = None) -> None:
        """Report a streamed token (no-op without a sink)."""
        if self.sinks and self.run_id is not None:
            self._emit_open(
                ev.TokenEvent(
                    ev.clock(), self.run_id, self.parent_run_id, self.node_id, self.kind,
                    self.name, text, chunk, self.ctx.trace_id,
                ),
                terminal=False,
            )

    # -- what the executor uses ---------------------------------------------------------

    def child(
        self,
        escaped_part: str | None,
        *,
        token: CancelToken | None = None,
        config: RunnableConfig | None = None,
        sinks: tuple[Sink, ...] | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> Step:
        """The step of a child: a new path part, or the same id for a wrapper's inner runnable."""
        return Step(
            self.ctx,
            self.child_id(escaped_part),
            token or self.token,
            self.sinks if sinks is None else sinks,
            self.config if config is None else config,
            self,
            self.kwargs if kwargs is None and escaped_part is None else kwargs,
        )

    def child_id(self, escaped_part: str | None) -> str:
        """The node id of a child with this (escaped) path part."""
        if escaped_part is None:
            return self.node_id
        return f"{self.node_id}/{escaped_part}" if self.node_id else escaped_part

    def begin(self, runnable: Runnable[Any, Any], input: Any) -> None:
        """Emit the start event (the caller checked that a sink is attached)."""
        self.kind = kind = runnable.kind
        name = runnable.get_name()
        # The parent run is the nearest enclosing step that began: wrappers never begin,
        # and a streaming sequence makes its children's steps before it begins itself.
        parent = self.parent
        if parent is None:
            name = self.config.get("run_name") or name
            parent_run_id = None
        else:
            while parent.run_id is None and parent.parent is not None:
                parent = parent.parent
            parent_run_id = parent.run_id
        self.name = name
        self.parent_run_id = parent_run_id
        run_id = new_run_id()
        ctx = self.ctx
        event = _new(
            ev.StartEvent,
            (ev.clock(), run_id, parent_run_id, self.node_id, kind, name, input, ctx.trace_id),
        )
        # acquire/release rather than `with`: half the cost, and this runs twice a step.
        ctx.lock.acquire()
        try:
            if ctx.closed or self.token.cancelled:
                return
            self.run_id = run_id
            ctx.open_runs[run_id] = self
            ctx.deliver(self.sinks, event)
        finally:
            ctx.lock.release()

    def finish(self, output: Any) -> None:
        run_id = self.run_id
        if run_id is None:
            return
        ctx = self.ctx
        event = _new(
            ev.EndEvent,
            (
                ev.clock(), run_id, self.parent_run_id, self.node_id, self.kind, self.name,
                output, ctx.trace_id,
            ),
        )
        ctx.lock.acquire()
        try:
            if ctx.open_runs.pop(run_id, None) is not None:
                ctx.deliver(self.sinks, event)
        finally:
            ctx.lock.release()

    def fail(self, error: BaseException) -> None:
        if self.run_id is not None:
            self._emit_open(
                ev.ErrorEvent(
                    ev.clock(), self.run_id, self.parent_run_id, self.node_id, self.kind,
                    self.name, error, self.ctx.trace_id,
                ),
                terminal=True,
            )

    def cancel_event(self, reason: str) -> None:
        if self.run_id is not None:
            self._emit_open(self._cancel(reason), terminal=True)

    def _cancel(self, reason: str) -> ev.CancelEvent:
        return ev.CancelEvent(
            ev.clock(), self.run_id or 0, self.parent_run_id, self.node_id, self.kind, self.name,
            reason, self.ctx.trace_id,
        )

    def _emit_open(self, event: ev.RunEvent, *, terminal: bool) -> None:
        ctx = self.ctx
        with ctx.lock:
            # A run missing from open_runs was already ended on its behalf (its scope
            # was cancelled) or the run is closed: its events are dropped.
            if terminal:
                if ctx.open_runs.pop(event.run_id, None) is None:
                    return
            elif event.run_id not in ctx.open_runs:
                return
            ctx.deliver(self.sinks, event)

    def cancel_scope(self, token: CancelToken, reason: str) -> None:
        """Cancel ``token`` and end, with cancel events, every open run inside it."""
        token.cancel(reason)
        if not self.sinks:
            return
        ctx = self.ctx
        with ctx.lock:
            inside = [s for s in ctx.open_runs.values() if _within(s.token, token)]
            for step in sorted(inside, key=lambda s: -(s.run_id or 0)):
                del ctx.open_runs[step.run_id]  # type: ignore[arg-type]
                ctx.deliver(step.sinks, step._cancel(reason))


def _within(token: CancelToken, scope: CancelToken) -> bool:
    current: CancelToken | None = token
    while current is not None:
        if current is scope:
            return True
        current = current.parent
    return False
