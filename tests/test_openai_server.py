"""The fake OpenAI server, proven against the real ``openai`` client.

If these pass, tests that use the ``openai_server`` fixture exercise the same
HTTP, retry, timeout and streaming code that talks to the real service.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

import pytest
from fakes.openai_server import (
    FakeOpenAIServer,
    Message,
    default_reply,
    fake_embedding,
    split_pieces,
)

openai = pytest.importorskip("openai")

MODEL = "gpt-4o-mini"
USER = [{"role": "user", "content": "hello there"}]


def client(server: FakeOpenAIServer, **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10.0)
    return openai.OpenAI(base_url=server.base_url, **kwargs)


def async_client(server: FakeOpenAIServer, **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", "sk-test")
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10.0)
    return openai.AsyncOpenAI(base_url=server.base_url, **kwargs)


def post_raw(server: FakeOpenAIServer, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-raw"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


# ------------------------------------------------------------------ chat, plain


def test_sync_chat_completion(openai_server: FakeOpenAIServer) -> None:
    result = client(openai_server).chat.completions.create(model=MODEL, messages=USER)

    choice = result.choices[0]
    assert choice.message.content == "echo: hello there"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert result.model == MODEL
    assert result.usage is not None
    assert result.usage.prompt_tokens == 2
    assert result.usage.completion_tokens == 3
    assert result.usage.total_tokens == 5

    (recorded,) = openai_server.requests
    assert recorded.method == "POST"
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == "Bearer sk-test"
    assert recorded.api_key == "sk-test"
    assert recorded.body["messages"] == USER
    assert recorded.body["model"] == MODEL


def test_reply_is_configurable_and_sees_all_messages(openai_server: FakeOpenAIServer) -> None:
    seen: list[Sequence[Message]] = []

    def reply(messages: Sequence[Message]) -> str:
        seen.append(messages)
        return f"{len(messages)} messages, first from {messages[0]['role']}"

    openai_server.reply = reply
    messages = [
        {"role": "system", "content": "be brief"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "multi"}, {"type": "text", "text": "part"}],
        },
    ]
    result = client(openai_server).chat.completions.create(model=MODEL, messages=messages)

    assert result.choices[0].message.content == "2 messages, first from system"
    assert seen == [messages]


def test_default_reply_reads_list_content() -> None:
    assert (
        default_reply([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]) == "echo: hi"
    )
    assert default_reply([{"role": "system", "content": "x"}]) == "echo:"


def test_max_tokens_truncates_with_finish_reason_length(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = lambda _messages: "one two three four five"
    result = client(openai_server).chat.completions.create(model=MODEL, messages=USER, max_tokens=2)
    assert result.choices[0].message.content == "one two"
    assert result.choices[0].finish_reason == "length"
    assert result.usage is not None and result.usage.completion_tokens == 2


def test_bad_request_is_a_400(openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(openai.BadRequestError):
        client(openai_server).chat.completions.create(model=MODEL, messages=[])


def test_async_chat_completions_run_concurrently() -> None:
    with FakeOpenAIServer(latency=0.5) as server:

        async def main() -> list[str]:
            aclient = async_client(server)
            results = await asyncio.gather(
                *(
                    aclient.chat.completions.create(
                        model=MODEL, messages=[{"role": "user", "content": f"q{i}"}]
                    )
                    for i in range(3)
                )
            )
            await aclient.close()
            return [r.choices[0].message.content for r in results]

        assert asyncio.run(main()) == ["echo: q0", "echo: q1", "echo: q2"]
        assert server.max_in_flight >= 2
        assert not server.errors


# ------------------------------------------------------------------ chat, streamed


def test_streaming_with_usage(openai_server: FakeOpenAIServer) -> None:
    openai_server.reply = lambda _messages: "streamed reply in pieces"
    stream = client(openai_server).chat.completions.create(
        model=MODEL, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed reply in pieces"
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) == 4  # one per word
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert all(f is None for f in finishes[:-1])

    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (2, 4)
    assert last.usage.total_tokens == 6
    assert all(c.usage is None for c in chunks[:-1])


def test_streaming_without_usage_has_no_usage_chunk(openai_server: FakeOpenAIServer) -> None:
    chunks = list(
        client(openai_server).chat.completions.create(model=MODEL, messages=USER, stream=True)
    )
    assert all(c.choices for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "echo: hello there"


def test_stream_wire_format_ends_with_done(openai_server: FakeOpenAIServer) -> None:
    status, raw = post_raw(
        openai_server,
        "/v1/chat/completions",
        {
            "model": MODEL,
            "messages": USER,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert status == 200
    events = raw.decode().split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events[:-1])
    usage = json.loads(events[-3][len("data: ") :])["usage"]
    assert usage == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_async_streaming(openai_server: FakeOpenAIServer) -> None:
    openai_server.stream_delay = 0.05

    async def main() -> list[str]:
        aclient = async_client(openai_server)
        stream = await aclient.chat.completions.create(model=MODEL, messages=USER, stream=True)
        pieces = [c.choices[0].delta.content async for c in stream if c.choices]
        await aclient.close()
        return [p for p in pieces if p]

    assert asyncio.run(main()) == ["echo:", " hello", " there"]


def test_split_pieces_round_trips() -> None:
    for text in ["", "a", "  lead and trail  ", "tabs\tand\nnewlines"]:
        assert "".join(split_pieces(text)) == text


# ------------------------------------------------------------------ embeddings


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeddings_honour_dimensions_and_list_input(openai_server: FakeOpenAIServer) -> None:
    texts = ["the cat sat", "the cat ran", "quantum flux"]
    result = client(openai_server).embeddings.create(
        model="text-embedding-3-small", input=texts, dimensions=64
    )

    vectors = [d.embedding for d in sorted(result.data, key=lambda d: d.index)]
    assert [len(v) for v in vectors] == [64, 64, 64]
    for v in vectors:
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-6)
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    assert result.usage.prompt_tokens == 3 + 3 + 2
    assert openai_server.last_request.body["dimensions"] == 64


def test_embeddings_are_deterministic_and_default_dimensions(
    openai_server: FakeOpenAIServer,
) -> None:
    c = client(openai_server)
    first = c.embeddings.create(model="text-embedding-3-small", input="same text")
    second = c.embeddings.create(model="text-embedding-3-small", input="same text")
    assert len(first.data) == 1
    assert len(first.data[0].embedding) == 1536
    assert first.data[0].embedding == second.data[0].embedding
    assert first.data[0].embedding == pytest.approx(fake_embedding("same text", 1536))


def test_embeddings_base64_wire_format(openai_server: FakeOpenAIServer) -> None:
    status, raw = post_raw(
        openai_server,
        "/v1/embeddings",
        {"model": "m", "input": ["abc"], "dimensions": 8, "encoding_format": "base64"},
    )
    assert status == 200
    encoded = json.loads(raw)["data"][0]["embedding"]
    decoded = struct.unpack("<8f", base64.b64decode(encoded))
    assert decoded == pytest.approx(fake_embedding("abc", 8), rel=1e-6)


# ------------------------------------------------------------------ scripted failures


def test_429_retry_honours_retry_after(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(times=2, retry_after=1)
    start = time.monotonic()
    result = client(openai_server, max_retries=2).chat.completions.create(
        model=MODEL, messages=USER
    )
    elapsed = time.monotonic() - start

    assert result.choices[0].message.content == "echo: hello there"
    # Two waits of Retry-After: 1 s. The client's own backoff would total
    # at most 0.5 s + 1 s, so this proves the header was honoured.
    assert elapsed >= 1.9
    retries = [r.headers.get("x-stainless-retry-count") for r in openai_server.requests]
    assert retries == ["0", "1", "2"]


def test_429_gives_up_after_max_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(times=3, retry_after=0.1)
    with pytest.raises(openai.RateLimitError) as excinfo:
        client(openai_server, max_retries=2).chat.completions.create(model=MODEL, messages=USER)
    assert excinfo.value.status_code == 429
    assert excinfo.value.response.headers["retry-after"] == "0.1"
    assert len(openai_server.requests) == 3


def test_500_is_retried_then_succeeds(openai_server: FakeOpenAIServer) -> None:
    openai_server.server_error(times=2)
    result = client(openai_server, max_retries=2).chat.completions.create(
        model=MODEL, messages=USER
    )
    assert result.choices[0].message.content == "echo: hello there"
    assert len(openai_server.requests) == 3


def test_500_gives_up(openai_server: FakeOpenAIServer) -> None:
    openai_server.server_error(times=None, retry_after=0.05)
    with pytest.raises(openai.InternalServerError):
        client(openai_server, max_retries=1).chat.completions.create(model=MODEL, messages=USER)
    assert len(openai_server.requests) == 2


def test_faults_are_consumed_in_order(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(times=1, retry_after=0.05)
    openai_server.server_error(times=1, retry_after=0.05)
    client(openai_server, max_retries=2).chat.completions.create(model=MODEL, messages=USER)
    # 429, then 500, then success: every fault used up, none left over.
    assert len(openai_server.requests) == 3
    client(openai_server).chat.completions.create(model=MODEL, messages=USER)


def test_fault_limited_to_one_path(openai_server: FakeOpenAIServer) -> None:
    openai_server.server_error(times=None, path="/v1/embeddings")
    c = client(openai_server)
    assert c.chat.completions.create(model=MODEL, messages=USER).choices
    with pytest.raises(openai.InternalServerError):
        c.embeddings.create(model="text-embedding-3-small", input="x")


def test_401_echoes_the_key_and_is_not_retried(openai_server: FakeOpenAIServer) -> None:
    secret = "sk-live-DO-NOT-LEAK-1234567890"
    openai_server.unauthorized()
    with pytest.raises(openai.AuthenticationError) as excinfo:
        client(openai_server, api_key=secret, max_retries=2).chat.completions.create(
            model=MODEL, messages=USER
        )
    assert excinfo.value.status_code == 401
    # The fake quotes the key on purpose, so a naive error wrapper would leak it:
    # code under test must redact it.
    assert secret in str(excinfo.value)
    assert len(openai_server.requests) == 1
    with pytest.raises(openai.AuthenticationError):  # stays unauthorized by default
        client(openai_server, api_key=secret).chat.completions.create(model=MODEL, messages=USER)


def test_slow_reply_times_out(openai_server: FakeOpenAIServer) -> None:
    openai_server.slow(3.0)
    start = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client(openai_server, timeout=0.3).chat.completions.create(model=MODEL, messages=USER)
    assert time.monotonic() - start < 2.0


def test_timeout_then_retry_succeeds(openai_server: FakeOpenAIServer) -> None:
    openai_server.slow(5.0, times=1)
    # 1 s leaves the second, prompt answer plenty of room on a loaded machine.
    result = client(openai_server, timeout=1.0, max_retries=1).chat.completions.create(
        model=MODEL, messages=USER
    )
    assert result.choices[0].message.content == "echo: hello there"
    assert len(openai_server.requests) == 2


def test_models_endpoint(openai_server: FakeOpenAIServer) -> None:
    ids = [m.id for m in client(openai_server).models.list()]
    assert MODEL in ids


def test_env_points_a_default_client_at_the_server(openai_env: FakeOpenAIServer) -> None:
    result = openai.OpenAI(max_retries=0).chat.completions.create(model=MODEL, messages=USER)
    assert result.choices[0].message.content == "echo: hello there"
    assert openai_env.last_request.api_key == "sk-fake-test-key"
