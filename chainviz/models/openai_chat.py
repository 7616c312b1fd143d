"""``ChatOpenAI``: OpenAI, or any OpenAI-compatible server, as a chat model step.

The same code runs against OpenAI (``OPENAI_API_KEY``) and against a local
server (``base_url="http://localhost:11434/v1"`` for Ollama, llama.cpp's
``llama-server``, vLLM…): only configuration differs. Answers are streamed
(``stream=True``), so under ``invoke`` too every token reaches the run's sinks
as it arrives; ``streaming=False`` makes one plain request instead, for servers
that stream badly. Token counts become ``usage_metadata``; the model name and
finish reason go in ``response_metadata``.

Sync runs use ``openai.OpenAI``, async runs ``openai.AsyncOpenAI``. Stop ends a
retry wait at once, and a streamed answer at once (sync: its socket is shut
down; async: its task is cancelled). One wait Stop cannot cut short: a *sync*
request still waiting for the server's first byte ends when the server answers
or ``timeout`` passes (the openai client offers no way to abort it from another
thread); async requests end at once. Retries, timeouts, and how the key is kept
out of every error: see :mod:`chainviz.models.openai_errors` and
:mod:`chainviz.models.openai_client`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, ClassVar

from chainviz.core.run import Step
from chainviz.errors import ConfigError, StepInputError, describe_step
from chainviz.messages import AIMessageChunk, BaseMessage, UsageMetadata
from chainviz.models.base import BaseChatModel
from chainviz.models.openai_client import OpenAIClientConfig, display_url
from chainviz.models.openai_errors import CallContext

__all__ = ["BOUND_ARGUMENTS", "ChatOpenAI"]

#: Arguments ``model.bind(...)`` may set for a call (``stop`` is handled by the base).
BOUND_ARGUMENTS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "response_format",
        "user",
    }
)

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "AIMessageChunk": "assistant"}


class ChatOpenAI(OpenAIClientConfig, BaseChatModel):
    """A chat model served by OpenAI or an OpenAI-compatible server.

    :param model: the model name (``model_name`` is the same attribute).
    :param temperature: sampling temperature; None leaves the server's default.
    :param max_tokens: the longest answer, in tokens; None: the server's limit.
    :param timeout: seconds to wait for an answer before a :class:`StepTimeout`
        (None: the openai client's default, 600 s).
    :param max_retries: retries of a rate-limited, failed or timed-out request
        (so at most ``max_retries + 1`` attempts).
    :param api_key: the key; default ``OPENAI_API_KEY``, read at call time.
    :param base_url: the server; default ``OPENAI_BASE_URL``, else OpenAI.
    :param streaming: stream answers token by token (default) or make one request.
    :param model_kwargs: more request fields, sent as they are (``extra_body``).
    """

    _repr_fields: ClassVar[tuple[str, ...]] = (
        "model_name",
        "temperature",
        "max_tokens",
        "timeout",
        "max_retries",
    )

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        api_key: str | None = None,
        base_url: str | None = None,
        streaming: bool = True,
        model_kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"ChatOpenAI needs model to be a model name, not {model!r}.")
        if temperature is not None and (
            not isinstance(temperature, (int, float)) or isinstance(temperature, bool)
            or temperature < 0
        ):
            raise ConfigError(
                f"ChatOpenAI needs temperature to be a number >= 0 or None, not {temperature!r}."
            )
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
        ):
            raise ConfigError(
                f"ChatOpenAI needs max_tokens to be a positive int or None, not {max_tokens!r}."
            )
        self._init_client_config(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self.model_name = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.streaming = bool(streaming)
        self.model_kwargs = dict(model_kwargs or {})
        self.name = name

    @property
    def model(self) -> str:
        """The model name (LangChain's alias of ``model_name``)."""
        return self.model_name

    @model.setter
    def model(self, value: str) -> None:
        self.model_name = value

    # ------------------------------------------------------------------ requests

    def _context(self, step: Step) -> CallContext:
        where = describe_step(step.node_id, type(self).__name__)
        return CallContext(where, step.node_id, self._resolve(where), self.max_retries, step)

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any],
        where: str,
    ) -> dict[str, Any]:
        unknown = sorted(set(kwargs) - BOUND_ARGUMENTS)
        if unknown:
            raise ConfigError(
                f"{where} cannot pass {', '.join(map(repr, unknown))} to the API; "
                f"bind() accepts stop and {', '.join(sorted(BOUND_ARGUMENTS))}. Put other "
                "request fields in ChatOpenAI(model_kwargs={...})."
            )
        request: dict[str, Any] = {
            "model": self.model_name,
            "messages": [_message_dict(m, where) for m in messages],
        }
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        if stop:
            request["stop"] = stop
        request.update(kwargs)
        if self.model_kwargs:
            request["extra_body"] = dict(self.model_kwargs)
        if self.streaming:
            request["stream"] = True
            request["stream_options"] = {"include_usage": True}
        return request

    def _generate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        call = self._context(step)
        request = self._request(messages, stop, kwargs, call.where)
        client = self._sync_client(call.resolved)
        response = call.run(lambda: client.chat.completions.create(**request))
        if not self.streaming:
            yield _completion_chunk(response)
            return
        # Stop shuts the connection down, so a thread blocked reading the stream wakes now.
        remove = step.token.on_cancel(lambda: _interrupt(response))
        try:
            with call.errors():
                for event in response:
                    chunk = _event_chunk(event)
                    if chunk is not None:
                        yield chunk
        except Exception:
            step.check_cancelled()  # a read cut short by Stop is a cancellation
            raise
        finally:
            remove()
            response.close()
        step.check_cancelled()  # a cut connection can also look like the end of the stream

    async def _agenerate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        call = self._context(step)
        request = self._request(messages, stop, kwargs, call.where)
        client = await self._async_client(call.resolved)
        response = await call.arun(lambda: client.chat.completions.create(**request))
        if not self.streaming:
            yield _completion_chunk(response)
            return
        try:
            with call.errors():
                async for event in response:
                    chunk = _event_chunk(event)
                    if chunk is not None:
                        yield chunk
        finally:
            await response.close()

    def __repr__(self) -> str:
        shown = [f"{f}={getattr(self, f)!r}" for f in self._repr_fields]
        if self.base_url:
            shown.append(f"base_url={display_url(self.base_url)!r}")
        return f"ChatOpenAI({', '.join(shown)})"


def _interrupt(stream: Any) -> None:
    """Wake a thread blocked reading ``stream`` (an ``openai.Stream``) from another thread.

    Closing a response does not wake a blocked ``recv``; shutting its socket down does.
    The socket comes from the response's ``network_stream`` extension (httpcore's).
    """
    response = getattr(stream, "response", None)
    extensions = getattr(response, "extensions", None) or {}
    network = extensions.get("network_stream")
    sock = network.get_extra_info("socket") if network is not None else None
    if sock is None:
        stream.close()
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


# --------------------------------------------------------------------- conversions


def _message_dict(message: BaseMessage, where: str) -> dict[str, Any]:
    role = _ROLES.get(message.type)
    if role is None:
        raise StepInputError(
            f"{where} cannot send a {type(message).__name__} to the chat API; "
            "it sends system, human and AI messages."
        )
    out: dict[str, Any] = {"role": role, "content": message.content}
    if message.name:
        out["name"] = message.name
    return out


def _usage(usage: Any) -> UsageMetadata | None:
    if usage is None:
        return None
    return UsageMetadata(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        total_tokens=usage.total_tokens or 0,
    )


def _event_chunk(event: Any) -> AIMessageChunk | None:
    """One streamed ``chat.completion.chunk`` as a message chunk (None if it carries nothing)."""
    content = ""
    metadata: dict[str, Any] = {}
    if event.choices:
        choice = event.choices[0]
        if choice.delta is not None and choice.delta.content:
            content = choice.delta.content
        if choice.finish_reason is not None:
            metadata = {"model_name": event.model, "finish_reason": choice.finish_reason}
    usage = _usage(getattr(event, "usage", None))
    if usage is not None:
        metadata = {"model_name": event.model, **metadata}
    if not content and not metadata:
        return None
    return AIMessageChunk(content, response_metadata=metadata, usage_metadata=usage, id=event.id)


def _completion_chunk(completion: Any) -> AIMessageChunk:
    """A whole ``chat.completion`` as one chunk."""
    choice = completion.choices[0] if completion.choices else None
    content = (choice.message.content or "") if choice is not None else ""
    metadata: dict[str, Any] = {"model_name": completion.model}
    if choice is not None:
        metadata["finish_reason"] = choice.finish_reason
    return AIMessageChunk(
        content,
        response_metadata=metadata,
        usage_metadata=_usage(completion.usage),
        id=completion.id,
    )
