from __future__ import annotations

from typing import Any

from chainviz import (
    ConfigurableField,
    RunEvent,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from chainviz.core.ids import escape_key, join, split, unescape_key
from tests.core.helpers import FakeModel, FakePrompt, run_mode


def node_ids(chain: Any, input: Any, mode: str) -> list[str]:
    events: list[RunEvent] = []
    run_mode(mode, chain, input, {"callbacks": [events.append]})
    return [e.node_id for e in events if e.type == "start"]


def test_parallel_of_two_chains_sharing_one_model(mode: str) -> None:
    prompt, model = FakePrompt(), FakeModel()
    chain = RunnableParallel(joke=prompt | model, poem=prompt | model)
    ids = node_ids(chain, {"topic": "bear"}, mode)
    assert sorted(ids) == sorted(["", "joke", "joke/0", "joke/1", "poem", "poem/0", "poem/1"])


def test_retrieval_shape(mode: str) -> None:
    retriever = RunnableLambda(lambda q: [q])
    chain = {"context": retriever, "question": RunnablePassthrough()} | FakePrompt(
        "{context} {question}"
    ) | FakeModel() | RunnableLambda(str)
    ids = node_ids(chain, "where?", mode)
    assert sorted(ids) == sorted(["", "0", "0/context", "0/question", "1", "2", "3"])


def test_keys_are_escaped_as_json_pointer(mode: str) -> None:
    chain = RunnableParallel({"a/b": RunnableLambda(str), "c~d": RunnableLambda(str)})
    ids = node_ids(chain, 1, mode)
    assert set(ids) == {"", "a~1b", "c~0d"}
    assert split("x/a~1b") == ["x", "a/b"]


def test_escape_round_trip() -> None:
    for key in ["plain", "a/b", "~", "~1", "/~/", ""]:
        assert unescape_key(escape_key(key)) == key
    assert join("", "a") == "a" and join("a", "b") == "a/b"


def test_wrappers_add_no_level(mode: str) -> None:
    prompt = FakePrompt()
    swappable = prompt.configurable_alternatives(
        ConfigurableField(id="prompt"), other=FakePrompt("other {topic}")
    )
    chain = RunnableParallel(
        joke=swappable.with_retry(stop_after_attempt=2) | FakeModel().bind(stop=["\n"]),
        poem=(prompt | FakeModel()).with_config(tags=["t"]),
    )
    ids = node_ids(chain, {"topic": "bear"}, mode)
    assert sorted(ids) == sorted(["", "joke", "joke/0", "joke/1", "poem", "poem/0", "poem/1"])
    swapped = node_ids(chain.with_config(configurable={"prompt": "other"}), {"topic": "b"}, mode)
    assert sorted(swapped) == sorted(ids)


def test_kinds_are_reported(mode: str) -> None:
    events: list[RunEvent] = []
    chain = FakePrompt() | FakeModel() | RunnableLambda(str)
    run_mode(mode, chain, {"topic": "x"}, {"callbacks": [events.append]})
    kinds = {e.node_id: e.kind for e in events if e.type == "start"}
    assert kinds == {"": "sequence", "0": "prompt", "1": "model", "2": "function"}
