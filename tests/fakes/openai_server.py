"""A local, OpenAI-compatible HTTP server for tests.

Tests point the real ``openai`` client (or anything else that speaks the API)
at :attr:`FakeOpenAIServer.base_url` and so exercise the real HTTP path:
retries, timeouts, streaming and error mapping, with no network and no key.

    with FakeOpenAIServer(reply=lambda messages: "hi") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test")
        ...
        assert server.requests[0].body["model"] == "gpt-4o-mini"

Served endpoints (with or without the ``/v1`` prefix):

* ``POST /v1/chat/completions``: plain JSON, or server-sent events when
  ``"stream": true`` (a final usage chunk when
  ``stream_options.include_usage`` is set, then ``data: [DONE]``).
  ``max_tokens`` / ``max_completion_tokens`` cut the reply (one token per
  word) and give ``finish_reason == "length"``.
* ``POST /v1/embeddings``: deterministic unit vectors from the input text
  (a signed hashing trick over words, so texts sharing words are similar),
  honouring ``dimensions`` and ``encoding_format="base64"``.
* ``GET /v1/models``: the configured model.

Scripted failures are queued per test and consumed first in, first out, one per
matching request: :meth:`~FakeOpenAIServer.rate_limit` (429 with
``Retry-After``), :meth:`~FakeOpenAIServer.server_error` (500),
:meth:`~FakeOpenAIServer.unauthorized` (401 whose body echoes the API key, so
tests can prove a key never reaches user-visible errors) and
:meth:`~FakeOpenAIServer.slow` (delay before answering, for timeouts).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Message = Mapping[str, Any]
ReplyFn = Callable[[Sequence[Message]], str]

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"
EMBEDDING_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
FALLBACK_EMBEDDING_DIMENSIONS = 256

_PIECE_RE = re.compile(r"\s*\S+|\s+")
_WORD_RE = re.compile(r"\w+")


# --------------------------------------------------------------------------- helpers


def message_text(content: Any) -> str:
    """Plain text of a message's ``content``: a string, or a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and "text" in part
        )
    return str(content)


def default_reply(messages: Sequence[Message]) -> str:
    """``"echo: <text of the last user message>"``: deterministic and easy to assert on."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return f"echo: {message_text(message.get('content'))}"
    return "echo:"


def split_pieces(text: str) -> list[str]:
    """Split ``text`` into word-sized pieces (leading whitespace kept) that join back to it."""
    return _PIECE_RE.findall(text)


def count_tokens(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for ``text``.

    Each lower-cased word is hashed to a signed slot (the hashing trick), so
    texts that share words have a positive cosine similarity and equal texts
    have equal vectors, in every process and on every run.
    """
    if dimensions <= 0:
        raise ValueError("dimensions must be positive")
    vector = [0.0] * dimensions
    for token in _WORD_RE.findall(text.lower()) or [text]:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:  # opposite signs cancelled out in a colliding slot
        vector[0], norm = 1.0, 1.0
    return [v / norm for v in vector]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: Any
    """The parsed JSON body, or ``None`` when there was none."""
    received_at: float
    """``time.monotonic()`` on arrival."""

    @property
    def api_key(self) -> str | None:
        """The bearer token from the ``Authorization`` header, if any."""
        auth = self.headers.get("authorization")
        if auth is None:
            return None
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth


@dataclass
class _Fault:
    status: int | None  # None: answer normally after the delay
    remaining: int | None  # None: forever
    delay: float = 0.0
    retry_after: float | None = None
    path: str | None = None

    def matches(self, path: str) -> bool:
        return self.path is None or _route(path) == _route(self.path)


def _route(path: str) -> str:
    path = path.split("?", 1)[0].rstrip("/")
    return path[len("/v1") :] if path.startswith("/v1/") else path


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


# --------------------------------------------------------------------------- server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeOpenAIServer


class FakeOpenAIServer:
    """An OpenAI-compatible server on ``127.0.0.1`` at a free port, in a daemon thread.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    All public methods are thread-safe.

    :param reply: maps a request's ``messages`` to the assistant's text
        (default: :func:`default_reply`). Read at request time, so a test may
        replace ``server.reply`` while the server runs.
    :param model: the model reported when a request names none.
    :param latency: seconds to wait before answering every request.
    :param stream_delay: seconds between streamed content chunks.
    """

    def __init__(
        self,
        reply: ReplyFn | None = None,
        *,
        model: str = DEFAULT_MODEL,
        latency: float = 0.0,
        stream_delay: float = 0.0,
    ) -> None:
        self.reply: ReplyFn = reply or default_reply
        self.model = model
        self.latency = latency
        self.stream_delay = stream_delay
        self.errors: list[BaseException] = []
        """Unexpected exceptions raised while handling requests (bugs, not scripted faults)."""

        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-openai-server:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping in slow()/latency
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._httpd is not None else "stopped"
        return f"<FakeOpenAIServer {where} requests={len(self._requests)}>"

    # ----------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no ``/v1``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what ``openai.OpenAI(base_url=...)`` expects."""
        return f"{self.url}/v1"

    def env(self, api_key: str = "sk-fake-test-key") -> dict[str, str]:
        """Environment variables that point an ``openai`` client (or a kernel) here."""
        return {"OPENAI_BASE_URL": self.base_url, "OPENAI_API_KEY": api_key}

    # ----------------------------------------------------------------- recording

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests for one endpoint, e.g. ``"/v1/chat/completions"``."""
        return [r for r in self.requests if _route(r.path) == _route(path)]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise LookupError("no request received yet")
            return self._requests[-1]

    @property
    def max_in_flight(self) -> int:
        """The most requests that were being handled at the same moment."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget recorded requests, queued faults and the concurrency high-water mark."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._max_in_flight = self._in_flight

    # ----------------------------------------------------------------- faults

    def fail(
        self,
        status: int,
        times: int | None = 1,
        *,
        retry_after: float | None = None,
        delay: float = 0.0,
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests (``None``: all) with ``status``.

        ``path`` limits the fault to one endpoint; ``retry_after`` adds a
        ``Retry-After`` header (seconds); ``delay`` waits before answering.
        """
        self._add(_Fault(status, times, delay=delay, retry_after=retry_after, path=path))

    def rate_limit(
        self, times: int | None = 1, *, retry_after: float = 1, path: str | None = None
    ) -> None:
        """429 ``rate_limit_exceeded`` with ``Retry-After: <retry_after>``, ``times`` times."""
        self.fail(429, times, retry_after=retry_after, path=path)

    def server_error(
        self,
        times: int | None = 1,
        *,
        status: int = 500,
        retry_after: float | None = None,
        path: str | None = None,
    ) -> None:
        """A 5xx ``server_error``, ``times`` times."""
        self.fail(status, times, retry_after=retry_after, path=path)

    def unauthorized(self, times: int | None = None, *, path: str | None = None) -> None:
        """401 ``invalid_api_key`` whose message quotes the request's API key in full.

        By default every later request fails, as a wrong key would.
        """
        self.fail(401, times, path=path)

    def slow(self, seconds: float, times: int | None = None, *, path: str | None = None) -> None:
        """Wait ``seconds`` before answering normally (by default, every later request)."""
        self._add(_Fault(None, times, delay=seconds, path=path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add(self, fault: _Fault) -> None:
        if fault.remaining is not None and fault.remaining <= 0:
            raise ValueError("times must be positive or None")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # ----------------------------------------------------------------- internals

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-fake-{next(self._ids)}"


# --------------------------------------------------------------------------- handler


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server: _HTTPServer

    @property
    def fake(self) -> FakeOpenAIServer:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    # ----------------------------------------------------------------- dispatch

    def do_GET(self) -> None:
        self._handle(with_body=False)

    def do_POST(self) -> None:
        self._handle(with_body=True)

    def _handle(self, *, with_body: bool) -> None:
        try:
            raw = self._read_body() if with_body else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
                bad_json = True
            else:
                bad_json = False
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.fake._record(
                RecordedRequest(self.command, self.path, headers, body, time.monotonic())
            )
            self.fake._enter()
            try:
                self._respond(body, bad_json=bad_json)
            finally:
                self.fake._leave()
        except ConnectionError:  # the client gave up (e.g. its timeout): nothing to answer
            self.close_connection = True
        except Exception as exc:  # a bug in the fake: make it visible to the test
            self.fake.errors.append(exc)
            self.close_connection = True
            try:
                self._send_error(500, f"fake server crashed: {exc!r}", "fake_server_bug")
            except ConnectionError:
                pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _respond(self, body: Any, *, bad_json: bool) -> None:
        fake = self.fake
        fake._sleep(fake.latency)
        fault = fake._take_fault(self.path)
        if fault is not None:
            fake._sleep(fault.delay)
            if fault.status is not None:
                self._send_fault(fault)
                return

        route = _route(self.path)
        if self.command == "GET":
            if route == "/models":
                self._send_json(200, self._models())
            else:
                self._send_error(
                    404, f"Unknown path {self.path}", "not_found", "invalid_request_error"
                )
            return
        if route not in ("/chat/completions", "/embeddings"):
            self._send_error(404, f"Unknown path {self.path}", "not_found", "invalid_request_error")
            return
        if bad_json or not isinstance(body, dict):
            self._send_error(
                400, "Request body must be a JSON object.", None, "invalid_request_error"
            )
            return
        try:
            if route == "/chat/completions":
                self._chat(body)
            else:
                self._embeddings(body)
        except _BadRequest as exc:
            self._send_error(400, str(exc), None, "invalid_request_error")

    # ----------------------------------------------------------------- endpoints

    def _models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": 0, "owned_by": "fake"}
                for model in (self.fake.model, *EMBEDDING_DIMENSIONS)
            ],
        }

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest("'messages' must be a non-empty array.")
        model = str(body.get("model") or fake.model)
        text = fake.reply(messages)
        pieces = split_pieces(text)
        finish_reason = "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, finish_reason = pieces[:limit], "length"
        content = "".join(pieces)
        prompt_tokens = max(1, sum(count_tokens(message_text(m.get("content"))) for m in messages))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
        completion_id = fake._next_id("chatcmpl")
        created = int(time.time())

        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content, "refusal": None},
                            "logprobs": None,
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": usage,
                },
            )
            return

        stream_options = body.get("stream_options") or {}
        include_usage = bool(stream_options.get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                data["usage"] = None
            return data

        def events() -> Iterator[dict[str, Any]]:
            yield chunk({"role": "assistant", "content": ""})
            for i, piece in enumerate(pieces):
                if i:
                    fake._sleep(fake.stream_delay)
                yield chunk({"content": piece})
            yield chunk({}, finish_reason)
            if include_usage:
                final = chunk({})
                final["choices"] = []
                final["usage"] = usage
                yield final

        self._send_sse(events())

    def _embeddings(self, body: dict[str, Any]) -> None:
        model = str(body.get("model") or DEFAULT_EMBEDDING_MODEL)
        texts = self._embedding_inputs(body.get("input"))
        dimensions = body.get("dimensions")
        if dimensions is None:
            dimensions = EMBEDDING_DIMENSIONS.get(model, FALLBACK_EMBEDDING_DIMENSIONS)
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions <= 0:
            raise _BadRequest("'dimensions' must be a positive integer.")
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise _BadRequest("'encoding_format' must be 'float' or 'base64'.")

        data = []
        for index, text in enumerate(texts):
            vector = fake_embedding(text, dimensions)
            embedding: list[float] | str = vector
            if encoding == "base64":
                packed = struct.pack(f"<{len(vector)}f", *vector)
                embedding = base64.b64encode(packed).decode("ascii")
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(max(1, count_tokens(t)) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    @staticmethod
    def _embedding_inputs(value: Any) -> list[str]:
        """``input`` as texts: a string, strings, a token array or token arrays."""

        def is_tokens(v: Any) -> bool:
            return isinstance(v, list) and all(isinstance(t, int) for t in v)

        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and value:
            if all(isinstance(v, int) for v in value):
                return [" ".join(map(str, value))]
            if all(isinstance(v, str) or is_tokens(v) for v in value):
                return [v if isinstance(v, str) else " ".join(map(str, v)) for v in value]
        raise _BadRequest("'input' must be a string, an array of strings or of token arrays.")

    # ----------------------------------------------------------------- responses

    def _send_fault(self, fault: _Fault) -> None:
        status = fault.status
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = _format_seconds(fault.retry_after)
        if status == 429:
            self._send_error(
                429,
                "Rate limit reached for requests (fake server).",
                "rate_limit_exceeded",
                "requests",
                headers,
            )
        elif status == 401:
            auth = self.headers.get("Authorization") or ""
            key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else auth
            # Quoted in full on purpose: a test can then search logs, reprs and
            # exception messages for the key and prove it never leaks.
            self._send_error(
                401,
                f"Incorrect API key provided: {key}. You can find your API key in your settings.",
                "invalid_api_key",
                "invalid_request_error",
                headers,
            )
        elif status is not None and status >= 500:
            self._send_error(
                status,
                "The server had an error while processing your request (fake server).",
                None,
                "server_error",
                headers,
            )
        else:
            self._send_error(
                status or 400, f"Scripted failure {status}.", None, "invalid_request_error", headers
            )

    def _send_error(
        self,
        status: int,
        message: str,
        code: str | None,
        type_: str = "server_error",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
        self._send_json(status, body, headers)

    def _send_json(
        self, status: int, payload: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", self.fake._next_id("req"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, events: Iterator[dict[str, Any]]) -> None:
        # No Content-Length: the body ends when the connection closes.
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("x-request-id", self.fake._next_id("req"))
        self.end_headers()
        for event in events:
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
