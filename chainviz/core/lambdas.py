"""Plain functions as steps: ``RunnableLambda`` (sync or async) and ``RunnableGenerator``.

A plain function collects its whole input before it runs (as in LangChain); a
generator function streams: it receives an iterator of input chunks and yields
output chunks.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

from chainviz.core import streaming
from chainviz.core.base import Runnable
from chainviz.core.pool import run_in_pool
from chainviz.core.run import Step
from chainviz.errors import CompositionError

__all__ = ["RunnableGenerator", "RunnableLambda"]


def _function_name(func: Any) -> str:
    name = getattr(func, "__name__", None)
    if name and name != "<lambda>":
        return str(name)
    if name == "<lambda>":
        return "lambda"
    return type(func).__name__  # e.g. operator.itemgetter


def _wants_config(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "config" in params


class RunnableLambda(Runnable[Any, Any]):
    """Wrap a function (sync or ``async def``). A function taking ``config`` receives it."""

    kind = "function"
    uses_slot = True

    def __init__(
        self,
        func: Callable[..., Any],
        afunc: Callable[..., Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(func):
            raise CompositionError(
                f"RunnableLambda needs a callable, but a {type(func).__name__} was given."
            )
        if asyncio.iscoroutinefunction(func):
            afunc, func = func, None  # type: ignore[assignment]
        self.func: Callable[..., Any] | None = func
        self.afunc = afunc
        self.name = name or _function_name(afunc or func)
        self._config_arg = _wants_config(afunc or func)

    def _call(self, input: Any, step: Step) -> Any:
        if self.func is None:
            return super()._call(input, step)
        if self._config_arg:
            return self.func(input, config=step.config)
        return self.func(input)

    def _acall(self, input: Any, step: Step) -> Coroutine[Any, Any, Any]:
        # A plain method handing back the function's own coroutine: no wrapper frame.
        if self.afunc is None:
            return run_in_pool(self._call, input, step)
        if self._config_arg:
            return self.afunc(input, config=step.config)  # type: ignore[no-any-return]
        return self.afunc(input)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"RunnableLambda({self.name})"


class RunnableGenerator(Runnable[Any, Any]):
    """A generator function as a streaming step: input chunks in, output chunks out."""

    kind = "function"
    uses_slot = True

    def __init__(self, transform: Callable[..., Any], name: str | None = None) -> None:
        self.transform = transform
        self.is_async = inspect.isasyncgenfunction(transform)
        self.name = name or _function_name(transform)

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[Any]:
        if self.is_async:
            raise CompositionError(
                f"Step '{step.node_id}' is an async generator; run the chain with "
                "astream/ainvoke, or give a sync generator function.",
                node_id=step.node_id,
            )
        yield from self.transform(chunks)

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[Any]:
        if self.is_async:
            async for out in self.transform(chunks):
                yield out
            return
        # A sync generator under astream: feed it the collected input on a pool thread.
        collected = await streaming.collect_async(chunks)
        outputs = await run_in_pool(lambda: list(self.transform(iter((collected,)))))
        for out in outputs:
            yield out

    def _call(self, input: Any, step: Step) -> Any:
        return streaming.collect(self._transform(iter((input,)), step))

    async def _acall(self, input: Any, step: Step) -> Any:
        async def single() -> AsyncIterator[Any]:
            yield input

        return await streaming.collect_async(self._atransform(single(), step))

    def __repr__(self) -> str:
        return f"RunnableGenerator({self.name})"
