"""Messages, chunks that add up, documents and prompt values."""

from __future__ import annotations

import dataclasses
import functools
import operator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainviz.messages import (
    AIMessage,
    AIMessageChunk,
    ChatPromptValue,
    Document,
    HumanMessage,
    StringPromptValue,
    SystemMessage,
    UsageMetadata,
    add_usage,
    get_buffer_string,
    merge_chunks,
    message_from,
)


def usage(i: int, o: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=i, output_tokens=o, total_tokens=i + o)


def test_messages_have_langchains_fields() -> None:
    message = AIMessage("hi", usage_metadata=usage(3, 1))
    assert message.content == "hi"
    assert message.additional_kwargs == {}
    assert message.response_metadata == {}
    assert message.usage_metadata == {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    assert message.type == "ai"
    assert HumanMessage(content="q").type == "human"
    assert SystemMessage("s").type == "system"
    assert message.text == "hi"


def test_repr_shows_content_and_set_fields_only() -> None:
    text = repr(AIMessage("Why?", id="x"))
    assert text == "AIMessage(content='Why?', additional_kwargs={}, response_metadata={}, id='x')"


def test_messages_are_frozen_and_compare_by_value() -> None:
    message = HumanMessage("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.content = "b"  # type: ignore[misc]
    assert message == HumanMessage("a")
    assert message != AIMessage("a")


def test_content_must_be_text() -> None:
    with pytest.raises(TypeError, match="content must be a str"):
        HumanMessage(42)  # type: ignore[arg-type]


def test_chunks_add_up() -> None:
    first = AIMessageChunk(
        "Why don't", id="run-1", additional_kwargs={"tool": {"args": '{"a"'}},
        response_metadata={"model_name": "m"},
    )
    second = AIMessageChunk(
        " bears", additional_kwargs={"tool": {"args": ": 1}"}}, usage_metadata=usage(5, 2),
    )
    third = AIMessageChunk(
        "?", response_metadata={"finish_reason": "stop"}, usage_metadata=usage(0, 1), id="run-2"
    )
    total = first + second + third
    assert isinstance(total, AIMessageChunk)
    assert total.content == "Why don't bears?"
    assert total.additional_kwargs == {"tool": {"args": '{"a": 1}'}}
    assert total.response_metadata == {"model_name": "m", "finish_reason": "stop"}
    assert total.usage_metadata == usage(5, 3)
    assert total.id == "run-1"
    message = total.to_message()
    assert type(message) is AIMessage
    assert message.content == total.content and message.usage_metadata == total.usage_metadata


def test_a_chunk_adds_only_to_chunks() -> None:
    with pytest.raises(TypeError):
        AIMessageChunk("a") + "b"  # type: ignore[operator]


@given(st.lists(st.text(max_size=5), min_size=1, max_size=20), st.data())
def test_merge_equals_pairwise_addition(pieces: list[str], data: st.DataObject) -> None:
    counts = data.draw(st.lists(st.integers(0, 9), min_size=len(pieces), max_size=len(pieces)))
    chunks = [AIMessageChunk(p, usage_metadata=usage(c, c)) for p, c in zip(pieces, counts)]
    merged = merge_chunks(chunks)
    assert merged == functools.reduce(operator.add, chunks)
    assert merged.content == "".join(pieces)
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["total_tokens"] == 2 * sum(counts)


def test_add_usage_treats_none_as_nothing() -> None:
    assert add_usage(None, None) is None
    assert add_usage(usage(1, 2), None) == usage(1, 2)
    assert add_usage(usage(1, 2), usage(3, 4)) == usage(4, 6)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("hi", HumanMessage("hi")),
        (("system", "be brief"), SystemMessage("be brief")),
        (("user", "q"), HumanMessage("q")),
        (("assistant", "a"), AIMessage("a")),
        ({"role": "ai", "content": "a"}, AIMessage("a")),
        (SystemMessage("s"), SystemMessage("s")),
    ],
)
def test_message_from_short_forms(item: object, expected: object) -> None:
    assert message_from(item) == expected  # type: ignore[arg-type]


def test_message_from_explains_bad_items() -> None:
    with pytest.raises(ValueError, match="role 'bot' is not known; use one of: system"):
        message_from(("bot", "hi"))
    with pytest.raises(TypeError, match=r"\(role, text\) tuple"):
        message_from(42)  # type: ignore[arg-type]


def test_documents() -> None:
    doc = Document(page_content="harrison worked at kensho", metadata={"source": "notes"})
    assert doc.page_content == "harrison worked at kensho"
    assert doc.metadata == {"source": "notes"}
    assert str(doc) == "harrison worked at kensho"
    assert Document("x") == Document("x", {})


def test_prompt_values_read_as_text_or_messages() -> None:
    text = StringPromptValue("tell me a joke")
    assert text.to_string() == "tell me a joke"
    assert text.to_messages() == [HumanMessage("tell me a joke")]
    chat = ChatPromptValue((SystemMessage("be brief"), HumanMessage("hi"), AIMessage("hello")))
    assert chat.to_messages()[1] == HumanMessage("hi")
    assert chat.to_string() == "System: be brief\nHuman: hi\nAI: hello"
    assert get_buffer_string([]) == ""
