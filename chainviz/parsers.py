"""Output parsers: the model's message in, a plain value out, streamed as it arrives.

* :class:`StrOutputParser` gives the text, one piece per token when streamed.
* :class:`JsonOutputParser` gives the JSON value. Streamed, it yields the value
  parsed so far each time it grows (``{"setup": "Why"}``, then ``{"setup": "Why
  don't"}``, ...), as LangChain does; each such snapshot replaces the previous one
  when a stream is added up. A reply wrapped in a Markdown code fence, or after a
  line of prose, is read too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.errors import OutputParserError, StepInputError, describe_step
from chainviz.messages import BaseMessage

__all__ = [
    "JsonListSnapshot",
    "JsonOutputParser",
    "JsonSnapshot",
    "StrOutputParser",
    "parse_partial_json",
]


class _Parser(Runnable[Any, Any]):
    kind = "parser"
    blocking = False

    def _text(self, value: Any, step: Step | None) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, BaseMessage):
            return value.content
        raise StepInputError(
            f"{describe_step(step.node_id if step else None, self.get_name())} reads a model's "
            f"message or a string, but got a {type(value).__name__} ({value!r:.60}). "
            "Put it right after a model (prompt | model | parser).",
            node_id=step.node_id if step else None,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StrOutputParser(_Parser):
    """The text of the model's message."""

    def _call(self, input: Any, step: Step) -> str:
        return self._text(input, step)

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[str]:
        produced = False
        for chunk in chunks:
            text = self._text(chunk, step)
            if text:
                produced = True
                yield text
        if not produced:
            yield ""

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[str]:
        produced = False
        async for chunk in chunks:
            text = self._text(chunk, step)
            if text:
                produced = True
                yield text
        if not produced:
            yield ""

    def parse(self, text: str) -> str:
        return text


# ----------------------------------------------------------------------------- JSON


class JsonSnapshot(dict[str, Any]):
    """A streamed JSON object: the whole value parsed so far (replaces earlier chunks)."""

    replaces_previous = True


class JsonListSnapshot(list[Any]):
    """A streamed JSON array: the whole value parsed so far (replaces earlier chunks)."""

    replaces_previous = True


_NOTHING: Any = object()
_JSON_START = '{["-0123456789'


def _json_text(text: str) -> str:
    """The JSON part of a reply: inside a ``` fence, or from the first bracket."""
    text = text.strip()
    if text.startswith("```"):
        newline = text.find("\n")
        if newline < 0:
            return ""  # only the fence's first line so far
        text = text[newline + 1 :]
        fence = text.find("```")
        if fence >= 0:
            text = text[:fence]
        text = text.strip()
    if text and text[0] not in _JSON_START and not text.startswith(("true", "false", "null")):
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        if starts:
            text = text[min(starts) :]
    return text


def _candidates(body: str) -> Iterator[str]:
    """Complete JSON texts that an incomplete ``body`` may stand for, best first, made
    lazily as they are tried: the whole text with its open string and brackets closed,
    then the text cut before each comma and after each opening bracket (latest first),
    each closed the same way."""
    cuts: list[tuple[int, str]] = []  # (prefix length, what closes it)
    stack: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
            cuts.append((index + 1, "".join(reversed(stack))))
        elif char in "}]":
            if not stack or stack.pop() != char:  # malformed: only earlier cuts can parse
                yield from (body[:end] + closing for end, closing in reversed(cuts))
                return
        elif char == ",":
            cuts.append((index, "".join(reversed(stack))))
    closing = "".join(reversed(stack))
    if in_string:
        yield (body[:-1] if escaped else body) + '"' + closing
    else:  # an unfinished number ("1." or "2e") loses its last characters
        yield body + closing
        yield body.rstrip(".eE+-") + closing
    yield from (body[:end] + closing for end, closing in reversed(cuts))


def parse_partial_json(text: str) -> Any:
    """The JSON value an incomplete text stands for so far: open strings and brackets are
    closed, and an unfinished key, number or literal at the end is dropped. Raises
    ``ValueError`` if no prefix of the text is JSON yet."""
    body = _json_text(text)
    try:
        return json.loads(body, strict=False)
    except ValueError:
        pass
    for candidate in _candidates(body):
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            continue
    raise ValueError("no JSON value yet")


def _snapshot(value: Any) -> Any:
    if isinstance(value, dict):
        return JsonSnapshot(value)
    if isinstance(value, list):
        return JsonListSnapshot(value)
    return value


class JsonOutputParser(_Parser):
    """The JSON value in the model's reply (objects, arrays, or plain values)."""

    def _parse(self, text: str, step: Step | None) -> Any:
        body = _json_text(text)
        try:
            return json.loads(body, strict=False)
        except ValueError as exc:
            where = describe_step(step.node_id if step else None, self.get_name())
            raise OutputParserError(
                f"{where} could not read the model's output as JSON ({exc}). The output was "
                f"{text!r:.200}. Ask for JSON only in the prompt, e.g. with "
                "parser.get_format_instructions().",
                node_id=step.node_id if step else None,
            ) from exc

    def parse(self, text: str) -> Any:
        """The JSON value of a complete reply."""
        return self._parse(text, None)

    def get_format_instructions(self) -> str:
        return "Return a JSON value only, with no other text and no code fences."

    def _call(self, input: Any, step: Step) -> Any:
        return self._parse(self._text(input, step), step)

    def _feed(self, parts: list[str], chunk: Any, step: Step, last: Any) -> Any:
        """The new snapshot after ``chunk``, or ``_NOTHING`` when it did not change."""
        parts.append(self._text(chunk, step))
        try:
            value = parse_partial_json("".join(parts))
        except ValueError:
            return _NOTHING
        if not isinstance(value, (dict, list)) or value == last:
            return _NOTHING  # plain values are given whole, at the end
        return value

    def _final(self, parts: list[str], step: Step, last: Any) -> Any:
        value = self._parse("".join(parts), step)
        return _NOTHING if value == last and last is not _NOTHING else value

    def _transform(self, chunks: Iterator[Any], step: Step) -> Iterator[Any]:
        parts: list[str] = []
        last: Any = _NOTHING
        for chunk in chunks:
            value = self._feed(parts, chunk, step, last)
            if value is not _NOTHING:
                last = value
                yield _snapshot(value)
        final = self._final(parts, step, last)
        if final is not _NOTHING:
            yield _snapshot(final)

    async def _atransform(self, chunks: AsyncIterator[Any], step: Step) -> AsyncIterator[Any]:
        parts: list[str] = []
        last: Any = _NOTHING
        async for chunk in chunks:
            value = self._feed(parts, chunk, step, last)
            if value is not _NOTHING:
                last = value
                yield _snapshot(value)
        final = self._final(parts, step, last)
        if final is not _NOTHING:
            yield _snapshot(final)
