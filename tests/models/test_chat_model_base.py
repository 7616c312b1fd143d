"""BaseChatModel: what every chat model gets from the base, tested with tiny subclasses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chainviz import RunnableParallel
from chainviz.core.run import Step
from chainviz.errors import ConfigError, StepInputError
from chainviz.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    StringPromptValue,
    SystemMessage,
    UsageMetadata,
)
from chainviz.models import BaseChatModel
from chainviz.prompts import ChatPromptTemplate

Run = Callable[..., Any]
Stream = Callable[..., list[Any]]

PIECES = ["Why", " don't", " bears", " wear", " shoes", "?"]
USAGE = UsageMetadata(input_tokens=7, output_tokens=6, total_tokens=13)


def _chunks(messages: list[BaseMessage]) -> list[AIMessageChunk]:
    return [
        *(AIMessageChunk(p, id="m-1") for p in PIECES),
        AIMessageChunk("", response_metadata={"finish_reason": "stop"}, usage_metadata=USAGE),
    ]


class SyncModel(BaseChatModel):
    """Streams fixed pieces; records what it was given."""

    model_name = "sync-fake"

    def __init__(self) -> None:
        self.seen: list[tuple[list[BaseMessage], list[str] | None, dict[str, Any]]] = []

    def _generate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        self.seen.append((messages, stop, kwargs))
        for chunk in _chunks(messages):
            step.sleep(0.0)
            yield chunk


class AsyncModel(BaseChatModel):
    """Only an async stream: sync runs go through the private loop thread."""

    def _agenerate_stream(
        self, messages: list[BaseMessage], step: Step, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        async def produce() -> AsyncIterator[AIMessageChunk]:
            for chunk in _chunks(messages):
                await step.asleep(0.0)
                yield chunk

        return produce()


@pytest.mark.parametrize("cls", [SyncModel, AsyncModel])
def test_invoke_adds_the_chunks_into_one_message(run: Run, cls: type[BaseChatModel]) -> None:
    message = run(cls(), "tell me a joke")
    assert type(message) is AIMessage
    assert message.content == "Why don't bears wear shoes?"
    assert message.usage_metadata == USAGE
    assert message.response_metadata == {"finish_reason": "stop"}
    assert message.id == "m-1"


@pytest.mark.parametrize("cls", [SyncModel, AsyncModel])
def test_stream_yields_each_chunk(stream: Stream, cls: type[BaseChatModel]) -> None:
    chunks = stream(cls(), "tell me a joke")
    assert [c.content for c in chunks] == [*PIECES, ""]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert chunks[-1].usage_metadata == USAGE


@pytest.mark.parametrize("cls", [SyncModel, AsyncModel])
def test_every_token_is_an_event_under_invoke(run: Run, cls: type[BaseChatModel]) -> None:
    events: list[Any] = []
    chain = ChatPromptTemplate.from_template("joke about {topic}") | cls()
    run(chain, "bears", config={"callbacks": [events.append]})
    tokens = [e for e in events if e.type == "token"]
    assert [t.text for t in tokens] == PIECES
    assert {t.node_id for t in tokens} == {"1"}
    assert all(isinstance(t.chunk, AIMessageChunk) for t in tokens)
    assert [e.type for e in events if e.node_id == "1"] == ["start", *["token"] * 6, "end"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("hi", [HumanMessage("hi")]),
        (StringPromptValue("hi"), [HumanMessage("hi")]),
        (HumanMessage("hi"), [HumanMessage("hi")]),
        ([("system", "be"), ("human", "hi")], [SystemMessage("be"), HumanMessage("hi")]),
        ([{"role": "user", "content": "hi"}], [HumanMessage("hi")]),
    ],
)
def test_input_becomes_messages(given: Any, expected: list[BaseMessage]) -> None:
    model = SyncModel()
    model.invoke(given)
    assert model.seen[0][0] == expected


def test_a_dict_input_says_to_put_a_prompt_first(run: Run) -> None:
    with pytest.raises(StepInputError) as caught:
        run(RunnableParallel(joke=SyncModel()), {"topic": "bears"})
    message = str(caught.value)
    assert message.startswith(
        "Step 'joke' (SyncModel) expects a prompt value, a string or a list of messages, "
        "but got a dict"
    )
    assert "put a prompt before the model (prompt | model)" in message


def test_a_bad_message_list_is_explained(run: Run) -> None:
    with pytest.raises(StepInputError, match="SyncModel got a list it cannot read as messages"):
        run(SyncModel(), [("robot", "hi")])


def test_stop_is_passed_on_and_applied(run: Run) -> None:
    model = SyncModel()
    message = run(model.bind(stop=[" wear"], temperature=0), "hi")
    assert message.content == "Why don't bears"
    assert message.usage_metadata == USAGE  # the stream was read to its end for its metadata
    assert model.seen[0][1:] == ([" wear"], {"temperature": 0})


def test_a_stop_sequence_split_across_chunks_is_found(stream: Stream) -> None:
    chunks = stream(SyncModel(), "hi", stop="n't bea")
    assert "".join(c.content for c in chunks) == "Why do"
    assert chunks[-1].usage_metadata == USAGE


def test_text_held_back_for_a_stop_sequence_is_released(run: Run) -> None:
    assert run(SyncModel().bind(stop="?!"), "hi").content == "Why don't bears wear shoes?"


def test_a_bad_stop_value_is_a_config_error(run: Run) -> None:
    with pytest.raises(ConfigError, match="stop must be a non-empty string or a list of them"):
        run(SyncModel().bind(stop=[3]), "hi")


def test_a_subclass_without_a_stream_says_so() -> None:
    class Empty(BaseChatModel):
        pass

    with pytest.raises(NotImplementedError, match="implements neither _generate_stream"):
        Empty().invoke("hi")


def test_repr_shows_only_listed_fields() -> None:
    model = SyncModel()
    model.api_key = "sk-secret"  # type: ignore[attr-defined]
    assert repr(model) == "SyncModel(model_name='sync-fake')"
    assert model.kind == "model" and model.uses_slot
