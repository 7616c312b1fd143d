"""``SimulatedChatModel``: a chat model that needs no key and no network.

It answers from the prompt (see :mod:`chainviz.models.text`) and takes about as
long as a hosted chat model: a time to first token, then tokens at a steady rate,
both with seeded jitter, so a parallel map visibly costs the *max* of its branches.
``latency_scale`` shrinks the waits (0 for tests, 0.1 for quick notebooks); when
it is not given, the ``CHAINVIZ_LATENCY_SCALE`` environment variable sets it (the
test suite runs the notebooks with 0.1, so they keep the seed's code unchanged).

Everything is reproducible: the text and the jitter of a call depend only on the
model's ``seed``, the prompt, and how many times this model was called with the
same prompt before (so parallel branches with different prompts do not disturb
each other, whichever thread runs first).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from chainviz.core.run import Step
from chainviz.errors import ConfigError
from chainviz.messages import AIMessageChunk, BaseMessage, UsageMetadata
from chainviz.models.base import BaseChatModel
from chainviz.models.text import count_tokens, respond, tokenize

__all__ = ["SimulatedChatModel"]

#: Tokens a chat API adds around each message and the whole prompt (as OpenAI counts).
_PER_MESSAGE_TOKENS = 4
_PER_PROMPT_TOKENS = 3
#: Extra time to first token per prompt token (reading a long prompt takes longer).
_PREFILL_SECONDS_PER_TOKEN = 0.0002


def _roles(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    return [(m.type, m.content) for m in messages]


def _digest(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _non_negative(name: str, value: float, *, positive: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or (
        positive and value == 0
    ):
        bound = "a number above 0" if positive else "a number of at least 0"
        raise ConfigError(f"SimulatedChatModel {name} must be {bound}, but {value!r} was given.")
    return float(value)


LATENCY_SCALE_ENV = "CHAINVIZ_LATENCY_SCALE"


def _default_latency_scale() -> float:
    raw = os.environ.get(LATENCY_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(
            f"The environment variable {LATENCY_SCALE_ENV}={raw!r} is not a number; set it to "
            "a scale such as 0.1, or unset it (the default is 1)."
        ) from None


class SimulatedChatModel(BaseChatModel):
    """An offline, deterministic chat model with realistic timing.

    ``seed``: changes the texts and the jitter. ``latency_scale``: multiplies every
    wait (0 makes it instant; default: ``$CHAINVIZ_LATENCY_SCALE``, else 1).
    ``time_to_first_token`` (seconds) and ``tokens_per_second``: the timing of a
    typical hosted model. ``jitter``: how much timings vary from call to call (the
    spread of a log-normal factor). ``model``/``temperature``/``max_tokens`` are
    accepted so that it can stand in for ``ChatOpenAI``; ``temperature`` does not
    change the text.
    """

    _repr_fields = ("model_name", "seed", "latency_scale")

    def __init__(
        self,
        *,
        seed: int = 0,
        latency_scale: float | None = None,
        time_to_first_token: float = 0.4,
        tokens_per_second: float = 40.0,
        jitter: float = 0.3,
        model_name: str = "simulated-chat",
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        name: str | None = None,
    ) -> None:
        self.seed = seed
        self.latency_scale = _default_latency_scale() if latency_scale is None else latency_scale
        self.time_to_first_token = time_to_first_token
        self.tokens_per_second = tokens_per_second
        self.jitter = jitter
        self._check()
        self.model_name = model or model_name
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.name = name
        self._lock = threading.Lock()
        self._calls: dict[int, int] = {}

    def _check(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(
                f"SimulatedChatModel seed must be an int, but {self.seed!r} was given."
            )
        self.latency_scale = _non_negative("latency_scale", self.latency_scale)
        self.time_to_first_token = _non_negative("time_to_first_token", self.time_to_first_token)
        self.tokens_per_second = _non_negative(
            "tokens_per_second", self.tokens_per_second, positive=True
        )
        self.jitter = _non_negative("jitter", self.jitter)

    def with_replaced(self, **changes: Any) -> SimulatedChatModel:
        """A copy with some settings changed (checked); it shares the call counts."""
        clone: SimulatedChatModel = super().with_replaced(**changes)  # type: ignore[assignment]
        clone._check()
        return clone

    # pickling (to run in another process): a lock cannot be pickled; make a new one
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _next_call(self, prompt_key: int) -> int:
        """How many times this model was called with this prompt before (thread-safe)."""
        with self._lock:
            count = self._calls.get(prompt_key, 0)
            self._calls[prompt_key] = count + 1
            return count

    def reset(self) -> None:
        """Forget the call counts: the next calls repeat the first ones."""
        with self._lock:
            self._calls.clear()

    # ------------------------------------------------------------------- the call

    def _schedule(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> list[tuple[float, AIMessageChunk]]:
        """Each chunk of the reply with the seconds to wait before it (written once,
        carried out by the sync and the async stream alike)."""
        unknown = sorted(set(kwargs) - {"max_tokens", "temperature"})
        if unknown:
            raise ConfigError(
                f"SimulatedChatModel does not take {', '.join(map(repr, unknown))}; "
                "it takes stop, max_tokens and temperature (bound with .bind(...))."
            )
        roles = _roles(messages)
        prompt_key = _digest(*(part for pair in roles for part in pair))
        call = self._next_call(prompt_key)
        text = respond(roles, _digest(self.seed, prompt_key, call, "text"))
        finish = "stop"
        for sequence in stop or ():
            if sequence in text:
                text = text[: text.index(sequence)]
        tokens = tokenize(text)
        limit = kwargs.get("max_tokens", self.max_tokens)
        if limit is not None and len(tokens) > limit:
            tokens, finish = tokens[:limit], "length"
        input_tokens = _PER_PROMPT_TOKENS + sum(
            count_tokens(content) + _PER_MESSAGE_TOKENS for _, content in roles
        )
        waits = self._waits(len(tokens), input_tokens, _digest(self.seed, prompt_key, call, "time"))
        ident = f"sim-{_digest(self.seed, prompt_key, call):016x}"
        plan = [(wait, AIMessageChunk(token, id=ident)) for wait, token in zip(waits, tokens)]
        usage = UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=len(tokens),
            total_tokens=input_tokens + len(tokens),
        )
        last = AIMessageChunk(
            "",
            id=ident,
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": finish,
                "seed": self.seed,
                "call": call,
            },
            usage_metadata=usage,
        )
        plan.append((0.0 if tokens else waits[0], last))
        return plan

    def _waits(self, tokens: int, input_tokens: int, seed: int) -> list[float]:
        """Seconds before each token (at least one entry, for an empty reply): the first
        waits the time to first token, the others one token interval; all jittered."""
        count = max(tokens, 1)
        if self.latency_scale == 0:
            return [0.0] * count
        rng = random.Random(seed)
        first = (
            self.time_to_first_token * rng.lognormvariate(0.0, self.jitter)
            + input_tokens * _PREFILL_SECONDS_PER_TOKEN
        )
        rate = self.tokens_per_second * rng.lognormvariate(0.0, self.jitter / 2)
        waits = [first]
        waits.extend(rng.lognormvariate(0.0, self.jitter) / rate for _ in range(count - 1))
        return [w * self.latency_scale for w in waits]

    def _generate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        for wait, chunk in self._schedule(messages, stop, kwargs):
            step.sleep(wait)
            yield chunk

    async def _agenerate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        for wait, chunk in self._schedule(messages, stop, kwargs):
            await step.asleep(wait)
            yield chunk
