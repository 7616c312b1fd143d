"""``a | b | c``: each step's output is the next step's input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from chainviz.core import execute as ex
from chainviz.core import streaming
from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.run import Step
from chainviz.errors import CompositionError

__all__ = ["RunnableSequence"]


class RunnableSequence(Runnable[Any, Any]):
    """Steps run one after another. Nested sequences are flattened, as in LangChain."""

    kind = "sequence"
    composite = True

    def __init__(self, *steps: Any, name: str | None = None) -> None:
        flat: list[Runnable[Any, Any]] = []
        for step in steps:
            runnable = coerce_to_runnable(step, where="a sequence")
            if isinstance(runnable, RunnableSequence) and runnable.name is None:
                flat.extend(runnable.steps)
            else:
                flat.append(runnable)
        if len(flat) < 2:
            raise CompositionError(
                f"A sequence needs at least 2 steps, but {len(flat)} was given. "
                "Compose steps with `a | b`."
            )
        self.steps: list[Runnable[Any, Any]] = flat
        self.name = name
        self._refresh()

    def _refresh(self) -> None:
        self.steps = [coerce_to_runnable(s, where="a sequence") for s in self.steps]
        if len(self.steps) < 2:
            raise CompositionError(
                f"A sequence needs at least 2 steps, but {len(self.steps)} was given."
            )
        self._parts = [str(i) for i in range(len(self.steps))]

    @property
    def first(self) -> Runnable[Any, Any]:
        return self.steps[0]

    @property
    def last(self) -> Runnable[Any, Any]:
        return self.steps[-1]

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return list(zip(self._parts, self.steps))

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        for part, runnable in zip(self._parts, self.steps):
            input = yield ex.Call(runnable, part, input)
        return input

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[Any]:
        for part, runnable in zip(self._parts, self.steps):
            chunks = streaming.stream_sync(runnable, chunks, step.child(part))
        yield from chunks

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[Any]:
        for part, runnable in zip(self._parts, self.steps):
            chunks = streaming.stream_async(runnable, chunks, step.child(part))
        async for chunk in chunks:
            yield chunk

    def __or__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(self, other)

    def __ror__(self, other: Any) -> RunnableSequence:
        return RunnableSequence(other, self)

    def get_input_schema(self) -> Any:
        return self.steps[0].get_input_schema()

    def __repr__(self) -> str:
        return "\n| ".join(repr(s) for s in self.steps)
