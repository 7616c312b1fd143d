"""``ChatPromptTemplate``: templated messages, fixed messages and history placeholders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainviz.core.run import Step
from chainviz.errors import StepInputError, TemplateError
from chainviz.messages import ROLES, BaseMessage, ChatPromptValue, message_from
from chainviz.prompts.base import BasePromptTemplate
from chainviz.prompts.template import Variable, parse_template, render, variables

__all__ = ["ChatPromptTemplate", "MessageTemplate", "MessagesPlaceholder"]


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
        return ROLES[self.role](render(parse_template(self.template), values))

    def variables(self) -> list[str]:
        return variables(parse_template(self.template))


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


class ChatPromptTemplate(BasePromptTemplate):
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
