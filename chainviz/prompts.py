"""Prompt templates: ``{variable}`` text filled from the step's input.

:class:`PromptTemplate` makes one string (a :class:`StringPromptValue`);
:class:`ChatPromptTemplate` makes a list of messages (a :class:`ChatPromptValue`).
Both check their templates when they are built (an unbalanced brace or an empty
name is a :class:`~chainviz.errors.TemplateError` naming its position) and their
input when they run (a missing variable is a
:class:`~chainviz.errors.StepInputError` naming the step, the missing variables
and the keys that were given). A one-variable prompt accepts a bare value
(``chain.invoke("bears")``). Values are formatted for reading: a document is its
text, a list of documents their texts, a message its content.

Templates are plain attributes (``prompt.template``); ``prompt.with_replaced(
template="...")`` returns a checked, working copy, which is how edited prompts are
swapped into a chain.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.core.schema import InputSchema
from chainviz.errors import StepInputError, TemplateError, describe_step
from chainviz.messages import (
    ROLES,
    BaseMessage,
    ChatPromptValue,
    Document,
    PromptValue,
    StringPromptValue,
    get_buffer_string,
    message_from,
)

__all__ = [
    "ChatPromptTemplate",
    "ChatPromptValue",
    "MessageTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "StringPromptValue",
    "format_value",
    "parse_template",
]


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


def _variables(parts: Sequence[Part]) -> list[str]:
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


def _render(parts: Sequence[Part], values: Mapping[str, Any]) -> str:
    return "".join(
        part if isinstance(part, str) else format_value(values[part.name]) for part in parts
    )


def _quote(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "no keys"


def _given(keys: Sequence[str]) -> str:
    if not keys:
        return "the input dict is empty"
    return f"the input has the key{'s' if len(keys) > 1 else ''} {_quote(keys)}"


class _Prompt(Runnable[Any, PromptValue]):
    """What both prompt kinds share: input checks, partials, schema, edited copies."""

    kind = "prompt"
    blocking = False

    partial_variables: dict[str, Any]

    @property
    def input_variables(self) -> list[str]:
        """The variables the input must provide (partial variables excluded)."""
        return [v for v in self._all_variables() if v not in self.partial_variables]

    def _all_variables(self) -> list[str]:
        raise NotImplementedError

    def _validate(self) -> None:
        """Re-check templates (after an edit); raise TemplateError."""

    def _format(self, values: Mapping[str, Any], step: Step | None) -> PromptValue:
        raise NotImplementedError

    # -------------------------------------------------------------- input checks

    def _where(self, step: Step | None) -> str:
        return describe_step(step.node_id if step else None, self.get_name())

    def _values(self, input: Any, step: Step | None) -> dict[str, Any]:
        needed = self.input_variables
        if isinstance(input, Mapping):
            given = dict(input)
        elif len(needed) == 1:
            given = {needed[0]: input}
        else:
            example = "{" + ", ".join(f"{v!r}: ..." for v in needed) + "}"
            accepts = "a dict (it has no variables)"
            if needed:
                accepts = f"a dict with the keys {_quote(needed)}"
            raise StepInputError(
                f"{self._where(step)} accepts {accepts}, but got a {type(input).__name__} "
                f"({input!r:.60}). Pass a dict such as {example}, or put a dict of branches "
                "before the prompt.",
                node_id=step.node_id if step else None,
            )
        missing = [v for v in needed if v not in given]
        if missing:
            s = "s" if len(missing) > 1 else ""
            raise StepInputError(
                f"{self._where(step)} needs the variable{s} {_quote(missing)}, but "
                f"{_given(list(given))}. Add {_quote(missing)} to the input dict, or fill "
                f"{'them' if s else 'it'} in with prompt.partial(...).",
                node_id=step.node_id if step else None,
            )
        partials = {
            key: value() if callable(value) else value
            for key, value in self.partial_variables.items()
            if key not in given
        }
        return {**partials, **given}

    def _call(self, input: Any, step: Step) -> PromptValue:
        return self._format(self._values(input, step), step)

    # ------------------------------------------------------------------ public API

    def format_prompt(self, **kwargs: Any) -> PromptValue:
        """The prompt value for these variables (outside a chain)."""
        return self._format(self._values(kwargs, None), None)

    def partial(self, **kwargs: Any) -> _Prompt:
        """A copy with some variables filled in (values, or functions called at format time)."""
        unknown = [k for k in kwargs if k not in self._all_variables()]
        if unknown:
            raise TemplateError(
                f"{self.get_name()}.partial() got {_quote(unknown)}, which the template does not "
                f"use; its variables are {_quote(self._all_variables())}."
            )
        return Runnable.with_replaced(
            self, partial_variables={**self.partial_variables, **kwargs}
        )  # type: ignore[return-value]

    def with_replaced(self, **changes: Any) -> _Prompt:
        """An edited copy, checked: a malformed template raises here, not at run time."""
        clone: _Prompt = super().with_replaced(**changes)  # type: ignore[assignment]
        clone._validate()
        return clone

    def get_input_schema(self) -> InputSchema:
        variables = self.input_variables
        if len(variables) == 1:
            return InputSchema((variables[0],), True)
        return InputSchema.of(variables)


class PromptTemplate(_Prompt):
    """A string prompt: ``PromptTemplate.from_template("Tell me about {topic}")``."""

    def __init__(
        self,
        template: str,
        *,
        input_variables: Sequence[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
        template_format: str = "f-string",
        name: str | None = None,
    ) -> None:
        if template_format != "f-string":
            raise TemplateError(
                f"template_format={template_format!r} is not supported; chainviz prompts use "
                "'f-string' templates ({name} slots)."
            )
        self.template = template
        self.partial_variables = dict(partial_variables or {})
        self.name = name
        self._validate()
        if input_variables is not None and set(input_variables) != set(self.input_variables):
            raise TemplateError(
                f"input_variables={list(input_variables)!r} does not match the template, "
                f"which uses {self.input_variables!r}. Leave input_variables out: it is inferred."
            )

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> PromptTemplate:
        return cls(template, **kwargs)

    def _validate(self) -> None:
        parse_template(self.template)

    def _all_variables(self) -> list[str]:
        return _variables(parse_template(self.template))

    def _format(self, values: Mapping[str, Any], step: Step | None) -> StringPromptValue:
        return StringPromptValue(_render(parse_template(self.template), values))

    def format(self, **kwargs: Any) -> str:
        """The filled-in template text."""
        return self.format_prompt(**kwargs).to_string()

    def __repr__(self) -> str:
        return (
            f"PromptTemplate(input_variables={self.input_variables!r}, "
            f"template={self.template!r})"
        )


@dataclass(frozen=True)
class MessageTemplate:
    """One templated message of a chat prompt: a role and its template text."""

    role: str
    template: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise TemplateError(
                f"The message role {self.role!r} is not known; use one of: {', '.join(ROLES)}."
            )
        parse_template(self.template)

    def format(self, values: Mapping[str, Any]) -> BaseMessage:
        return ROLES[self.role](_render(parse_template(self.template), values))

    def variables(self) -> list[str]:
        return _variables(parse_template(self.template))


@dataclass(frozen=True)
class MessagesPlaceholder:
    """A slot for a list of messages (a chat history) given in the input."""

    variable_name: str
    optional: bool = False


ChatItem = MessageTemplate | MessagesPlaceholder | BaseMessage


def _chat_item(item: Any, index: int) -> ChatItem:
    if isinstance(item, (MessageTemplate, MessagesPlaceholder, BaseMessage)):
        return item
    if isinstance(item, str):
        return MessageTemplate("human", item)
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        role, template = item
        if role == "placeholder":
            parts = parse_template(template)
            if len(parts) != 1 or not isinstance(parts[0], Variable):
                raise TemplateError(
                    f"Message {index} is a placeholder, whose text must be one variable such as "
                    f"'{{history}}', but {template!r} was given."
                )
            return MessagesPlaceholder(parts[0].name, optional=True)
        return MessageTemplate(role, template)
    raise TemplateError(
        f"Message {index} of the chat prompt is a {type(item).__name__} ({item!r:.60}). Give "
        "(role, template) tuples such as ('human', 'tell me about {topic}'), messages, or "
        "MessagesPlaceholder('history')."
    )


class ChatPromptTemplate(_Prompt):
    """A chat prompt: ``ChatPromptTemplate.from_template("tell me a joke about {topic}")``
    (one human message) or ``.from_messages([("system", "..."), ("human", "{question}")])``."""

    def __init__(
        self,
        messages: Sequence[Any],
        *,
        partial_variables: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.messages: tuple[ChatItem, ...] = tuple(
            _chat_item(item, i) for i, item in enumerate(messages)
        )
        self.partial_variables = dict(partial_variables or {})
        self.name = name

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> ChatPromptTemplate:
        """A chat prompt of one human message."""
        return cls([MessageTemplate("human", template)], **kwargs)

    @classmethod
    def from_messages(cls, messages: Sequence[Any], **kwargs: Any) -> ChatPromptTemplate:
        """A chat prompt from (role, template) tuples, messages and placeholders."""
        return cls(messages, **kwargs)

    @property
    def templates(self) -> list[tuple[str, str]]:
        """The (role, template text) of each templated message, in order."""
        return [(m.role, m.template) for m in self.messages if isinstance(m, MessageTemplate)]

    @property
    def template(self) -> str:
        """The template text, for a prompt with one templated message."""
        templates = self.templates
        if len(templates) != 1:
            raise AttributeError(
                f"This chat prompt has {len(templates)} templated messages; read .templates "
                "and edit with with_replaced(messages=[...])."
            )
        return templates[0][1]

    def with_replaced(self, **changes: Any) -> ChatPromptTemplate:
        """An edited copy. ``template="..."`` replaces the text of the only templated
        message; ``messages=[...]`` takes what ``from_messages`` takes."""
        if "template" in changes:
            text = changes.pop("template")
            slots = [i for i, m in enumerate(self.messages) if isinstance(m, MessageTemplate)]
            if len(slots) != 1:
                raise TemplateError(
                    f"with_replaced(template=...) needs a prompt with one templated message, "
                    f"but this one has {len(slots)}; pass messages=[...] instead."
                )
            items = list(self.messages)
            role = self.templates[0][0]
            items[slots[0]] = MessageTemplate(role, text)
            changes.setdefault("messages", items)
        if "messages" in changes:
            changes["messages"] = tuple(
                _chat_item(item, i) for i, item in enumerate(changes["messages"])
            )
        return super().with_replaced(**changes)  # type: ignore[return-value]

    def _all_variables(self) -> list[str]:
        names: list[str] = []
        for item in self.messages:
            if isinstance(item, MessageTemplate):
                found = item.variables()
            elif isinstance(item, MessagesPlaceholder) and not item.optional:
                found = [item.variable_name]
            else:
                found = []
            names.extend(n for n in found if n not in names)
        return names

    def _format(self, values: Mapping[str, Any], step: Step | None) -> ChatPromptValue:
        out: list[BaseMessage] = []
        for item in self.messages:
            if isinstance(item, MessageTemplate):
                out.append(item.format(values))
            elif isinstance(item, MessagesPlaceholder):
                out.extend(self._placeholder(item, values, step))
            else:
                out.append(item)
        return ChatPromptValue(tuple(out))

    def _placeholder(
        self, item: MessagesPlaceholder, values: Mapping[str, Any], step: Step | None
    ) -> list[BaseMessage]:
        value = values.get(item.variable_name)
        if value is None and item.optional:
            return []
        if isinstance(value, (str, BaseMessage)):
            value = [value]
        try:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"a {type(value).__name__} is not a list of messages")
            return [message_from(m) for m in value]
        except (TypeError, ValueError) as exc:
            raise StepInputError(
                f"{self._where(step)} needs a list of messages for {item.variable_name!r}: {exc}.",
                node_id=step.node_id if step else None,
            ) from exc

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """The filled-in messages."""
        return self.format_prompt(**kwargs).to_messages()

    def format(self, **kwargs: Any) -> str:
        """The filled-in messages as one transcript string."""
        return self.format_prompt(**kwargs).to_string()

    def __repr__(self) -> str:
        items = [
            (m.role, m.template) if isinstance(m, MessageTemplate) else m for m in self.messages
        ]
        return f"ChatPromptTemplate(input_variables={self.input_variables!r}, messages={items!r})"

