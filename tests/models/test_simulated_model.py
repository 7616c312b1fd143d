"""SimulatedChatModel: determinism, timing, token events, usage, cancellation."""

from __future__ import annotations

import asyncio
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chainviz import CancelToken, ConfigurableField, RunnableParallel
from chainviz.core.run import Step
from chainviz.errors import ConfigError, RunCancelled
from chainviz.messages import AIMessage, AIMessageChunk
from chainviz.models import BaseChatModel, SimulatedChatModel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate

Run = Callable[..., Any]
Stream = Callable[..., list[Any]]

JOKE = "tell me a joke about {topic}"
POEM = "write a 2-line poem about {topic}"


def instant(seed: int = 0, **kwargs: Any) -> SimulatedChatModel:
    return SimulatedChatModel(seed=seed, latency_scale=0, **kwargs)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Every wait a model asks for, recorded instead of slept (no wall clock involved)."""
    asked: list[float] = []

    def sleep(self: Step, seconds: float) -> None:
        asked.append(seconds)

    async def asleep(self: Step, seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(Step, "sleep", sleep)
    monkeypatch.setattr(Step, "asleep", asleep)
    yield asked


def test_it_is_a_chat_model_with_a_clean_repr() -> None:
    model = SimulatedChatModel()
    assert isinstance(model, BaseChatModel)
    assert model.kind == "model" and model.uses_slot
    assert repr(model) == (
        "SimulatedChatModel(model_name='simulated-chat', seed=0, latency_scale=1.0)"
    )


# --------------------------------------------------------------------- determinism

PROMPTS = [JOKE.format(topic="bear"), POEM.format(topic="bear"), "tell me about owls"]


def replies(model: SimulatedChatModel) -> list[str]:
    return [model.invoke(p).content for _ in range(3) for p in PROMPTS]


def test_same_seed_same_texts_and_different_seed_different_texts() -> None:
    assert replies(instant(seed=0)) == replies(instant(seed=0))
    assert replies(instant(seed=0)) != replies(instant(seed=1))


def test_texts_depend_on_the_call_count_per_prompt() -> None:
    model = instant()
    first = [model.invoke(JOKE.format(topic="cats")) for _ in range(6)]
    assert [m.response_metadata["call"] for m in first] == list(range(6))
    assert len({m.content for m in first}) > 1  # repeated calls vary, as sampling does
    model.reset()
    assert [model.invoke(JOKE.format(topic="cats")).content for _ in range(6)] == [
        m.content for m in first
    ]


def test_parallel_branches_do_not_disturb_each_others_counts() -> None:
    def branches(model: SimulatedChatModel) -> dict[str, Any]:
        chain = RunnableParallel(
            joke=ChatPromptTemplate.from_template(JOKE) | model,
            poem=ChatPromptTemplate.from_template(POEM) | model,
        )
        return {k: v.content for k, v in chain.invoke({"topic": "bear"}).items()}

    reference = instant()
    expected = {
        "joke": reference.invoke(JOKE.format(topic="bear")).content,
        "poem": reference.invoke(POEM.format(topic="bear")).content,
    }
    for _ in range(5):
        assert branches(instant()) == expected


def test_call_counts_are_thread_safe() -> None:
    model = instant()
    calls: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        message = model.invoke("tell me a joke about threads")
        with lock:
            calls.append(message.response_metadata["call"])

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == list(range(16))


def test_jitter_is_seeded(waits: list[float]) -> None:
    def planned(seed: int) -> list[float]:
        waits.clear()
        SimulatedChatModel(seed=seed).invoke(JOKE.format(topic="bear"))
        return list(waits)

    assert planned(0) == planned(0)
    assert planned(0) != planned(1)


# --------------------------------------------------------------------------- timing


def test_timing_is_like_a_hosted_model(waits: list[float]) -> None:
    message = SimulatedChatModel().invoke(JOKE.format(topic="bear"))
    assert message.usage_metadata is not None
    tokens = message.usage_metadata["output_tokens"]
    assert len([w for w in waits if w > 0]) == tokens  # one wait before each token
    assert 0.2 < waits[0] < 1.5  # time to first token
    assert 0.4 < sum(waits) < 3.0  # a short answer takes around a second
    assert max(waits[1:]) < waits[0]


def test_latency_scale_multiplies_every_wait(waits: list[float]) -> None:
    SimulatedChatModel(latency_scale=1).invoke("hello")
    full = list(waits)
    waits.clear()
    SimulatedChatModel(latency_scale=0.1).invoke("hello")
    assert waits == pytest.approx([w * 0.1 for w in full])


def test_latency_scale_zero_never_waits(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_wait(*args: Any) -> bool:
        raise AssertionError("a model with latency_scale=0 waited")

    monkeypatch.setattr(CancelToken, "wait", no_wait)
    monkeypatch.setattr(CancelToken, "async_wait", no_wait)
    assert run(instant(), JOKE.format(topic="bear")).content


def test_latency_scale_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINVIZ_LATENCY_SCALE", "0.1")
    assert SimulatedChatModel().latency_scale == 0.1
    assert SimulatedChatModel(latency_scale=2).latency_scale == 2
    monkeypatch.setenv("CHAINVIZ_LATENCY_SCALE", "fast")
    with pytest.raises(ConfigError, match="CHAINVIZ_LATENCY_SCALE='fast' is not a number"):
        SimulatedChatModel()


def test_branches_overlap_in_time(run: Run) -> None:
    events: list[Any] = []
    model = SimulatedChatModel(latency_scale=0.05)
    chain = RunnableParallel(
        joke=ChatPromptTemplate.from_template(JOKE) | model,
        poem=ChatPromptTemplate.from_template(POEM) | model,
    )
    run(chain, {"topic": "bear"}, config={"callbacks": [events.append]})
    starts = {e.node_id: e.time_ns for e in events if e.kind == "model" and e.type == "start"}
    ends = {e.node_id: e.time_ns for e in events if e.kind == "model" and e.type == "end"}
    assert starts["joke/1"] < ends["poem/1"] and starts["poem/1"] < ends["joke/1"]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"latency_scale": -1}, "latency_scale must be a number of at least 0"),
        ({"tokens_per_second": 0}, "tokens_per_second must be a number above 0"),
        ({"jitter": "lots"}, "jitter must be a number of at least 0"),
        ({"seed": "x"}, "seed must be an int"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        SimulatedChatModel(**kwargs)
    with pytest.raises(ConfigError, match=problem):
        SimulatedChatModel().with_replaced(**kwargs)


def test_settings_are_configurable_at_run_time(run: Run, waits: list[float]) -> None:
    model = SimulatedChatModel().configurable_fields(
        latency_scale=ConfigurableField(id="latency_scale")
    )
    run(model, "hello", config={"configurable": {"latency_scale": 0}})
    assert not any(waits)
    run(model, "hello")
    assert any(waits)


# ------------------------------------------------------------- tokens and usage


def test_token_events_under_invoke_and_stream(run: Run, stream: Stream) -> None:
    for go in (run, stream):
        events: list[Any] = []
        chain = ChatPromptTemplate.from_template(JOKE) | instant()
        go(chain, {"topic": "bear"}, config={"callbacks": [events.append]})
        tokens = [e for e in events if e.type == "token"]
        end = next(e for e in events if e.type == "end" and e.node_id == "1")
        assert tokens and {t.node_id for t in tokens} == {"1"}
        assert "".join(t.text for t in tokens) == end.output.content
        assert len(tokens) == end.output.usage_metadata["output_tokens"]


def test_usage_metadata(run: Run) -> None:
    message = run(instant(), [("system", "You are funny."), ("human", "tell me a joke about cats")])
    usage = message.usage_metadata
    assert usage["input_tokens"] >= 2 * 4 + 6  # two messages, six words
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert message.response_metadata["model_name"] == "simulated-chat"
    assert message.response_metadata["finish_reason"] == "stop"


def test_stream_ends_with_a_usage_chunk_and_adds_up_to_invoke(stream: Stream) -> None:
    chunks = stream(instant(), "write a poem about the sea")
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(chunks) > 5 and chunks[-1].content == ""
    assert chunks[-1].usage_metadata is not None
    total = sum(chunks[1:], chunks[0]).to_message()
    assert total == instant().invoke("write a poem about the sea")


def test_strings_stream_through_a_parser(stream: Stream) -> None:
    chain = ChatPromptTemplate.from_template(POEM) | instant() | StrOutputParser()
    pieces = stream(chain, "bear")
    assert len(pieces) > 5
    assert "".join(pieces) == (ChatPromptTemplate.from_template(POEM) | instant()).invoke(
        "bear"
    ).content


def test_max_tokens_and_stop(run: Run) -> None:
    cut = run(instant().bind(max_tokens=3), JOKE.format(topic="bear"))
    assert cut.usage_metadata["output_tokens"] == 3
    assert cut.response_metadata["finish_reason"] == "length"
    full = instant().invoke(JOKE.format(topic="bear")).content
    stopped = run(instant().bind(stop=["\n"]), JOKE.format(topic="bear"))
    assert stopped.content == full.split("\n")[0]
    assert stopped.usage_metadata["output_tokens"] < instant().invoke(
        JOKE.format(topic="bear")
    ).usage_metadata["output_tokens"]


def test_unknown_bound_arguments_are_refused(run: Run) -> None:
    with pytest.raises(ConfigError, match="does not take 'top_k'"):
        run(instant().bind(top_k=3), "hi")


def test_it_stands_in_for_chat_openai_arguments() -> None:
    model = SimulatedChatModel(model="gpt-4o-mini", temperature=0.2, latency_scale=0)
    assert model.invoke("hi").response_metadata["model_name"] == "gpt-4o-mini"


def test_it_pickles() -> None:
    model = instant(seed=3)
    model.invoke("hi")
    copy = pickle.loads(pickle.dumps(model))
    assert copy.invoke("tell me a joke about bears") == model.invoke("tell me a joke about bears")


# -------------------------------------------------------------------- cancellation


def _run_in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def body() -> None:
        try:
            outcome["value"] = target()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
def test_stop_ends_a_slow_call_at_once(mode: str) -> None:
    model = SimulatedChatModel(time_to_first_token=60, jitter=0, latency_scale=1)
    chain = ChatPromptTemplate.from_template(JOKE) | model
    token = CancelToken()
    started = threading.Event()
    events: list[Any] = []

    def sink(event: Any) -> None:
        events.append(event)
        if event.type == "start" and event.kind == "model":
            started.set()

    config = {"callbacks": [sink]}
    calls: dict[str, Callable[[], Any]] = {
        "invoke": lambda: chain.invoke("bear", config, cancel_token=token),
        "ainvoke": lambda: asyncio.run(chain.ainvoke("bear", config, cancel_token=token)),
        "stream": lambda: list(chain.stream("bear", config, cancel_token=token)),
    }
    thread, outcome = _run_in_thread(calls[mode])
    assert started.wait(10), "the model never started"
    cancelled_at = time.monotonic()
    token.cancel("Stop was pressed")
    thread.join(20)
    assert not thread.is_alive(), "the model did not stop"
    assert time.monotonic() - cancelled_at < 10  # a generous bound; the wait was 60 s
    assert isinstance(outcome.get("error"), RunCancelled)
    assert [e.type for e in events if e.node_id == "1"] == ["start", "cancel"]


def test_stop_between_tokens_ends_the_stream() -> None:
    model = SimulatedChatModel(time_to_first_token=0, tokens_per_second=0.05, jitter=0)
    token = CancelToken()
    stream = model.stream("tell me a joke about bears", cancel_token=token)
    first = next(stream)
    assert first.content
    threading.Timer(0.05, token.cancel).start()
    with pytest.raises(RunCancelled):
        next(stream)


def test_invoke_returns_an_ai_message(run: Run) -> None:
    assert type(run(instant(), "hello")) is AIMessage


def test_stop_never_fails_in_the_thread_that_presses_it() -> None:
    # Regression: cancelling while an async run was closing its loop raised
    # "Event loop is closed" in the cancelling thread (about 1 time in 15 here).
    for _ in range(200):
        model = SimulatedChatModel(time_to_first_token=30, jitter=0)
        token = CancelToken()
        started = threading.Event()

        def sink(event: Any, started: threading.Event = started) -> None:
            if event.type == "start":
                started.set()

        thread, outcome = _run_in_thread(
            lambda m=model, t=token, s=sink: asyncio.run(  # type: ignore[misc]
                m.ainvoke("hi", {"callbacks": [s]}, cancel_token=t)
            )
        )
        assert started.wait(10)
        token.cancel("Stop was pressed")  # must not raise
        thread.join(10)
        assert isinstance(outcome.get("error"), RunCancelled)
