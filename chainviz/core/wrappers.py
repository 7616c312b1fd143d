"""Wrappers that change how a runnable is run but add no node: bound config and
arguments, retry, fallbacks. Each is a plan over its inner runnable at the same
node id, so a wrapped step keeps its id and its events."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from chainviz.core import execute as ex
from chainviz.core import streaming
from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.config import RunnableConfig, apply_bound_config, merge_configs
from chainviz.core.run import Step, as_sinks
from chainviz.errors import CompositionError, ConfigError

__all__ = ["RunnableBinding", "RunnableRetry", "RunnableWithFallbacks"]


class _Wrapper(Runnable[Any, Any]):
    composite = True
    transparent = True

    def __init__(self, bound: Runnable[Any, Any]) -> None:
        self.bound = coerce_to_runnable(bound, where=f"{type(self).__name__}")

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.bound.kind

    @property
    def name(self) -> str | None:  # type: ignore[override]
        return self.bound.name

    def get_name(self) -> str:
        return self.bound.get_name()

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return [(None, self.bound)]

    def get_input_schema(self) -> Any:
        return self.bound.get_input_schema()


class RunnableBinding(_Wrapper):
    """``with_config(...)`` and ``bind(...)``: config and keyword arguments for the inner step."""

    def __init__(
        self,
        bound: Runnable[Any, Any],
        *,
        config: RunnableConfig | None = None,
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(bound)
        self.config: RunnableConfig = config or {}
        self.kwargs: dict[str, Any] = dict(kwargs or {})

    def _inner(self, step: Step) -> Step:
        # As in LangChain, what the caller passes wins over what was bound.
        config = apply_bound_config(self.config, step.config)
        extra_sinks = as_sinks(self.config.get("callbacks"))
        return step.child(
            None,
            config=config,
            sinks=step.sinks + extra_sinks if extra_sinks else None,
            kwargs={**step.kwargs, **self.kwargs} if self.kwargs else None,
        )

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        inner = self._inner(step)
        output = yield ex.Call(
            self.bound, None, input, config=inner.config, sinks=inner.sinks, kwargs=inner.kwargs
        )
        return output

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[Any]:
        yield from streaming.stream_sync(self.bound, chunks, self._inner(step))

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[Any]:
        async for chunk in streaming.stream_async(self.bound, chunks, self._inner(step)):
            yield chunk

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        # max_concurrency and run-level settings bound at the root apply to the whole run.
        if self.config and "max_concurrency" in self.config:
            config = merge_configs(
                {"max_concurrency": self.config["max_concurrency"]}, config or {}
            )
        return super().invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if self.config and "max_concurrency" in self.config:
            config = merge_configs(
                {"max_concurrency": self.config["max_concurrency"]}, config or {}
            )
        return await super().ainvoke(input, config, **kwargs)

    def __repr__(self) -> str:
        return f"{self.bound!r}.bind({self.kwargs or self.config})"


class RunnableRetry(_Wrapper):
    """Retry the inner step on the given exception types, with exponential backoff."""

    def __init__(
        self,
        bound: Runnable[Any, Any],
        *,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        stop_after_attempt: int = 3,
        initial_wait: float = 1.0,
        max_wait: float = 10.0,
    ) -> None:
        super().__init__(bound)
        if stop_after_attempt < 1:
            raise ConfigError(
                f"stop_after_attempt must be at least 1, but {stop_after_attempt} was given."
            )
        self.retry_if_exception_type = tuple(retry_if_exception_type)
        self.wait_exponential_jitter = wait_exponential_jitter
        self.stop_after_attempt = stop_after_attempt
        self.initial_wait = initial_wait
        self.max_wait = max_wait

    def _wait(self, attempt: int) -> float:
        if not self.wait_exponential_jitter:
            return 0.0
        base = min(self.max_wait, self.initial_wait * 2.0 ** (attempt - 1))
        return float(base + random.uniform(0, min(1.0, base)))

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        attempt = 1
        while True:
            try:
                output = yield ex.Call(self.bound, None, input)
                return output
            except self.retry_if_exception_type as exc:
                if attempt >= self.stop_after_attempt:
                    exc.add_note(f"chainviz: gave up after {attempt} attempts")
                    raise
            wait = self._wait(attempt)
            if wait > 0:
                yield ex.Sleep(wait)
            attempt += 1

    def __repr__(self) -> str:
        return f"{self.bound!r}.with_retry(stop_after_attempt={self.stop_after_attempt})"


class RunnableWithFallbacks(_Wrapper):
    """Run the primary step; on a handled failure, each fallback in turn."""

    def __init__(
        self,
        runnable: Runnable[Any, Any],
        fallbacks: Sequence[Runnable[Any, Any]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        super().__init__(runnable)
        if not fallbacks:
            raise CompositionError("with_fallbacks needs at least one fallback runnable.")
        self.fallbacks = [coerce_to_runnable(f, where="with_fallbacks") for f in fallbacks]
        self.exceptions_to_handle = tuple(exceptions_to_handle)

    @property
    def runnable(self) -> Runnable[Any, Any]:
        return self.bound

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        first_error: BaseException | None = None
        for candidate in [self.bound, *self.fallbacks]:
            try:
                output = yield ex.Call(candidate, None, input)
                return output
            except self.exceptions_to_handle as exc:
                if first_error is None:
                    first_error = exc
                else:
                    exc.__context__ = first_error
                last = exc
        last.add_note(f"chainviz: the primary and {len(self.fallbacks)} fallback(s) all failed")
        raise last

    def __repr__(self) -> str:
        return f"{self.bound!r}.with_fallbacks({len(self.fallbacks)})"
