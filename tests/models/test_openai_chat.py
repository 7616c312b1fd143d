"""ChatOpenAI against a local OpenAI-compatible server, through the real openai client."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer
from openai_support import MODES, clear_openai_env, run, stream

from chainviz import RunnableParallel
from chainviz.core.events import RunEvent, StartEvent, TokenEvent
from chainviz.errors import ConfigError, ModelConfigurationError, StepInputError
from chainviz.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from chainviz.models import ChatOpenAI
from chainviz.models.openai_client import NO_KEY_PLACEHOLDER


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_openai_env(monkeypatch)


def chat(server: FakeOpenAIServer, **kwargs: object) -> ChatOpenAI:
    return ChatOpenAI(base_url=server.base_url, api_key="test-key", **kwargs)  # type: ignore[arg-type]


@MODES
def test_invoke_returns_an_ai_message_with_usage_and_metadata(
    openai_server: FakeOpenAIServer, mode: str
) -> None:
    answer = run(mode, chat(openai_server), "tell me a joke")
    assert type(answer) is AIMessage
    assert answer.content == "echo: tell me a joke"
    assert answer.usage_metadata == {"input_tokens": 4, "output_tokens": 5, "total_tokens": 9}
    assert answer.response_metadata == {"model_name": "gpt-4o-mini", "finish_reason": "stop"}
    body = openai_server.last_request.body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "tell me a joke"}]
    # The sync path uses openai.OpenAI, the async path openai.AsyncOpenAI.
    is_async = openai_server.last_request.headers["x-stainless-async"] != "false"
    assert is_async is (mode == "async")


@MODES
def test_plain_requests_when_not_streaming(openai_server: FakeOpenAIServer, mode: str) -> None:
    answer = run(mode, chat(openai_server, streaming=False), "hello")
    assert answer.content == "echo: hello"
    assert answer.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    assert answer.response_metadata["finish_reason"] == "stop"
    assert "stream" not in openai_server.last_request.body


@MODES
def test_stream_yields_the_tokens_then_metadata(openai_server: FakeOpenAIServer, mode: str) -> None:
    chunks = stream(mode, chat(openai_server), "one two three")
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert [c.content for c in chunks if c.content] == ["echo:", " one", " two", " three"]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.content == "echo: one two three"
    assert total.usage_metadata is not None and total.usage_metadata["output_tokens"] == 4


@MODES
def test_tokens_reach_sinks_as_they_arrive(mode: str) -> None:
    events: list[RunEvent] = []
    with FakeOpenAIServer(stream_delay=0.1) as server:
        run(mode, chat(server), "a b c d", config={"callbacks": [events.append]})
    start = next(e for e in events if isinstance(e, StartEvent))
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    end = events[-1]
    assert [t.text for t in tokens] == ["echo:", " a", " b", " c", " d"]
    # Each token was reported when it came, not all at the end: four 0.1 s gaps.
    assert tokens[-1].time_ns - tokens[0].time_ns >= 0.35e9
    assert tokens[0].time_ns - start.time_ns < end.time_ns - tokens[0].time_ns
    assert all(t.node_id == "" and t.kind == "model" for t in tokens)


@MODES
def test_request_carries_settings_bound_arguments_and_stop(
    openai_server: FakeOpenAIServer, mode: str
) -> None:
    model = chat(
        openai_server,
        model="my-local-model",
        temperature=0.2,
        max_tokens=50,
        model_kwargs={"top_k": 5},
    )
    run(mode, model.bind(stop=["\n"], seed=7, top_p=0.5), "hi")
    body = openai_server.last_request.body
    assert body["model"] == "my-local-model"
    assert (body["temperature"], body["max_tokens"], body["stop"]) == (0.2, 50, ["\n"])
    assert (body["seed"], body["top_p"], body["top_k"]) == (7, 0.5, 5)


@MODES
def test_max_tokens_cuts_the_answer(openai_server: FakeOpenAIServer, mode: str) -> None:
    answer = run(mode, chat(openai_server, max_tokens=2), "one two three four")
    assert answer.content == "echo: one"
    assert answer.response_metadata["finish_reason"] == "length"


def test_messages_keep_their_roles(openai_server: FakeOpenAIServer) -> None:
    chat(openai_server).invoke(
        [SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello"), ("human", "bye")]
    )
    assert openai_server.last_request.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]


def test_unknown_bound_argument_is_a_config_error(openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(ConfigError, match=r"'tools'.*model_kwargs"):
        chat(openai_server).bind(tools=[]).invoke("hi")
    assert openai_server.requests == []


def test_bad_input_names_the_step(openai_server: FakeOpenAIServer) -> None:
    with pytest.raises(StepInputError, match=r"Step 'joke' \(ChatOpenAI\).*prompt"):
        RunnableParallel(joke=chat(openai_server)).invoke({"topic": "bears"})


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"model": ""}, "model name"),
        ({"temperature": -1}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"api_key": 123}, "api_key"),
        ({"base_url": 5}, "base_url"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        ChatOpenAI(**kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------- keys and URLs


def test_construction_builds_no_client_and_needs_no_key() -> None:
    model = ChatOpenAI()
    assert model._clients.sync == {} and len(model._clients.by_loop) == 0
    assert model.model == model.model_name == "gpt-4o-mini"


def test_import_loads_no_openai() -> None:
    code = "import sys, chainviz.models; print('openai' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@MODES
def test_a_base_url_alone_works_without_a_key(openai_server: FakeOpenAIServer, mode: str) -> None:
    answer = run(mode, ChatOpenAI(base_url=openai_server.base_url), "hi")
    assert answer.content == "echo: hi"
    assert openai_server.last_request.api_key == NO_KEY_PLACEHOLDER


@MODES
def test_environment_variables_are_read_at_call_time(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    model = ChatOpenAI()  # built before the environment is set, as in a notebook
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    assert run(mode, model, "hi").content == "echo: hi"
    assert openai_server.last_request.api_key == "env-key"
    run(mode, model.with_replaced(api_key="explicit-key"), "hi")
    assert openai_server.last_request.api_key == "explicit-key"


@MODES
def test_neither_key_nor_url_says_how_to_fix_it(mode: str) -> None:
    chain = RunnableParallel(joke=ChatOpenAI())
    with pytest.raises(ModelConfigurationError) as info:
        run(mode, chain, "hi")
    message = str(info.value)
    assert message.startswith("Step 'joke' (ChatOpenAI) has no API key and no base_url")
    for hint in ("OPENAI_API_KEY", "api_key=", "base_url=", "OPENAI_BASE_URL", "Ollama"):
        assert hint in message
    assert "chainviz.models.SimulatedChatModel()" in message


def test_clients_are_reused_per_configuration(openai_server: FakeOpenAIServer) -> None:
    model = chat(openai_server)
    model.invoke("a")
    model.invoke("b")
    assert len(model._clients.sync) == 1
    slower = model.with_replaced(timeout=30.0)
    slower.invoke("c")
    assert len(model._clients.sync) == 2  # copies share the cache, keyed by settings


def test_repr_shows_settings_and_a_clean_url() -> None:
    model = ChatOpenAI(
        "llama3", temperature=0, base_url="http://user:pw@localhost:8080/v1?api-key=x"
    )
    assert repr(model) == (
        "ChatOpenAI(model_name='llama3', temperature=0, max_tokens=None, timeout=None, "
        "max_retries=2, base_url='http://localhost:8080/v1')"
    )


def test_async_clients_close_with_their_event_loop(openai_server: FakeOpenAIServer) -> None:
    model = chat(openai_server)

    async def call() -> Any:
        await model.ainvoke("hi")
        await model.ainvoke("again")  # the same loop reuses its client
        (clients,) = model._clients.by_loop.values()
        ((client, _),) = clients.values()
        return client

    first = asyncio.run(call())
    assert first.is_closed()  # closed on its loop as asyncio.run shut down
    assert len(model._clients.by_loop) == 0  # and forgotten: no finished loop is kept
    second = asyncio.run(call())
    assert second is not first and second.is_closed()
