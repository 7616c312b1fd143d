"""The chat model base: what every chat model does the same way.

:class:`BaseChatModel` turns its input (a prompt value, a string, or a list of
messages) into messages, reads the call's bound keyword arguments
(``model.bind(stop=["\\n"])``), drives the subclass's token stream, reports every
token to the run's sinks, cuts the text at stop sequences, and adds the chunks
(text, metadata, token counts) into one :class:`~chainviz.messages.AIMessage`.
It works the same under ``invoke``, ``ainvoke``, ``stream`` and ``astream``.

A subclass implements one method, or both for a native async path::

    def _generate_stream(self, messages, step, *, stop=None, **kwargs):
        ...  # yield AIMessageChunk, one per token or per network chunk

    async def _agenerate_stream(self, messages, step, *, stop=None, **kwargs):
        ...  # the same, as an async generator

Rules for subclasses:

* wait only through ``step.sleep`` / ``await step.asleep`` (or a client call that
  ``step.token`` can interrupt), so Stop and Interrupt end the call at once;
* pass ``stop`` on to the backend if it supports it; the base also cuts the text
  at the first stop sequence (and keeps reading the stream for its metadata);
* ``kwargs`` are the other bound arguments (``bind(temperature=0)``); reject the
  ones you do not support with :class:`~chainviz.errors.ConfigError`;
* put ``usage_metadata`` and ``response_metadata`` (``model_name``,
  ``finish_reason``) on a chunk, usually the last one: chunks add up;
* list the attributes ``repr`` may show in ``_repr_fields``; never a secret.

If a subclass implements only one of the two methods, the other path still
works: a sync stream is pulled on the shared thread pool under ``ainvoke``, an
async stream is run on chainviz's private loop thread under ``invoke``.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from chainviz.core.base import Runnable
from chainviz.core.pool import run_coroutine_sync, run_in_pool
from chainviz.core.run import Step
from chainviz.errors import ConfigError, StepInputError, describe_step
from chainviz.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    PromptValue,
    merge_chunks,
    message_from,
)

__all__ = ["BaseChatModel", "to_messages"]


def to_messages(input: Any, where: str = "A chat model") -> list[BaseMessage]:
    """The messages a chat model's input stands for, or a :class:`StepInputError`.

    ``where`` starts the error message (e.g. ``Step 'joke/1' (ChatOpenAI)``).
    """
    if isinstance(input, PromptValue):
        return input.to_messages()
    if isinstance(input, str):
        return [HumanMessage(input)]
    if isinstance(input, BaseMessage):
        return [input]
    if isinstance(input, Sequence) and not isinstance(input, (bytes, bytearray)):
        try:
            return [message_from(item) for item in input]
        except (TypeError, ValueError) as exc:
            raise StepInputError(f"{where} got a list it cannot read as messages: {exc}.") from exc
    hint = (
        " A dict is a prompt's input: put a prompt before the model (prompt | model)."
        if isinstance(input, dict)
        else ""
    )
    raise StepInputError(
        f"{where} expects a prompt value, a string or a list of messages, "
        f"but got a {type(input).__name__} ({input!r:.60}).{hint}"
    )


def _stop_sequences(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(s, str) and s for s in value):
        return list(value) or None
    raise ConfigError(
        f"{where} got stop={value!r}; stop must be a non-empty string or a list of them, "
        'e.g. model.bind(stop=["\\n"]).'
    )


class _ChunkFilter:
    """What happens to each chunk a subclass yields: check for cancel, cut the text at
    the first stop sequence (holding back a tail that could start one), report tokens."""

    __slots__ = ("held", "step", "stop", "stopped")

    def __init__(self, step: Step, stop: list[str] | None) -> None:
        self.step = step
        self.stop = stop
        self.held = ""
        self.stopped = False

    def feed(self, chunk: AIMessageChunk) -> AIMessageChunk | None:
        self.step.check_cancelled()
        if self.stop is not None:
            cut = self._cut(chunk, self.stop)
            if cut is None:
                return None
            chunk = cut
        if chunk.content:
            self.step.emit_token(chunk.content, chunk)
        return chunk

    def flush(self) -> AIMessageChunk | None:
        if not self.held:
            return None
        chunk = AIMessageChunk(self.held)
        self.held = ""
        self.step.emit_token(chunk.content, chunk)
        return chunk

    def _cut(self, chunk: AIMessageChunk, stops: list[str]) -> AIMessageChunk | None:
        text = "" if self.stopped else self.held + chunk.content
        found = [i for i in (text.find(s) for s in stops) if i >= 0]
        if found:
            text, self.held, self.stopped = text[: min(found)], "", True
        elif not self.stopped:
            keep = _longest_prefix_tail(text, stops)
            text, self.held = text[: len(text) - keep], text[len(text) - keep :]
        has_extras = chunk.usage_metadata or chunk.response_metadata or chunk.additional_kwargs
        if not text and not has_extras:
            return None
        return chunk if text == chunk.content else replace(chunk, content=text)


def _longest_prefix_tail(text: str, stops: list[str]) -> int:
    """How many characters at the end of ``text`` could begin a stop sequence."""
    best = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), best, -1):
            if text.endswith(stop[:size]):
                best = size
                break
    return best


class BaseChatModel(Runnable[Any, AIMessage]):
    """A chat model step: messages in, an :class:`AIMessage` out, tokens streamed."""

    kind = "model"
    uses_slot = True
    blocking = True

    #: The model's name, as shown in graphs, traces and ``response_metadata``.
    model_name: str = "chat-model"
    #: Attributes that ``repr`` shows (never a key or a secret).
    _repr_fields: ClassVar[tuple[str, ...]] = ("model_name",)

    # ------------------------------------------------------------ subclass API

    def _generate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """Yield the answer's chunks. Default: run :meth:`_agenerate_stream` on the
        private loop thread."""
        if type(self)._agenerate_stream is BaseChatModel._agenerate_stream:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _generate_stream nor _agenerate_stream"
            )
        stream = self._agenerate_stream(messages, step, stop=stop, **kwargs)

        async def next_chunk() -> AIMessageChunk:
            return await stream.__anext__()

        async def close() -> None:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while True:
                try:
                    yield run_coroutine_sync(next_chunk(), step.token.on_cancel)
                except StopAsyncIteration:
                    return
                except concurrent.futures.CancelledError:
                    step.check_cancelled()
                    raise
        finally:
            if not step.token.cancelled:
                run_coroutine_sync(close(), step.token.on_cancel)

    async def _agenerate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """The async twin of :meth:`_generate_stream`. Default: pull the sync stream on
        the shared thread pool, one chunk at a time."""
        if type(self)._generate_stream is BaseChatModel._generate_stream:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _generate_stream nor _agenerate_stream"
            )
        stream = self._generate_stream(messages, step, stop=stop, **kwargs)
        done = object()
        while True:
            chunk = await run_in_pool(next, stream, done)
            if chunk is done:
                return
            yield chunk

    # ------------------------------------------------------------- shared logic

    def _where(self, step: Step) -> str:
        return describe_step(step.node_id, type(self).__name__)

    def _prepare(self, input: Any, step: Step) -> tuple[list[BaseMessage], list[str] | None,
                                                        dict[str, Any]]:
        where = self._where(step)
        messages = to_messages(input, where)
        kwargs = dict(step.kwargs)
        stop = _stop_sequences(kwargs.pop("stop", None), where)
        return messages, stop, kwargs

    def _stream(self, input: Any, step: Step) -> Iterator[AIMessageChunk]:
        messages, stop, kwargs = self._prepare(input, step)
        chunks = _ChunkFilter(step, stop)
        for chunk in self._generate_stream(messages, step, stop=stop, **kwargs):
            out = chunks.feed(chunk)
            if out is not None:
                yield out
        tail = chunks.flush()
        if tail is not None:
            yield tail

    async def _astream(self, input: Any, step: Step) -> AsyncIterator[AIMessageChunk]:
        messages, stop, kwargs = self._prepare(input, step)
        chunks = _ChunkFilter(step, stop)
        async for chunk in self._agenerate_stream(messages, step, stop=stop, **kwargs):
            out = chunks.feed(chunk)
            if out is not None:
                yield out
        tail = chunks.flush()
        if tail is not None:
            yield tail

    def _call(self, input: Any, step: Step) -> AIMessage:
        # Always streams inside, so token events reach the sinks under invoke too.
        return merge_chunks(self._stream(input, step)).to_message()

    async def _acall(self, input: Any, step: Step) -> AIMessage:
        return merge_chunks([chunk async for chunk in self._astream(input, step)]).to_message()

    # ---------------------------------------------------------------- identity

    def get_name(self) -> str:
        return self.name or type(self).__name__

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._repr_fields)
        return f"{type(self).__name__}({shown})"
