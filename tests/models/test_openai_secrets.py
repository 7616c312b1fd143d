"""The API key appears nowhere a person or an export could see it.

Checked for a key given in code and a key from the environment, with a server
that echoes the key back in its 401 body: repr, exceptions (str, args, notes,
body, request headers, response text, the whole cause chain), events captured by
a sink, pickles, and — when those layers exist — traces, their exports and graphs.
"""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import openai
import pytest
from fakes.openai_server import FakeOpenAIServer
from openai_support import MODES, SENTINEL, clear_openai_env, run

from chainviz import RunnableParallel
from chainviz.core.events import ErrorEvent, RunEvent
from chainviz.errors import PicklingError
from chainviz.models import ChatOpenAI
from chainviz.models.openai_client import Secret


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_openai_env(monkeypatch)


def exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception (and its chain) shows or carries as text."""
    texts: list[str] = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += list(getattr(current, "__notes__", []))
        for attr in ("message", "body"):
            texts.append(repr(getattr(current, attr, None)))
        for http in (getattr(current, "request", None), getattr(current, "response", None)):
            if http is not None:
                texts.append(repr(dict(http.headers)))
        response = getattr(current, "response", None)
        if response is not None:
            texts += [response.text, repr(response.content), repr(dict(response.request.headers))]
        pending += [current.__cause__, current.__context__]
    return texts


def assert_hidden(texts: list[str]) -> None:
    for text in texts:
        assert SENTINEL not in text, text


@pytest.fixture(params=["explicit", "environment"])
def keyed_model(
    request: pytest.FixtureRequest,
    openai_server: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> ChatOpenAI:
    if request.param == "environment":
        monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
        return ChatOpenAI(base_url=openai_server.base_url, max_retries=0)
    return ChatOpenAI(base_url=openai_server.base_url, api_key=SENTINEL, max_retries=0)


def test_the_server_really_receives_and_echoes_the_key(
    openai_server: FakeOpenAIServer, keyed_model: ChatOpenAI
) -> None:
    keyed_model.invoke("hi")
    assert openai_server.last_request.api_key == SENTINEL  # the key is used...
    openai_server.unauthorized(1)
    raw = openai.OpenAI(base_url=openai_server.base_url, api_key=SENTINEL, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        raw.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert SENTINEL in str(info.value)  # ...and the bare client would leak it


@MODES
def test_a_401_error_and_its_events_do_not_show_the_key(
    openai_server: FakeOpenAIServer, keyed_model: ChatOpenAI, mode: str
) -> None:
    openai_server.unauthorized()
    events: list[RunEvent] = []
    chain = RunnableParallel(joke=keyed_model)
    with pytest.raises(openai.AuthenticationError) as info:
        run(mode, chain, "hi", config={"callbacks": [events.append]})
    assert "[redacted API key]" in str(info.value)
    assert_hidden(exception_texts(info.value))
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors and all(e.error is not None for e in errors)
    assert_hidden([repr(e) for e in events])
    for event in errors:
        assert event.error is not None
        assert_hidden(exception_texts(event.error))


def test_repr_vars_and_pickles_do_not_show_the_key(
    openai_server: FakeOpenAIServer, keyed_model: ChatOpenAI
) -> None:
    keyed_model.invoke("hi")  # clients exist now
    assert_hidden([repr(keyed_model), str(keyed_model), repr(vars(keyed_model))])
    state = pickle.dumps(keyed_model)
    assert SENTINEL.encode() not in state
    clone = pickle.loads(state)
    assert_hidden([repr(vars(clone))])


def test_an_unpickled_copy_uses_its_own_environment(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = ChatOpenAI(api_key=SENTINEL)  # no URL: only the key makes it usable
    clone = pickle.loads(pickle.dumps(model))
    with pytest.raises(Exception, match="This copy was unpickled") as info:
        clone.invoke("hi")
    assert "OPENAI_API_KEY" in str(info.value)
    monkeypatch.setenv("OPENAI_API_KEY", "worker-key")
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    assert clone.invoke("hi").content == "echo: hi"
    assert openai_server.last_request.api_key == "worker-key"


def test_copies_keep_the_key(openai_server: FakeOpenAIServer) -> None:
    model = ChatOpenAI(base_url=openai_server.base_url, api_key=SENTINEL)
    for clone in (copy.copy(model), copy.deepcopy(model), model.with_replaced(temperature=0.5)):
        clone.invoke("hi")
        assert openai_server.last_request.api_key == SENTINEL


def test_a_secret_refuses_to_be_pickled_or_shown() -> None:
    secret = Secret(SENTINEL)
    assert_hidden([repr(secret), str(secret), f"{secret}"])
    with pytest.raises(PicklingError):
        pickle.dumps(secret)
    assert secret.get_secret_value() == SENTINEL


def test_async_clients_hold_the_key_only_inside(openai_server: FakeOpenAIServer) -> None:
    model = ChatOpenAI(base_url=openai_server.base_url, api_key=SENTINEL)
    asyncio.run(model.ainvoke("hi"))
    assert_hidden([repr(model._clients), repr(vars(model))])


def test_traces_and_their_exports_do_not_show_the_key(
    openai_server: FakeOpenAIServer, keyed_model: ChatOpenAI
) -> None:
    trace_module = pytest.importorskip("chainviz.trace")
    recorder = trace_module.Recorder()
    openai_server.unauthorized()
    with pytest.raises(openai.AuthenticationError):
        RunnableParallel(joke=keyed_model).invoke("hi", config={"callbacks": [recorder]})
    trace = recorder.last
    exports: list[Any] = [repr(trace), trace.to_dict(), trace.to_text()]
    for name in ("to_chrome_trace", "to_otlp_json", "to_svg"):
        if hasattr(trace, name):
            exports.append(getattr(trace, name)())
    assert_hidden([repr(e) for e in exports])


def test_graphs_do_not_show_the_key(keyed_model: ChatOpenAI) -> None:
    pytest.importorskip("chainviz.graph")
    graph = RunnableParallel(joke=keyed_model).get_graph()
    texts = [repr(graph), graph.to_dot(), graph.draw_mermaid()]
    if hasattr(graph, "draw_ascii"):
        texts.append(graph.draw_ascii())
    assert_hidden(texts)


def test_widget_state_does_not_show_the_key(
    openai_server: FakeOpenAIServer, keyed_model: ChatOpenAI
) -> None:
    state_module = pytest.importorskip("chainviz.widgets.state")
    events: list[RunEvent] = []
    openai_server.unauthorized()
    with pytest.raises(openai.AuthenticationError):
        RunnableParallel(joke=keyed_model).invoke("hi", config={"callbacks": [events.append]})
    state = state_module.LiveState()
    state.apply_all(events)
    snapshot = state.snapshot(events[-1].time_ns)
    assert "error" in repr(snapshot)
    assert_hidden([repr(snapshot)])
