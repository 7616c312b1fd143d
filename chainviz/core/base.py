"""The :class:`Runnable` protocol: run it, stream it, batch it, compose it.

A subclass implements what it does in one of three ways:

* a leaf implements ``_call(input, step)`` (sync) and/or ``async _acall``;
  a streaming leaf also ``_stream`` / ``_astream`` (whole input, output chunks) or
  ``_transform`` / ``_atransform`` (input chunks, output chunks);
* a composite sets ``composite = True`` and implements ``_plan(input, step)``,
  a generator of commands (see :mod:`chainviz.core.execute`);
* a wrapper (retry, fallbacks, bound config, alternatives) also sets
  ``transparent = True``: it is no node of its own, emits no events and adds no
  level to node ids.

``children()`` exposes the structure (for the graph); nothing is inferred from
source code.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from chainviz.core import batch as batching_local
from chainviz.core import execute as ex
from chainviz.core import streaming
from chainviz.core.batch import per_item_configs
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig, merge_configs, validate_config
from chainviz.core.pool import run_coroutine_sync, run_in_pool
from chainviz.core.run import RunContext, Step, as_sinks
from chainviz.errors import ConfigError, RunCancelled

if TYPE_CHECKING:
    from chainviz.batching import ItemRecord
    from chainviz.core.configurable import ConfigurableField
    from chainviz.core.schema import InputSchema

__all__ = ["Runnable", "run_in_pool"]

In = TypeVar("In")
Out = TypeVar("Out")
Other = TypeVar("Other")


def start_run(
    config: Mapping[str, Any] | None,
    cancel_token: CancelToken | None,
    kwargs: Mapping[str, Any] | None = None,
) -> tuple[RunContext, Step]:
    """Validate a config and make the context and root step of a new run."""
    cfg = validate_config(config)
    ctx = RunContext(cfg.get("max_concurrency"))
    token = CancelToken(cancel_token)
    step = Step(ctx, "", token, as_sinks(cfg.get("callbacks")), cfg, None, kwargs)
    return ctx, step


class Runnable(Generic[In, Out]):
    """A unit of work that can be invoked, streamed, batched and composed with ``|``."""

    kind: ClassVar[str] = "runnable"
    composite: ClassVar[bool] = False
    transparent: ClassVar[bool] = False
    #: Leaf steps that count against ``max_concurrency`` (models, functions, retrievers).
    uses_slot: ClassVar[bool] = False
    #: A sync ``_call`` that may block: under ``ainvoke`` it runs on a pool thread.
    blocking: ClassVar[bool] = True
    name: str | None = None

    # ----------------------------------------------------------- implementation hooks

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        raise NotImplementedError(f"{type(self).__name__} is not a composite")

    def _call(self, input: Any, step: Step) -> Any:
        if type(self)._acall is Runnable._acall:
            raise NotImplementedError(f"{type(self).__name__} implements neither _call nor _acall")
        # Async-only step under sync invoke: run it on the private loop thread.
        return run_coroutine_sync(self._acall(input, step), step.token.on_cancel)

    async def _acall(self, input: Any, step: Step) -> Any:
        if type(self)._call is Runnable._call:
            raise NotImplementedError(f"{type(self).__name__} implements neither _call nor _acall")
        if not self.blocking:
            return self._call(input, step)
        return await run_in_pool(self._call, input, step)

    def _stream(self, input: Any, step: Step) -> Iterator[Any]:
        if self.composite:
            yield ex.drive_sync(self._plan(input, step), step)
        else:
            yield self._call(input, step)

    async def _astream(self, input: Any, step: Step) -> AsyncIterator[Any]:
        if self.composite:
            yield await ex.drive_async(self._plan(input, step), step)
        else:
            yield await self._acall(input, step)

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[Any]:
        """Default: a step that does not stream its input collects it first (as LangChain)."""
        yield from self._stream(streaming.collect(chunks), step)

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[Any]:
        async for out in self._astream(await streaming.collect_async(chunks), step):
            yield out

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        """The direct children with their keys (None for a wrapper's inner runnable)."""
        return []

    # --------------------------------------------------------------------- identity

    def get_name(self) -> str:
        return self.name or type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ---------------------------------------------------------------------- running

    def invoke(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        cancel_token: CancelToken | None = None,
        **kwargs: Any,
    ) -> Out:
        """Run on one input and return the output (works inside a notebook's running loop)."""
        ctx, step = start_run(config, cancel_token, kwargs)
        try:
            return ex.execute_sync(self, input, step)  # type: ignore[no-any-return]
        except BaseException:
            step.token.cancel("the run failed")
            raise
        finally:
            ctx.close()
            if cancel_token is not None:
                step.token.detach()

    async def ainvoke(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        cancel_token: CancelToken | None = None,
        **kwargs: Any,
    ) -> Out:
        """The async twin of :meth:`invoke`."""
        ctx, step = start_run(config, cancel_token, kwargs)
        remove = _cancel_task_on(step.token) if cancel_token is not None else None
        try:
            return await ex.execute_async(self, input, step)  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            step.token.cancel("cancelled")
            if cancel_token is not None and cancel_token.cancelled:
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                raise RunCancelled(f"The run was cancelled ({cancel_token.reason}).") from None
            raise
        except BaseException:
            step.token.cancel("the run failed")
            raise
        finally:
            if remove is not None:
                remove()
            ctx.close()
            if cancel_token is not None:
                step.token.detach()

    def stream(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        cancel_token: CancelToken | None = None,
        **kwargs: Any,
    ) -> Iterator[Out]:
        """Yield output chunks as they are produced."""
        ctx, step = start_run(config, cancel_token, kwargs)
        try:
            yield from streaming.stream_sync(self, iter((input,)), step)
        finally:
            step.token.cancel("the stream ended")
            ctx.close()
            step.token.detach()

    async def astream(
        self,
        input: In,
        config: RunnableConfig | None = None,
        *,
        cancel_token: CancelToken | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Out]:
        """The async twin of :meth:`stream`."""
        ctx, step = start_run(config, cancel_token, kwargs)

        async def single() -> AsyncIterator[Any]:
            yield input

        try:
            async for chunk in streaming.stream_async(self, single(), step):
                yield chunk
        finally:
            step.token.cancel("the stream ended")
            ctx.close()
            step.token.detach()

    def batch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        executor: Any = None,
        chunk_size: int | None = None,
        cancel_token: CancelToken | None = None,
    ) -> list[Out | Exception]:
        """Run on many inputs at once; outputs keep input order.

        ``executor=None`` runs here (threads join only when items block); any
        ``concurrent.futures.Executor`` or a Dask ``Client`` runs chunks of
        ``chunk_size`` items there (see :mod:`chainviz.batching`).
        """
        inputs = list(inputs)
        results: list[Any] = [None] * len(inputs)
        for index, output in self.batch_as_completed(
            inputs,
            config,
            return_exceptions=return_exceptions,
            executor=executor,
            chunk_size=chunk_size,
            cancel_token=cancel_token,
        ):
            results[index] = output
        return results

    def batch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        executor: Any = None,
        chunk_size: int | None = None,
        cancel_token: CancelToken | None = None,
    ) -> Iterator[tuple[int, Out | Exception]]:
        """Yield ``(index, output)`` as items finish; the first failure raises unless
        ``return_exceptions`` is true. ``max_concurrency`` limits items in flight."""
        # Not a generator itself: a bad config raises here, at the call, and a local
        # batch's items pass through one generator, not two (a batch of cheap items
        # should cost what a loop of invoke calls costs).
        configs = per_item_configs(config, len(inputs))
        if executor is None:
            return batching_local.batch_as_completed(
                self, list(inputs), configs, return_exceptions, cancel_token
            )
        return self._outputs_of_records(
            self.batch_records(inputs, configs, executor=executor, chunk_size=chunk_size),
            return_exceptions,
        )

    @staticmethod
    def _outputs_of_records(
        records: Iterator[ItemRecord], return_exceptions: bool
    ) -> Iterator[tuple[int, Any]]:
        for record in records:
            if record.error is None:
                yield record.index, record.output
            elif return_exceptions and isinstance(record.error, Exception):
                yield record.index, record.error
            else:
                raise record.error

    def batch_records(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        executor: Any = None,
        chunk_size: int | None = None,
        topic: str | None = None,
        cancel_token: CancelToken | None = None,
    ) -> Iterator[ItemRecord]:
        """Yield an :class:`~chainviz.batching.ItemRecord` per input as items finish: output
        or error, per-step durations measured where the item ran, and the worker.
        Cancelling ``cancel_token`` stops the batch (see :func:`chainviz.batching.run_batch`
        for what can be stopped where); items stopped come back as ``RunCancelled``."""
        from chainviz.batching import run_batch
        from chainviz.batching.worker import iter_chunk

        inputs = list(inputs)
        configs = per_item_configs(config, len(inputs))
        if executor is None:
            yield from iter_chunk(
                self, range(len(inputs)), inputs, configs, cancel_token=cancel_token
            )
        else:
            yield from run_batch(
                self, inputs, configs, executor=executor, chunk_size=chunk_size, topic=topic,
                cancel_token=cancel_token,
            )

    async def abatch(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        executor: Any = None,
        chunk_size: int | None = None,
        cancel_token: CancelToken | None = None,
    ) -> list[Out | Exception]:
        """The async twin of :meth:`batch` (with an executor, the batch is driven from a
        pool thread so the event loop stays free)."""
        if executor is not None:
            return await run_in_pool(  # type: ignore[no-any-return]
                lambda: self.batch(
                    inputs,
                    config,
                    return_exceptions=return_exceptions,
                    executor=executor,
                    chunk_size=chunk_size,
                )
            )
        return await batching_local.abatch(
            self, list(inputs), per_item_configs(config, len(inputs)), return_exceptions,
            cancel_token,
        )

    async def abatch_as_completed(
        self,
        inputs: Sequence[In],
        config: RunnableConfig | Sequence[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        executor: Any = None,
        chunk_size: int | None = None,
    ) -> AsyncIterator[tuple[int, Out | Exception]]:
        """The async twin of :meth:`batch_as_completed`."""
        if executor is not None:
            outputs = await self.abatch(
                inputs,
                config,
                return_exceptions=return_exceptions,
                executor=executor,
                chunk_size=chunk_size,
            )
            for index, output in enumerate(outputs):
                yield index, output
            return
        async for pair in batching_local.abatch_as_completed(
            self, list(inputs), per_item_configs(config, len(inputs)), return_exceptions
        ):
            yield pair

    # ------------------------------------------------------------------ composition

    def __or__(self, other: Any) -> Runnable[In, Any]:
        from chainviz.core.sequence import RunnableSequence

        return RunnableSequence(self, other)

    def __ror__(self, other: Any) -> Runnable[Any, Out]:
        from chainviz.core.sequence import RunnableSequence

        return RunnableSequence(other, self)

    def pipe(self, *others: Any, name: str | None = None) -> Runnable[In, Any]:
        from chainviz.core.sequence import RunnableSequence

        return RunnableSequence(self, *others, name=name)

    def with_config(self, config: RunnableConfig | None = None, **kwargs: Any) -> Runnable[In, Out]:
        """This runnable with config applied to every run of it (tags, metadata, sinks, …)."""
        from chainviz.core.wrappers import RunnableBinding

        merged = merge_configs(validate_config(config), validate_config(kwargs))
        return RunnableBinding(self, config=merged)

    def bind(self, **kwargs: Any) -> Runnable[In, Out]:
        """This runnable with keyword arguments bound (e.g. a model's ``stop``)."""
        from chainviz.core.wrappers import RunnableBinding

        return RunnableBinding(self, kwargs=kwargs)

    def with_retry(
        self,
        *,
        retry_if_exception_type: tuple[type[BaseException], ...] = (Exception,),
        wait_exponential_jitter: bool = True,
        stop_after_attempt: int = 3,
        initial_wait: float = 1.0,
        max_wait: float = 10.0,
    ) -> Runnable[In, Out]:
        """Retry failures of the given types, up to ``stop_after_attempt`` attempts in all."""
        from chainviz.core.wrappers import RunnableRetry

        return RunnableRetry(
            self,
            retry_if_exception_type=retry_if_exception_type,
            wait_exponential_jitter=wait_exponential_jitter,
            stop_after_attempt=stop_after_attempt,
            initial_wait=initial_wait,
            max_wait=max_wait,
        )

    def with_fallbacks(
        self,
        fallbacks: Sequence[Runnable[In, Out]],
        *,
        exceptions_to_handle: tuple[type[BaseException], ...] = (Exception,),
    ) -> Runnable[In, Out]:
        """Try ``fallbacks`` in order when this runnable fails with a handled exception."""
        from chainviz.core.wrappers import RunnableWithFallbacks

        return RunnableWithFallbacks(self, fallbacks, exceptions_to_handle=exceptions_to_handle)

    def configurable_fields(self, **fields: ConfigurableField) -> Runnable[In, Out]:
        """Let ``config={"configurable": {field_id: value}}`` set attributes at run time."""
        from chainviz.core.configurable import ConfigurableFields

        return ConfigurableFields(self, fields)

    def configurable_alternatives(
        self,
        which: ConfigurableField,
        *,
        default_key: str = "default",
        **alternatives: Runnable[In, Out],
    ) -> Runnable[In, Out]:
        """Choose between this runnable (``default_key``) and ``alternatives`` by config."""
        from chainviz.core.configurable import ConfigurableAlternatives

        return ConfigurableAlternatives(
            self, which, default_key=default_key, alternatives=alternatives
        )

    def with_replaced(self, **changes: Any) -> Runnable[In, Out]:
        """A shallow copy with some attributes changed; unknown attributes are an error."""
        for key in changes:
            if not hasattr(self, key):
                raise ConfigError(
                    f"{type(self).__name__} has no field {key!r} to configure; "
                    f"it has: {', '.join(sorted(k for k in vars(self) if not k.startswith('_')))}."
                )
        clone = copy.copy(self)
        for key, value in changes.items():
            setattr(clone, key, value)
        clone._refresh()
        return clone

    def _refresh(self) -> None:
        """Recompute what a runnable derives from its fields (after :meth:`with_replaced`)."""

    # -------------------------------------------------------------- introspection

    def get_input_schema(self) -> InputSchema:
        """What input the chain needs: the variables, or any value."""
        from chainviz.core.schema import InputSchema

        return InputSchema.any()

    def get_graph(self) -> Any:
        """The chain's graph (node ids and kinds as in run events); needs ``chainviz.graph``."""
        from chainviz.graph import build_graph

        return build_graph(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a runnable as its graph: SVG, or text without the graph extra."""
        from chainviz.graph.notebook import runnable_mimebundle

        return runnable_mimebundle(self, include, exclude)


def _cancel_task_on(token: CancelToken) -> Callable[[], None]:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        return lambda: None
    def cancel_task() -> None:
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:  # the loop has closed: the run is over already
            pass

    return token.on_cancel(cancel_task)
