"""Small runnables for core tests: fake prompt/model/parser kinds and a cancellable sleep."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step


class FakePrompt(Runnable[Any, str]):
    kind = "prompt"
    blocking = False

    def __init__(self, template: str = "about {topic}") -> None:
        self.template = template

    def _call(self, input: Any, step: Step) -> str:
        return self.template.format(**input)


class FakeModel(Runnable[Any, str]):
    kind = "model"
    uses_slot = True

    def _call(self, input: Any, step: Step) -> str:
        for word in str(input).split():
            step.emit_token(word)
        return f"answer({input})"


class Sleep(Runnable[Any, Any]):
    """Waits on the run's cancel token, like every built-in wait."""

    kind = "function"
    uses_slot = True

    def __init__(self, seconds: float, result: Any = "slept") -> None:
        self.seconds = seconds
        self.result = result
        self.started = threading.Event()

    def _call(self, input: Any, step: Step) -> Any:
        self.started.set()
        step.sleep(self.seconds)
        return self.result

    async def _acall(self, input: Any, step: Step) -> Any:
        self.started.set()
        await step.asleep(self.seconds)
        return self.result


class Gauge:
    """Counts how many holders are inside at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.current -= 1


def run_mode(
    mode: str, chain: Runnable[Any, Any], input: Any, config: Any = None, **kw: Any
) -> Any:
    if mode == "sync":
        return chain.invoke(input, config, **kw)
    return asyncio.run(chain.ainvoke(input, config, **kw))
