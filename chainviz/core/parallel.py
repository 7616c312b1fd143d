"""``{"a": x, "b": y}`` / ``RunnableParallel(a=x, b=y)``: branches run at once on one input."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from chainviz.core import execute as ex
from chainviz.core import streaming
from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.ids import escape_key
from chainviz.core.run import Step
from chainviz.errors import CompositionError

__all__ = ["RunnableMap", "RunnableParallel"]


class RunnableParallel(Runnable[Any, dict[str, Any]]):
    """Each branch gets the same input; the output maps each key to its branch's output.

    Sync branches run on threads from a shared pool (all at once, unless the run's
    ``max_concurrency`` says otherwise); async branches run as tasks. The first
    failure is raised at once and the other branches are cancelled.
    """

    kind = "parallel"
    composite = True

    def __init__(
        self, steps__: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> None:
        self.steps__ = _checked_branches({**(steps__ or {}), **kwargs})
        self.name = None
        self._refresh()

    def _refresh(self) -> None:
        self.steps__ = _checked_branches(self.steps__)
        self._branches = [(escape_key(k), k, r) for k, r in self.steps__.items()]

    @property
    def branches(self) -> dict[str, Runnable[Any, Any]]:
        return dict(self.steps__)

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return [(part, runnable) for part, _, runnable in self._branches]

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        output = yield ex.Fanout(self._branches, input)
        return output

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[dict[str, Any]]:
        # Branches stream side by side: each chunk comes out as {key: chunk}.
        command = ex.Fanout(self._branches, streaming.collect(chunks))
        yield from streaming.fanout_stream_sync(command, step)

    async def _atransform(
        self, chunks: AsyncIterator[Any], step: Step
    ) -> AsyncIterator[dict[str, Any]]:
        command = ex.Fanout(self._branches, await streaming.collect_async(chunks))
        async for chunk in streaming.fanout_stream_async(command, step):
            yield chunk

    def get_input_schema(self) -> Any:
        from chainviz.core.schema import InputSchema

        return InputSchema.union(r.get_input_schema() for r in self.steps__.values())

    def __repr__(self) -> str:
        inner = ",\n  ".join(f"{k}: {r!r}".replace("\n", "\n  ") for k, r in self.steps__.items())
        return "{\n  " + inner + "\n}"


RunnableMap = RunnableParallel


def _checked_branches(branches: Mapping[Any, Any]) -> dict[str, Runnable[Any, Any]]:
    checked: dict[str, Runnable[Any, Any]] = {}
    for key, value in branches.items():
        if not isinstance(key, str) or not key:
            raise CompositionError(
                f"Parallel branch keys must be non-empty strings (a key is part of its "
                f"branch's node id), but {key!r} ({type(key).__name__}) was given."
            )
        checked[key] = coerce_to_runnable(value, where=f"parallel branch {key!r}")
    return checked
