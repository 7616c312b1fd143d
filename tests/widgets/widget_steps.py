"""Small steps for widget tests: a cancellable sleep, a talker that streams tokens, a failure."""

from __future__ import annotations

import threading
from typing import Any

from chainviz.core import events as ev
from chainviz.core.base import Runnable
from chainviz.core.run import Step


class Sleep(Runnable[Any, Any]):
    """Waits on the run's cancel token (so Stop ends it at once), then returns ``result``."""

    kind = "function"

    def __init__(self, seconds: float, result: Any = "slept", name: str | None = None) -> None:
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


class Talk(Runnable[Any, str]):
    """A model-like step: streams ``words`` as tokens, ``pause`` seconds apart."""

    kind = "model"

    def __init__(self, words: list[str], pause: float = 0.0) -> None:
        self.words = words
        self.pause = pause

    def _call(self, input: Any, step: Step) -> str:
        for word in self.words:
            step.sleep(self.pause)
            step.emit_token(word)
        return "".join(self.words)


class Fail(Runnable[Any, Any]):
    kind = "function"

    def __init__(self, message: str, after: float = 0.0) -> None:
        self.message = message
        self.after = after

    def _call(self, input: Any, step: Step) -> Any:
        step.sleep(self.after)
        raise ValueError(self.message)


def events_of(chain: Runnable[Any, Any], input: Any) -> list[ev.RunEvent]:
    """Every event of one run of ``chain`` (exceptions swallowed: the events are the point)."""
    seen: list[ev.RunEvent] = []
    try:
        chain.invoke(input, {"callbacks": [seen.append]})
    except Exception:
        pass
    return seen


class Gate(Runnable[Any, str]):
    """Streams ``words`` as tokens, then holds until the test opens ``gate`` (or Stop)."""

    kind = "model"

    def __init__(self, words: list[str], result: str = "opened") -> None:
        self.words = words
        self.result = result
        self.gate = threading.Event()
        self.streamed = threading.Event()

    def _call(self, input: Any, step: Step) -> str:
        for word in self.words:
            step.emit_token(word)
        self.streamed.set()
        while not self.gate.wait(0.01):
            step.check_cancelled()
        return self.result
