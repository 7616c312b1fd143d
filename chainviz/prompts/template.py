"""Prompt template text: parsing ``{name}`` slots (checked, with positions) and
formatting values for reading (documents as their text, messages as their content)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainviz.errors import TemplateError
from chainviz.messages import BaseMessage, Document, PromptValue, get_buffer_string

__all__ = ["Part", "Variable", "format_value", "parse_template", "render", "variables"]


@dataclass(frozen=True)
class Variable:
    """A ``{name}`` slot in a parsed template."""

    name: str


Part = str | Variable


def _template_error(template: str, position: int, problem: str, fix: str) -> TemplateError:
    line_start = template.rfind("\n", 0, position) + 1
    line_end = template.find("\n", position)
    line = template[line_start : line_end if line_end >= 0 else len(template)]
    line_no = template.count("\n", 0, position) + 1
    column = position - line_start
    return TemplateError(
        f"Bad prompt template at position {position} (line {line_no}, column {column + 1}): "
        f"{problem}. {fix}\n  {line}\n  {' ' * column}^"
    )


_LITERAL_FIX = "Write '{{' and '}}' for literal braces."


@functools.lru_cache(maxsize=1024)
def parse_template(template: str) -> tuple[Part, ...]:
    """Split an f-string template into text and :class:`Variable` parts, or raise
    :class:`TemplateError` naming the position of the first problem."""
    if not isinstance(template, str):
        raise TemplateError(
            f"A prompt template must be a str, but a {type(template).__name__} was given."
        )
    parts: list[Part] = []
    text: list[str] = []
    i, size = 0, len(template)
    while i < size:
        char = template[i]
        if char not in "{}":
            text.append(char)
            i += 1
        elif template.startswith(char * 2, i):
            text.append(char)
            i += 2
        elif char == "}":
            raise _template_error(template, i, "'}' has no matching '{'", _LITERAL_FIX)
        else:
            end = template.find("}", i + 1)
            nested = template.find("{", i + 1)
            if end < 0 or 0 <= nested < end:
                raise _template_error(
                    template, i, "'{' is never closed",
                    f"Close it with '}}', e.g. '{{topic}}'. {_LITERAL_FIX}",
                )
            name = template[i + 1 : end]
            if not name:
                raise _template_error(
                    template, i, "the variable name is empty ('{}')",
                    f"Put a name inside, e.g. '{{topic}}'. {_LITERAL_FIX}",
                )
            if not name.isidentifier():
                raise _template_error(
                    template, i, f"the variable name {name!r} is not a Python identifier",
                    f"Use a name like 'topic' or 'user_question'. {_LITERAL_FIX}",
                )
            if text:
                parts.append("".join(text))
                text = []
            parts.append(Variable(name))
            i = end + 1
    if text:
        parts.append("".join(text))
    return tuple(parts)


def variables(parts: Sequence[Part]) -> list[str]:
    names: list[str] = []
    for part in parts:
        if isinstance(part, Variable) and part.name not in names:
            names.append(part.name)
    return names


def format_value(value: Any) -> str:
    """How a value reads inside a prompt: a document is its text, documents are their
    texts separated by blank lines, a message is its content, messages a transcript."""
    if isinstance(value, str):
        return value
    if isinstance(value, Document):
        return value.page_content
    if isinstance(value, BaseMessage):
        return value.content
    if isinstance(value, PromptValue):
        return value.to_string()
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, Document) for v in value):
            return "\n\n".join(v.page_content for v in value)
        if all(isinstance(v, BaseMessage) for v in value):
            return get_buffer_string(value)
    return str(value)


def render(parts: Sequence[Part], values: Mapping[str, Any]) -> str:
    return "".join(
        part if isinstance(part, str) else format_value(values[part.name]) for part in parts
    )
