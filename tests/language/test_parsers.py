"""Output parsers: text and JSON, whole and streamed (partial JSON included)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainviz import RunnableGenerator, RunnableLambda
from chainviz.errors import OutputParserError, StepInputError
from chainviz.messages import AIMessage, AIMessageChunk
from chainviz.parsers import JsonOutputParser, StrOutputParser, parse_partial_json

Run = Callable[..., Any]
Stream = Callable[..., list[Any]]


def chunks_of(text: str, size: int) -> RunnableGenerator:
    """A step that streams ``text`` as message chunks of ``size`` characters."""

    def produce(_: Iterator[Any]) -> Iterator[AIMessageChunk]:
        for start in range(0, len(text), size):
            yield AIMessageChunk(text[start : start + size])

    return RunnableGenerator(produce, name="fake_model")


# ---------------------------------------------------------------------------- text


def test_str_parser_reads_messages_and_strings(run: Run) -> None:
    parser = StrOutputParser()
    assert run(parser, AIMessage("Bear feet!")) == "Bear feet!"
    assert run(parser, "plain") == "plain"
    assert parser.kind == "parser"


def test_str_parser_streams_piece_by_piece(stream: Stream) -> None:
    chunks = stream(chunks_of("Why don't bears wear shoes?", 4) | StrOutputParser())
    assert chunks[:2] == ["Why ", "don'"]
    assert "".join(chunks) == "Why don't bears wear shoes?"


def test_str_parser_stream_of_an_empty_reply_is_one_empty_string(stream: Stream) -> None:
    assert stream(chunks_of("", 3) | StrOutputParser()) == [""]


def test_parser_input_error_names_the_step(run: Run) -> None:
    chain = RunnableLambda(lambda x: {"not": "a message"}) | StrOutputParser()
    with pytest.raises(StepInputError) as caught:
        run(chain, None)
    assert caught.value.node_id == "1"
    assert str(caught.value).startswith(
        "Step '1' (StrOutputParser) reads a model's message or a string, but got a dict"
    )


# ---------------------------------------------------------------------------- JSON

REPLY = {"setup": "Why don't bears wear shoes?", "punchline": "Bear feet!", "rating": [4, 5]}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(REPLY),
        "```json\n" + json.dumps(REPLY, indent=2) + "\n```",
        "Here is the joke:\n" + json.dumps(REPLY),
    ],
)
def test_json_parser_reads_plain_fenced_and_prefixed_json(run: Run, text: str) -> None:
    assert run(JsonOutputParser(), AIMessage(text)) == REPLY


def test_json_parser_error_names_the_step_and_the_output(run: Run) -> None:
    chain = RunnableLambda(lambda x: "Sorry, I cannot do that.") | JsonOutputParser()
    with pytest.raises(OutputParserError) as caught:
        run(chain, None)
    message = str(caught.value)
    assert caught.value.node_id == "1"
    assert message.startswith("Step '1' (JsonOutputParser) could not read the model's output")
    assert "'Sorry, I cannot do that.'" in message
    assert "get_format_instructions()" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "he', {"a": "he"}),
        ('{"a": 1, "b', {"a": 1}),
        ('{"a": 1, "b":', {"a": 1}),
        ('{"a": [1, 2', {"a": [1, 2]}),
        ('{"a": {"b": tr', {"a": {}}),
        ('{"a": 1.', {"a": 1}),
        ('{"a": "x\\', {"a": "x"}),
        ('{"a": "line\nbreak', {"a": "line\nbreak"}),
        ("```json\n[1, 2, {\"k\": ", [1, 2, {}]),
        ('{"done": true}', {"done": True}),
    ],
)
def test_parse_partial_json(text: str, expected: Any) -> None:
    assert parse_partial_json(text) == expected


def test_parse_partial_json_without_any_value_raises() -> None:
    with pytest.raises(ValueError, match="no JSON value yet"):
        parse_partial_json("```js")


def test_json_streams_growing_snapshots(stream: Stream) -> None:
    text = "```json\n" + json.dumps(REPLY) + "\n```"
    snapshots = stream(chunks_of(text, 5) | JsonOutputParser())
    assert len(snapshots) > 5
    assert all(isinstance(s, dict) for s in snapshots)
    assert snapshots[-1] == REPLY
    assert {"setup": "W"} in [dict(s) for s in snapshots]
    for before, after in itertools.pairwise(snapshots):
        assert before != after
        assert set(before) <= set(after)


def test_a_step_after_a_streamed_json_parser_gets_the_whole_value(stream: Stream) -> None:
    seen: list[Any] = []
    chain = chunks_of(json.dumps(REPLY), 3) | JsonOutputParser() | RunnableLambda(seen.append)
    stream(chain)
    assert seen == [REPLY]


def test_streamed_json_that_ends_malformed_fails(stream: Stream) -> None:
    with pytest.raises(OutputParserError, match="could not read the model's output as JSON"):
        stream(chunks_of('{"a": 1, "b": }', 4) | JsonOutputParser())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=5), st.integers(1, 7))
def test_any_object_streamed_in_any_pieces_parses_to_itself(value: Any, size: int) -> None:
    text = json.dumps(value)
    snapshots = list((chunks_of(text, size) | JsonOutputParser()).stream(None))
    assert snapshots[-1] == value
    for end in range(1, len(text)):
        try:
            parse_partial_json(text[:end])
        except ValueError:
            pass
