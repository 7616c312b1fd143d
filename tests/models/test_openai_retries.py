"""Retries, Retry-After, timeouts, API errors and Stop, through the real openai client."""

from __future__ import annotations

import asyncio
import email.utils
import itertools
import threading
import time
from typing import Any

import openai
import pytest
from fakes.openai_server import FakeOpenAIServer
from openai_support import MODES, clear_openai_env, run

from chainviz import CancelToken, RunnableParallel
from chainviz.core.events import RunEvent, TokenEvent
from chainviz.errors import RunCancelled, StepTimeout, failed_node_id
from chainviz.models import ChatOpenAI
from chainviz.models.openai_errors import OpenAITimeout, retry_after_seconds, retry_delay


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_openai_env(monkeypatch)

CHAT = "/v1/chat/completions"


def chat(server: FakeOpenAIServer, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(base_url=server.base_url, api_key="test-key", **kwargs)


def gaps(server: FakeOpenAIServer) -> list[float]:
    times = [r.received_at for r in server.requests_to(CHAT)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@MODES
@pytest.mark.parametrize("streaming", [True, False])
def test_429_is_retried_waiting_at_least_retry_after(
    openai_server: FakeOpenAIServer, mode: str, streaming: bool
) -> None:
    openai_server.rate_limit(2, retry_after=0.2)
    answer = run(mode, chat(openai_server, max_retries=2, streaming=streaming), "hi")
    assert answer.content == "echo: hi"
    assert len(openai_server.requests_to(CHAT)) == 3  # max_retries + 1 attempts
    assert all(gap >= 0.2 for gap in gaps(openai_server)), gaps(openai_server)


def test_retry_after_ms_is_honoured_too() -> None:
    assert retry_after_seconds({"retry-after-ms": "250"}) == pytest.approx(0.25)
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds({"retry-after": soon}) or 0) <= 30
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    assert retry_delay(ValueError("not an API error"), 1) is None


@MODES
def test_giving_up_keeps_the_type_and_counts_attempts(
    openai_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.rate_limit(None, retry_after=0.05)  # every request
    with pytest.raises(openai.RateLimitError) as info:
        run(mode, RunnableParallel(joke=chat(openai_server, max_retries=3)), "hi")
    assert len(openai_server.requests_to(CHAT)) == 4
    notes = info.value.__notes__
    assert "chainviz: gave up after 4 attempts" in notes
    assert failed_node_id(info.value) == "joke"
    assert any("step 'joke'" in note for note in notes)


@MODES
def test_max_retries_zero_means_one_attempt(openai_server: FakeOpenAIServer, mode: str) -> None:
    openai_server.server_error(1)
    with pytest.raises(openai.InternalServerError):
        run(mode, chat(openai_server, max_retries=0), "hi")
    assert len(openai_server.requests_to(CHAT)) == 1


@MODES
def test_5xx_is_retried_with_backoff(openai_server: FakeOpenAIServer, mode: str) -> None:
    openai_server.server_error(1, status=503)
    assert run(mode, chat(openai_server, max_retries=1), "hi").content == "echo: hi"
    assert len(openai_server.requests_to(CHAT)) == 2
    assert gaps(openai_server)[0] >= 0.5 * 0.75  # the first backoff step, with jitter


@MODES
@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(
    openai_server: FakeOpenAIServer, mode: str, status: int
) -> None:
    openai_server.fail(status, 1)
    with pytest.raises(openai.APIStatusError) as info:
        run(mode, chat(openai_server, max_retries=3), "hi")
    assert info.value.status_code == status
    assert len(openai_server.requests_to(CHAT)) == 1


@MODES
def test_a_very_long_retry_after_is_not_waited_for(
    openai_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.rate_limit(1, retry_after=600)
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as info:
        run(mode, chat(openai_server, max_retries=2), "hi")
    assert time.monotonic() - started < 5
    assert any("asked to wait 600 s" in note for note in info.value.__notes__)


# ------------------------------------------------------------------------ timeouts


@MODES
def test_a_timeout_names_the_step(openai_server: FakeOpenAIServer, mode: str) -> None:
    openai_server.slow(2.0)
    chain = RunnableParallel(joke=chat(openai_server, timeout=0.2, max_retries=0))
    started = time.monotonic()
    with pytest.raises(StepTimeout) as info:
        run(mode, chain, "hi")
    assert time.monotonic() - started < 1.5
    error = info.value
    assert isinstance(error, OpenAITimeout)
    assert isinstance(error, openai.APITimeoutError) and isinstance(error, TimeoutError)
    assert error.node_id == "joke"
    assert str(error).startswith("Step 'joke' (ChatOpenAI) got no answer from http://127.0.0.1:")
    assert "within 0.2 s" in str(error)
    assert isinstance(error.__cause__, openai.APITimeoutError)


@MODES
def test_a_timeout_is_retried(openai_server: FakeOpenAIServer, mode: str) -> None:
    openai_server.slow(1.0, times=1)
    answer = run(mode, chat(openai_server, timeout=0.3, max_retries=1), "hi")
    assert answer.content == "echo: hi"
    assert len(openai_server.requests_to(CHAT)) == 2


@MODES
def test_an_unreachable_server_is_a_connection_error(mode: str) -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
    model = ChatOpenAI(base_url=url, max_retries=1, timeout=2)
    with pytest.raises(openai.APIConnectionError) as info:
        run(mode, model, "hi")
    notes = info.value.__notes__
    assert any(f"could not reach {url}; is the server running?" in n for n in notes)
    assert "chainviz: gave up after 2 attempts" in notes


# ---------------------------------------------------------------------------- Stop


def _invoke_in_thread(model: Any, token: CancelToken, **kwargs: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = model.invoke("hi there you", cancel_token=token, **kwargs)
        except BaseException as exc:
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    outcome["thread"] = thread
    return outcome


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_stop_ends_a_retry_wait_at_once(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(1, retry_after=30)
    token = CancelToken()
    outcome = _invoke_in_thread(chat(openai_server), token)
    _wait_for(lambda: len(openai_server.requests) == 1)
    time.sleep(0.05)  # into the wait
    cancelled_at = time.monotonic()
    token.cancel("Stop")
    outcome["thread"].join(5)
    assert isinstance(outcome["error"], RunCancelled)
    assert outcome["ended"] - cancelled_at < 0.5
    assert len(openai_server.requests) == 1


def test_stop_ends_a_retry_wait_at_once_async(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(1, retry_after=30)

    async def scenario() -> float:
        token = CancelToken()
        task = asyncio.ensure_future(chat(openai_server).ainvoke("hi", cancel_token=token))
        while len(openai_server.requests) < 1:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        cancelled_at = time.monotonic()
        token.cancel("Stop")
        with pytest.raises(RunCancelled):
            await task
        return time.monotonic() - cancelled_at

    assert asyncio.run(scenario()) < 0.5


def test_stop_ends_a_sync_stream_between_slow_tokens() -> None:
    events: list[RunEvent] = []
    with FakeOpenAIServer(stream_delay=3.0) as server:
        token = CancelToken()
        outcome = _invoke_in_thread(
            chat(server), token, config={"callbacks": [events.append]}
        )
        _wait_for(lambda: any(isinstance(e, TokenEvent) for e in events))
        cancelled_at = time.monotonic()
        token.cancel("Stop")
        outcome["thread"].join(5)
    assert isinstance(outcome["error"], RunCancelled)
    assert outcome["ended"] - cancelled_at < 1.0  # not the 3 s until the next token
    assert [e.type for e in events][-1] == "cancel"


def test_stop_ends_an_async_stream_between_slow_tokens() -> None:
    events: list[RunEvent] = []

    async def scenario(server: FakeOpenAIServer) -> float:
        token = CancelToken()
        task = asyncio.ensure_future(
            chat(server).ainvoke("hi there you", {"callbacks": [events.append]}, cancel_token=token)
        )
        while not any(isinstance(e, TokenEvent) for e in events):
            await asyncio.sleep(0.01)
        cancelled_at = time.monotonic()
        token.cancel("Stop")
        with pytest.raises(RunCancelled):
            await task
        return time.monotonic() - cancelled_at

    with FakeOpenAIServer(stream_delay=3.0) as server:
        assert asyncio.run(scenario(server)) < 1.0
    assert [e.type for e in events][-1] == "cancel"
