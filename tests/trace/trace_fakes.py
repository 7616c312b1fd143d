"""Small runnables, a fake clock and a synthetic event script for the trace tests.

Chains are built from the core only; the "model" here is a tiny Runnable of kind
``model`` whose output looks like a chat message (``content``, ``usage_metadata``,
``response_metadata``), enough for the duck-typed ``gen_ai.*`` attributes.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from chainviz.core import events as ev
from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.trace import ClockAnchor, Recorder, Trace
from chainviz.trace.build import build_traces

SENTINEL_KEY = "sk-proj-SENTINEL0123456789abcdefXYZ"


@dataclass
class FakeMessage:
    content: str
    usage_metadata: dict[str, int] = field(default_factory=dict)
    response_metadata: dict[str, Any] = field(default_factory=dict)


class FakeChatModel(Runnable[Any, FakeMessage]):
    """Streams one token per word of its input and answers with a message."""

    kind = "model"
    uses_slot = True

    def __init__(self, model_name: str = "fake-gpt-1", *, api_key: str = SENTINEL_KEY) -> None:
        self.model_name = model_name
        self.api_key = api_key  # must never reach an export
        self.name = "FakeChatModel"

    def _call(self, input: Any, step: Step) -> FakeMessage:
        words = str(input).split()
        for word in words:
            step.emit_token(word)
        return FakeMessage(
            content=f"answer to {input}",
            usage_metadata={
                "input_tokens": len(words), "output_tokens": 3, "total_tokens": len(words) + 3
            },
            response_metadata={"model_name": self.model_name},
        )


class Sleep(Runnable[Any, Any]):
    """Waits on the run's cancel token (so a cancelled run stops it at once)."""

    kind = "function"
    uses_slot = True

    def __init__(self, seconds: float, result: Any = "slept", name: str = "sleep") -> None:
        self.seconds = seconds
        self.result = result
        self.name = name
        self.started = threading.Event()

    def _call(self, input: Any, step: Step) -> Any:
        self.started.set()
        step.sleep(self.seconds)
        return self.result

    async def _acall(self, input: Any, step: Step) -> Any:
        self.started.set()
        await step.asleep(self.seconds)
        return self.result


def run(chain: Runnable[Any, Any], input: Any, config: Any, mode: str, **kwargs: Any) -> Any:
    """``invoke`` or ``ainvoke`` (on a fresh loop), as ``mode`` says."""
    if mode == "sync":
        return chain.invoke(input, config, **kwargs)
    return asyncio.run(chain.ainvoke(input, config, **kwargs))


class FakeClock:
    """Returns 0, then advances by each of ``steps`` in turn on every other read.

    ``timeit`` reads the clock just before and just after each timed run, so the
    measured runs take exactly ``steps`` seconds.
    """

    def __init__(self, steps: Iterable[float]) -> None:
        self.steps = list(steps)
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        if self.reads % 2 == 1:
            self.now += self.steps[self.reads // 2]
        self.reads += 1
        return self.now


class EventScript:
    """Write a run's events by hand, with exact timestamps (nanoseconds)."""

    _ids = itertools.count(10_000)

    def __init__(self) -> None:
        self.events: list[ev.RunEvent] = []
        self._meta: dict[int, tuple[int | None, str, str, str]] = {}

    def start(
        self, node_id: str, kind: str, t: int, parent: int | None = None, name: str | None = None
    ) -> int:
        run_id = next(self._ids)
        label = name or f"{kind}:{node_id or 'root'}"
        self._meta[run_id] = (parent, node_id, kind, label)
        self.events.append(ev.StartEvent(t, run_id, parent, node_id, kind, label, None))
        return run_id

    def _head(self, run_id: int, t: int) -> tuple[int, int, int | None, str, str, str]:
        parent, node_id, kind, name = self._meta[run_id]
        return (t, run_id, parent, node_id, kind, name)

    def end(self, run_id: int, t: int, output: Any = None) -> None:
        self.events.append(ev.EndEvent(*self._head(run_id, t), output))

    def error(self, run_id: int, t: int, error: BaseException) -> None:
        self.events.append(ev.ErrorEvent(*self._head(run_id, t), error))

    def cancel(self, run_id: int, t: int, reason: str = "cancelled") -> None:
        self.events.append(ev.CancelEvent(*self._head(run_id, t), reason))

    def token(self, run_id: int, t: int, text: str = "tok") -> None:
        self.events.append(ev.TokenEvent(*self._head(run_id, t), text, None))

    def trace(self, anchor: ClockAnchor | None = None) -> Trace:
        if anchor is None:
            recorder = Recorder()
            for event in self.events:
                recorder.on_event(event)
            return recorder.last
        return build_traces(self.events, lambda _: anchor)[-1]


MS = 1_000_000  # nanoseconds in a millisecond


def parallel_script() -> tuple[EventScript, dict[str, int]]:
    """A parallel (root) of a fast branch (0–30 ms) and a slow sequence branch (0–80 ms)."""
    s = EventScript()
    root = s.start("", "parallel", 0)
    fast = s.start("fast", "function", 1 * MS, root)
    slow = s.start("slow", "sequence", 1 * MS, root)
    slow0 = s.start("slow/0", "prompt", 2 * MS, slow)
    s.end(fast, 31 * MS, "f")
    s.end(slow0, 10 * MS, "p")
    slow1 = s.start("slow/1", "model", 11 * MS, slow)
    s.token(slow1, 20 * MS)
    s.token(slow1, 30 * MS)
    s.end(slow1, 80 * MS, "m")
    s.end(slow, 81 * MS, "m")
    s.end(root, 82 * MS, {"fast": "f", "slow": "m"})
    ids = {"root": root, "fast": fast, "slow": slow, "slow/0": slow0, "slow/1": slow1}
    return s, ids


class VirtualClock:
    """Time that passes only when a step says so: ``advance(seconds)``.

    Patch it in as the core's event clock (``ns``) and pass ``seconds`` to ``timeit``:
    every latency then comes out exactly as the steps declared it.
    """

    def __init__(self) -> None:
        self.now_ns = 0

    def advance(self, seconds: float) -> None:
        self.now_ns += round(seconds * 1e9)

    def ns(self) -> int:
        return self.now_ns

    def seconds(self) -> float:
        return self.now_ns / 1e9

    def step(self, name: str, *durations: float) -> Any:
        """A lambda step that takes each of ``durations`` in turn (the last one repeats)."""
        from chainviz import RunnableLambda

        remaining = list(durations)

        def body(x: Any) -> Any:
            self.advance(remaining.pop(0) if len(remaining) > 1 else remaining[0])
            return x

        return RunnableLambda(body, name=name)
