"""Retrying OpenAI calls, and making their errors safe and helpful.

Retries are chainviz's, not the ``openai`` client's (clients are built with
``max_retries=0``). The client's own loop sleeps in ``time.sleep`` / an un-
cancellable wait; ours waits through ``step.sleep`` / ``step.asleep``, so Stop
and Interrupt end the wait at once, and the retry shows as a gap inside the
step's own latency bar. The policy follows the client's, so switching changes
nothing else:

* retried: 408, 409, 429 and 5xx responses (unless ``x-should-retry: false``),
  connection errors and timeouts; ``max_retries`` retries, so at most
  ``max_retries + 1`` attempts;
* the wait before a retry is what ``Retry-After`` / ``retry-after-ms`` says when
  the server says it (never less), else an exponential backoff (0.5 s, 1 s, 2 s…
  up to 8 s, with jitter); a server that asks for more than
  :data:`MAX_RETRY_AFTER` seconds is not retried, and the note says why;
* a streamed answer is retried only until its first chunk arrived.

Errors keep their type (``except openai.RateLimitError`` still works) and gain
notes: the node id (added by the core), the attempts made, and a hint for
connection and key errors. A timeout becomes :class:`OpenAITimeout`, which is
both a :class:`~chainviz.errors.StepTimeout` naming the step and an
``openai.APITimeoutError``. Before anything is raised, the API key is removed
from the exception and its chain: message, args, notes, body, request headers
and response content (a server may echo the key in a 401 body).
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from chainviz.core.run import Step
from chainviz.errors import StepTimeout
from chainviz.models.openai_client import Resolved, openai_module

openai_module()  # a missing package fails here, with the pip install line
import openai  # noqa: E402

__all__ = [
    "MAX_RETRY_AFTER",
    "REDACTED",
    "CallContext",
    "OpenAITimeout",
    "adapt_error",
    "redact",
    "retry_after_seconds",
    "retry_delay",
]

T = TypeVar("T")

MAX_RETRY_AFTER = 60.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
RETRY_STATUSES = frozenset({408, 409, 429})
REDACTED = "[redacted API key]"


# ------------------------------------------------------------------------- the policy


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``retry-after`` as seconds or
    as an HTTP date), or None."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) * scale
        except ValueError:
            if name == "retry-after-ms":
                continue
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                continue
            seconds = when.timestamp() - time.time()
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return None


def retry_delay(exc: BaseException, retry: int) -> float | None:
    """Seconds to wait before retry number ``retry`` (1, 2, …) after ``exc``; None: do not."""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        headers = exc.response.headers
        should = (headers.get("x-should-retry") or "").lower()
        if should == "false" or not (status in RETRY_STATUSES or status >= 500 or should == "true"):
            return None
        after = retry_after_seconds(headers)
        if after is not None:
            if after > MAX_RETRY_AFTER:
                exc.add_note(
                    f"chainviz: not retried: the server asked to wait {after:.0f} s "
                    f"(Retry-After), more than {MAX_RETRY_AFTER:.0f} s."
                )
                return None
            return after
    elif not isinstance(exc, openai.APIConnectionError):  # timeouts are connection errors
        return None
    backoff = min(INITIAL_BACKOFF * 2.0 ** (retry - 1), MAX_BACKOFF)
    return backoff * random.uniform(0.75, 1.0)


# ------------------------------------------------------------------------- redaction


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, bytes):
        return value.replace(secret.encode("utf-8"), REDACTED.encode("utf-8"))
    if isinstance(value, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v, secret) for v in value)
    return value


def _scrub_http(message: Any, secret: str) -> None:
    """Mask a request's Authorization header, or the key in a response's content."""
    try:
        headers = message.headers
        if "authorization" in headers:
            headers["authorization"] = f"Bearer {REDACTED}"
        content = vars(message).get("_content")
        if isinstance(content, bytes) and secret.encode("utf-8") in content:
            message._content = _scrub(content, secret)
            vars(message).pop("_text", None)  # the decoded text is cached separately
    except (AttributeError, TypeError):  # an object without these: nothing to mask
        pass


def _http_messages(exc: BaseException) -> list[Any]:
    """The request and response objects an openai or httpx error carries."""
    found = [vars(exc).get("request"), vars(exc).get("response")]
    response = found[1]
    if response is not None:
        found.append(vars(response).get("_request"))
    return [message for message in found if message is not None]


def redact(exc: BaseException, secret: str | None) -> None:
    """Remove ``secret`` from ``exc`` and every exception in its cause/context chain."""
    if not secret:
        return
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.args = _scrub(current.args, secret)
        notes = getattr(current, "__notes__", None)
        if notes:
            current.__notes__ = _scrub(list(notes), secret)
        for attr in ("message", "body"):
            if attr in vars(current):
                setattr(current, attr, _scrub(getattr(current, attr), secret))
        for message in _http_messages(current):
            _scrub_http(message, secret)
        pending += [current.__cause__, current.__context__]


# --------------------------------------------------------------------------- adapting


class OpenAITimeout(StepTimeout, openai.APITimeoutError):
    """A request ran past its ``timeout``: a StepTimeout naming the step, and still an
    ``openai.APITimeoutError``."""

    def __init__(self, message: str, *, request: Any, node_id: str | None) -> None:
        StepTimeout.__init__(self, message, node_id=node_id)
        self.request = request
        self.message = message
        self.body = None
        self.code = self.param = self.type = None


def adapt_error(exc: BaseException, call: CallContext) -> BaseException:
    """Redact ``exc``, add hints, and turn a timeout into :class:`OpenAITimeout`."""
    resolved = call.resolved
    redact(exc, resolved.secret)
    if isinstance(exc, openai.APITimeoutError) and not isinstance(exc, OpenAITimeout):
        limit = resolved.timeout
        seconds = "the client's default 600" if limit is None else f"{limit:g}"
        return OpenAITimeout(
            f"{call.where} got no answer from {resolved.url} within {seconds} s. "
            "Raise timeout=... if the model is slow, or check that the server is up.",
            request=exc.request,
            node_id=call.node_id,
        )
    if isinstance(exc, openai.AuthenticationError):
        exc.add_note(
            f"chainviz: {resolved.url} refused the API key; check OPENAI_API_KEY or api_key=."
        )
    elif isinstance(exc, openai.APIConnectionError):
        exc.add_note(f"chainviz: could not reach {resolved.url}; is the server running?")
    return exc


# ------------------------------------------------------------------------- the calls


@dataclass(frozen=True)
class CallContext:
    """One model or embedding call: who makes it (for messages), with what settings."""

    where: str  # e.g. "Step 'joke/1' (ChatOpenAI)"
    node_id: str | None
    resolved: Resolved
    max_retries: int
    step: Step | None

    def _give_up(self, exc: BaseException, attempt: int) -> float | None:
        wait = retry_delay(exc, attempt) if attempt <= self.max_retries else None
        if wait is None and attempt > 1:
            exc.add_note(f"chainviz: gave up after {attempt} attempts")
        return wait

    def run(self, call: Callable[[], T]) -> T:
        """``call()`` with retries, waiting on the step's cancel token; errors adapted."""
        attempt = 1
        while True:
            with self.errors():
                try:
                    return call()
                except Exception as exc:
                    wait = self._give_up(exc, attempt)
                    if wait is None:
                        raise
            if self.step is not None:
                self.step.sleep(wait)
            else:
                time.sleep(wait)
            attempt += 1

    async def arun(self, call: Callable[[], Awaitable[T]]) -> T:
        """The async twin of :meth:`run`."""
        attempt = 1
        while True:
            with self.errors():
                try:
                    return await call()
                except Exception as exc:
                    wait = self._give_up(exc, attempt)
                    if wait is None:
                        raise
            if self.step is not None:
                await self.step.asleep(wait)
            else:
                await asyncio.sleep(wait)
            attempt += 1

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Adapt an exception raised inside (redacted, hinted, timeouts named)."""
        try:
            yield
        except Exception as exc:
            adapted = adapt_error(exc, self)
            if adapted is exc:
                raise
            raise adapted from exc
