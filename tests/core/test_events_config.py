from __future__ import annotations

import warnings
from types import MappingProxyType
from typing import Any

import pytest

import chainviz.core.events as events_module
import chainviz.core.run as run_module
from chainviz import RunEvent, RunnableLambda, RunnableParallel
from chainviz.errors import ConfigError
from tests.core.helpers import FakeModel, FakePrompt, run_mode


def test_events_are_frozen_and_complete(mode: str) -> None:
    events: list[RunEvent] = []
    chain = FakePrompt() | FakeModel()
    output = run_mode(mode, chain, {"topic": "bear"}, {"callbacks": [events.append]})
    assert [e.type for e in events] == [
        "start", "start", "end", "start", "token", "token", "end", "end"
    ]
    assert [e.time_ns for e in events] == sorted(e.time_ns for e in events)
    root = events[0]
    assert root.parent_run_id is None and root.node_id == "" and root.input == {"topic": "bear"}
    assert events[-1].output == output
    assert {e.parent_run_id for e in events[1:-1] if e.type == "start"} == {root.run_id}
    with pytest.raises(AttributeError):
        events[0].node_id = "x"  # type: ignore[misc]
    assert len({e.trace_id for e in events}) == 1 and events[0].trace_id > 0
    tokens = [e.text for e in events if e.type == "token"]
    assert tokens == ["about", "bear"]


def test_error_event_carries_the_exception(mode: str) -> None:
    events: list[RunEvent] = []

    def boom(_: Any) -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        run_mode(mode, RunnableLambda(str) | boom, 1, {"callbacks": [events.append]})
    errors = [e for e in events if e.type == "error"]
    assert [e.node_id for e in errors] == ["1", ""]
    assert all(isinstance(e.error, ValueError) for e in errors)


def test_no_event_is_built_without_a_sink(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    built = 0
    original = events_module.clock

    def counting_clock() -> int:
        nonlocal built
        built += 1
        return original()

    monkeypatch.setattr(events_module, "clock", counting_clock)
    init_calls = 0
    real_new = run_module._new

    def counting_new(event_type: Any, fields: Any) -> Any:
        nonlocal init_calls
        init_calls += 1
        return real_new(event_type, fields)

    def counting(event_type: Any) -> Any:
        def make(*args: Any) -> Any:
            nonlocal init_calls
            init_calls += 1
            return event_type(*args)

        return make

    monkeypatch.setattr(run_module, "_new", counting_new)
    for name in ("ErrorEvent", "CancelEvent", "TokenEvent"):
        monkeypatch.setattr(events_module, name, counting(getattr(events_module, name)))
    chain = RunnableParallel(a=FakePrompt() | FakeModel(), b=FakePrompt()) | RunnableLambda(str)
    run_mode(mode, chain, {"topic": "x"})
    assert built == 0 and init_calls == 0
    run_mode(mode, chain, {"topic": "x"}, {"callbacks": [lambda e: None]})
    assert built > 0 and init_calls > 0


def test_unknown_config_key_lists_the_known_ones(mode: str) -> None:
    with pytest.raises(ConfigError) as info:
        run_mode(mode, RunnableLambda(str), 1, {"callback": []})
    message = str(info.value)
    assert "'callback'" in message
    for key in ("callbacks", "max_concurrency", "tags", "metadata", "run_name", "configurable"):
        assert key in message


@pytest.mark.parametrize(
    "config",
    [
        {"max_concurrency": 0},
        {"max_concurrency": True},
        {"callbacks": print},
        {"tags": "x"},
        {"metadata": []},
        {"configurable": "model=b"},
        [1],
    ],
)
def test_bad_config_values(config: Any) -> None:
    with pytest.raises(ConfigError):
        RunnableLambda(str).invoke(1, config)


def test_any_mapping_is_a_config_and_none_values_mean_unset() -> None:
    seen: list[RunEvent] = []
    config = MappingProxyType({"callbacks": [seen.append], "max_concurrency": None, "tags": None})
    assert RunnableLambda(str).invoke(1, config) == "1"  # type: ignore[arg-type]
    assert [e.type for e in seen] == ["start", "end"]


def test_a_raising_sink_is_detached_with_one_warning(mode: str) -> None:
    seen: list[RunEvent] = []
    calls = 0

    def flaky(event: RunEvent) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("sink broke")

    chain = RunnableLambda(lambda x: x + 1) | RunnableLambda(lambda x: x * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run_mode(mode, chain, 1, {"callbacks": [flaky, seen.append]}) == 4
    assert calls == 1
    assert len([w for w in caught if "detached" in str(w.message)]) == 1
    assert len(seen) == 6


def test_object_sinks_and_inherited_callbacks(mode: str) -> None:
    class Collector:
        def __init__(self) -> None:
            self.events: list[RunEvent] = []

        def on_event(self, event: RunEvent) -> None:
            self.events.append(event)

    outer, inner = Collector(), Collector()
    chain = RunnableLambda(str) | RunnableLambda(len).with_config(callbacks=[inner])
    run_mode(mode, chain, 12345, {"callbacks": [outer]})
    assert {e.node_id for e in outer.events} == {"", "0", "1"}
    assert {e.node_id for e in inner.events} == {"1"}


def test_config_reaches_functions(mode: str) -> None:
    seen: dict[str, Any] = {}

    def look(x: Any, config: Any) -> Any:
        seen.update(config)
        return x

    chain = RunnableLambda(look).with_config(tags=["inner"], metadata={"k": 1})
    run_mode(mode, chain, 1, {"tags": ["outer"], "configurable": {"a": 2}})
    assert seen["tags"] == ["outer", "inner"]
    assert seen["metadata"] == {"k": 1} and seen["configurable"] == {"a": 2}


def test_streamed_steps_know_their_parent_run() -> None:
    events: list[RunEvent] = []
    chain = FakePrompt() | FakeModel() | RunnableLambda(str)
    list(chain.stream({"topic": "bear"}, {"callbacks": [events.append]}))
    starts = {e.node_id: e for e in events if e.type == "start"}
    root = starts[""]
    assert {starts[n].parent_run_id for n in ("0", "1", "2")} == {root.run_id}


def test_retries_of_the_root_share_one_trace_id(mode: str) -> None:
    events: list[RunEvent] = []
    attempts = 0

    def flaky(x: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("again")
        return x

    chain = RunnableLambda(flaky).with_retry(wait_exponential_jitter=False)
    run_mode(mode, chain, 1, {"callbacks": [events.append]})
    roots = [e for e in events if e.type == "start" and e.parent_run_id is None]
    assert len(roots) == 2 and len({e.trace_id for e in events}) == 1
