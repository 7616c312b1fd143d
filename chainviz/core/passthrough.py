"""``RunnablePassthrough()`` passes its input on; ``.assign(k=f)`` adds computed keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainviz.core import execute as ex
from chainviz.core.base import Runnable
from chainviz.core.parallel import RunnableParallel
from chainviz.core.run import Step
from chainviz.errors import StepInputError

__all__ = ["RunnableAssign", "RunnablePassthrough"]


class RunnablePassthrough(Runnable[Any, Any]):
    """Returns its input unchanged (and streams it unchanged)."""

    kind = "passthrough"
    blocking = False

    def _call(self, input: Any, step: Step) -> Any:
        return input

    def _transform(self, chunks: Any, step: Step) -> Any:
        yield from chunks

    async def _atransform(self, chunks: Any, step: Step) -> Any:
        async for chunk in chunks:
            yield chunk

    @staticmethod
    def assign(**kwargs: Any) -> RunnableAssign:
        """A step that runs ``kwargs``' branches in parallel on its dict input and merges
        their outputs into it."""
        return RunnableAssign(RunnableParallel(kwargs))

    def __repr__(self) -> str:
        return "RunnablePassthrough()"


class RunnableAssign(Runnable[Mapping[str, Any], dict[str, Any]]):
    """Input dict plus the outputs of ``mapper``'s branches (its branches are this node's
    children: ``<id>/<key>``)."""

    kind = "assign"
    composite = True

    def __init__(self, mapper: RunnableParallel) -> None:
        self.mapper = mapper
        self.name = None

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return self.mapper.children()

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        if not isinstance(input, Mapping):
            raise StepInputError(
                f"{'Step ' + repr(step.node_id) if step.node_id else 'The chain'} "
                f"(RunnablePassthrough.assign) expects a dict input to add keys to, "
                f"but got a {type(input).__name__}. Put a step that returns a dict before it.",
                node_id=step.node_id,
            )
        added = yield ex.Fanout(self.mapper._branches, input)
        return {**input, **added}

    def get_input_schema(self) -> Any:
        return self.mapper.get_input_schema()

    def __repr__(self) -> str:
        return f"RunnableAssign({', '.join(self.mapper.steps__)})"
