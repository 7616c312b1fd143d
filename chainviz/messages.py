"""The values that flow between language steps: messages, documents, prompt values.

* Messages: :class:`SystemMessage`, :class:`HumanMessage`, :class:`AIMessage` (with
  ``usage_metadata``), and :class:`AIMessageChunk`, what a model streams; chunks
  add up with ``+`` (``merge_chunks`` adds many at once, in linear time).
* :class:`Document`: a piece of text with metadata, as retrievers return it. It
  lives here so that prompts can format documents without importing retrieval.
* Prompt values: what a prompt produces and a chat model accepts
  (:class:`StringPromptValue`, :class:`ChatPromptValue`), each with ``to_string()``
  and ``to_messages()``.

All of them are frozen dataclasses. Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypedDict

__all__ = [
    "ROLES",
    "AIMessage",
    "AIMessageChunk",
    "BaseMessage",
    "ChatPromptValue",
    "Document",
    "HumanMessage",
    "MessageLike",
    "PromptValue",
    "StringPromptValue",
    "SystemMessage",
    "UsageMetadata",
    "add_usage",
    "get_buffer_string",
    "merge_chunks",
    "message_from",
]


class UsageMetadata(TypedDict):
    """Token counts of one model call (LangChain's keys)."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


def add_usage(left: UsageMetadata | None, right: UsageMetadata | None) -> UsageMetadata | None:
    """The sum of two token counts; None counts as nothing."""
    if left is None:
        return right
    if right is None:
        return left
    return UsageMetadata(
        input_tokens=left["input_tokens"] + right["input_tokens"],
        output_tokens=left["output_tokens"] + right["output_tokens"],
        total_tokens=left["total_tokens"] + right["total_tokens"],
    )


# ------------------------------------------------------------------------ messages


@dataclass(frozen=True)
class BaseMessage:
    """A message of a chat: ``content`` text plus provider extras."""

    type: ClassVar[str] = "base"
    #: What ``get_buffer_string`` prints before the content.
    label: ClassVar[str] = "Message"
    #: Fields shown by ``repr`` even when empty (LangChain shows these).
    _always_shown: ClassVar[tuple[str, ...]] = ("content", "additional_kwargs", "response_metadata")

    content: str = ""
    additional_kwargs: dict[str, Any] = field(default_factory=dict, kw_only=True)
    response_metadata: dict[str, Any] = field(default_factory=dict, kw_only=True)
    name: str | None = field(default=None, kw_only=True)
    id: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.content, str):
            raise TypeError(
                f"{type(self).__name__} content must be a str, but a "
                f"{type(self.content).__name__} was given."
            )

    @property
    def text(self) -> str:
        """The message's text (its ``content``)."""
        return self.content

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._always_shown or value not in (None, {}, ""):
                shown.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


@dataclass(frozen=True, repr=False)
class SystemMessage(BaseMessage):
    """Instructions for the model."""

    type: ClassVar[str] = "system"
    label: ClassVar[str] = "System"


@dataclass(frozen=True, repr=False)
class HumanMessage(BaseMessage):
    """What the user said."""

    type: ClassVar[str] = "human"
    label: ClassVar[str] = "Human"


@dataclass(frozen=True, repr=False)
class AIMessage(BaseMessage):
    """What the model said, with its token counts when the provider reports them."""

    type: ClassVar[str] = "ai"
    label: ClassVar[str] = "AI"

    usage_metadata: UsageMetadata | None = field(default=None, kw_only=True)


@dataclass(frozen=True, repr=False)
class AIMessageChunk(AIMessage):
    """A piece of a streamed :class:`AIMessage`. Chunks add up with ``+``:
    contents join, ``additional_kwargs`` merge (strings concatenate), later
    ``response_metadata`` keys win, and token counts add."""

    type: ClassVar[str] = "AIMessageChunk"

    def __add__(self, other: object) -> AIMessageChunk:
        if isinstance(other, AIMessageChunk):
            return merge_chunks((self, other))
        return NotImplemented

    def to_message(self) -> AIMessage:
        """The whole message these chunks add up to."""
        return AIMessage(
            self.content,
            additional_kwargs=self.additional_kwargs,
            response_metadata=self.response_metadata,
            name=self.name,
            id=self.id,
            usage_metadata=self.usage_metadata,
        )


def _merge_kwargs(left: dict[str, Any], right: Mapping[str, Any]) -> dict[str, Any]:
    """Streamed extras: strings concatenate, dicts merge, lists extend, else the newer."""
    merged = dict(left)
    for key, value in right.items():
        old = merged.get(key)
        if old is None:
            merged[key] = value
        elif isinstance(old, str) and isinstance(value, str):
            merged[key] = old + value
        elif isinstance(old, dict) and isinstance(value, Mapping):
            merged[key] = _merge_kwargs(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            merged[key] = old + value
        elif value is not None:
            merged[key] = value
    return merged


def merge_chunks(chunks: Iterable[AIMessageChunk]) -> AIMessageChunk:
    """Add up chunks in one pass (``a + b + c`` would copy the text at each step)."""
    parts: list[str] = []
    extras: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    usage: UsageMetadata | None = None
    name: str | None = None
    ident: str | None = None
    for chunk in chunks:
        parts.append(chunk.content)
        if chunk.additional_kwargs:
            extras = _merge_kwargs(extras, chunk.additional_kwargs)
        if chunk.response_metadata:
            metadata.update(chunk.response_metadata)
        usage = add_usage(usage, chunk.usage_metadata)
        name = name or chunk.name
        ident = ident or chunk.id
    return AIMessageChunk(
        "".join(parts),
        additional_kwargs=extras,
        response_metadata=metadata,
        name=name,
        id=ident,
        usage_metadata=usage,
    )


ROLES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "developer": SystemMessage,
    "human": HumanMessage,
    "user": HumanMessage,
    "ai": AIMessage,
    "assistant": AIMessage,
}

MessageLike = BaseMessage | tuple[str, str] | Mapping[str, Any] | str


def message_from(item: MessageLike) -> BaseMessage:
    """A message from the short forms people write: a message, ``("human", "hi")``,
    ``{"role": "user", "content": "hi"}`` or a plain string (a human message).

    Raises ``TypeError`` (or ``ValueError`` for an unknown role) with a message
    that the caller can put in context.
    """
    if isinstance(item, BaseMessage):
        return item
    if isinstance(item, str):
        return HumanMessage(item)
    if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
        role, content = item
    elif isinstance(item, Mapping) and isinstance(item.get("content"), str):
        role, content = str(item.get("role", "user")), item["content"]
    else:
        raise TypeError(
            f"a message must be a message object, a (role, text) tuple, a dict with 'role' "
            f"and 'content', or a string, but a {type(item).__name__} ({item!r:.60}) was given"
        )
    cls = ROLES.get(role.lower())
    if cls is None:
        raise ValueError(
            f"the message role {role!r} is not known; use one of: {', '.join(ROLES)}"
        )
    return cls(content)


def get_buffer_string(messages: Sequence[BaseMessage]) -> str:
    """A chat as plain text, one ``Label: content`` line per message."""
    return "\n".join(f"{m.label}: {m.content}" for m in messages)


# ----------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Document:
    """A piece of text (``page_content``) and where it came from (``metadata``)."""

    page_content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = field(default=None, kw_only=True)

    def __str__(self) -> str:
        return self.page_content


# ------------------------------------------------------------------- prompt values


class PromptValue:
    """What a prompt produces: readable as one string or as chat messages."""

    def to_string(self) -> str:
        raise NotImplementedError

    def to_messages(self) -> list[BaseMessage]:
        raise NotImplementedError


@dataclass(frozen=True)
class StringPromptValue(PromptValue):
    """The output of a :class:`~chainviz.prompts.PromptTemplate`."""

    text: str

    def to_string(self) -> str:
        return self.text

    def to_messages(self) -> list[BaseMessage]:
        return [HumanMessage(self.text)]


@dataclass(frozen=True)
class ChatPromptValue(PromptValue):
    """The output of a :class:`~chainviz.prompts.ChatPromptTemplate`."""

    messages: tuple[BaseMessage, ...]

    def to_string(self) -> str:
        return get_buffer_string(self.messages)

    def to_messages(self) -> list[BaseMessage]:
        return list(self.messages)
