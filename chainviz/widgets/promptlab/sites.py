"""Where a chain's prompts are, by node id, and what input each one receives.

:func:`find_prompts` walks ``children()`` the way the graph does (sequence steps by
index, parallel branches by escaped key, transparent wrappers add no level), so a
prompt's :class:`PromptSite` has the id its events and its graph node carry.

Along the way it works out what each step receives (a :class:`Supply`): the chain's
input keys at the root; after ``{"context": retriever, "question": passthrough}``
exactly ``context`` and ``question``; after ``RunnablePassthrough.assign(x=...)`` the
keys before plus ``x``; after a model, a retriever or a prompt, one value (not a
dict); after anything else (a function), nothing known, so any variable is accepted.

A prompt already wrapped by the lab (a :class:`ConfigurableAlternatives` whose field
id is ``prompt:<node id>``, as ``view.chain`` has) is read back with its alternatives,
so passing ``view.chain`` to a new view keeps them. Prompts inside a composite the
lab cannot rebuild (not a sequence, parallel, assign or wrapper) are not listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chainviz.core import ids
from chainviz.core.base import Runnable
from chainviz.core.configurable import ConfigurableAlternatives
from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnableAssign, RunnablePassthrough
from chainviz.core.schema import InputSchema
from chainviz.core.sequence import RunnableSequence
from chainviz.core.wrappers import _Wrapper
from chainviz.errors import CompositionError, TemplateError, describe_node
from chainviz.parsers import StrOutputParser
from chainviz.prompts import BasePromptTemplate, ChatPromptTemplate, PromptTemplate
from chainviz.prompts.chat import MessageTemplate

__all__ = [
    "DRAFT",
    "ORIGINAL",
    "PromptSite",
    "Supply",
    "Texts",
    "config_id",
    "editable",
    "find_prompts",
    "roles_of",
    "texts_of",
    "with_texts",
]

#: The key of a prompt as the chain was written.
ORIGINAL = "original"
#: The key of the text typed but not saved yet.
DRAFT = "draft"
#: The prefix of the lab's ``configurable`` ids: ``prompt:<node id>``.
CONFIG_PREFIX = "prompt:"

#: A prompt's editable text: one template per templated message (one for a string prompt).
Texts = tuple[str, ...]

#: Kinds whose output is one value, not a dict.
_VALUE_KINDS = frozenset({"prompt", "model", "chat_model", "llm", "retriever"})


def config_id(node_id: str) -> str:
    """The ``configurable`` key that picks the alternative of the prompt at ``node_id``."""
    return CONFIG_PREFIX + node_id


def editable(runnable: Any) -> bool:
    """True for prompts the lab can edit: string prompts and chat prompts with text."""
    if isinstance(runnable, PromptTemplate):
        return True
    return isinstance(runnable, ChatPromptTemplate) and bool(runnable.templates)


def texts_of(prompt: BasePromptTemplate) -> Texts:
    """The template text(s) of an editable prompt."""
    if isinstance(prompt, ChatPromptTemplate):
        return tuple(text for _, text in prompt.templates)
    if isinstance(prompt, PromptTemplate):
        return (prompt.template,)
    raise TemplateError(f"The prompt lab cannot edit a {type(prompt).__name__}.")


def roles_of(prompt: BasePromptTemplate) -> tuple[str, ...]:
    """The role of each text (``""`` for a string prompt's one template)."""
    if isinstance(prompt, ChatPromptTemplate):
        return tuple(role for role, _ in prompt.templates)
    return ("",)


def with_texts(prompt: BasePromptTemplate, texts: Texts) -> BasePromptTemplate:
    """A checked copy of ``prompt`` with its template text(s) replaced.

    Raises :class:`TemplateError` (with the position) for a malformed template, or when
    the number of texts is not the number of templated messages.
    """
    roles = roles_of(prompt)
    if len(texts) != len(roles):
        raise TemplateError(
            f"This prompt has {len(roles)} templated message(s), but {len(texts)} text(s) "
            "were given; give one text per templated message."
        )
    if isinstance(prompt, PromptTemplate):
        return prompt.with_replaced(template=texts[0])
    if not isinstance(prompt, ChatPromptTemplate):
        raise TemplateError(f"The prompt lab cannot edit a {type(prompt).__name__}.")
    items: list[Any] = list(prompt.messages)
    slots = iter(zip(roles, texts))
    for index, item in enumerate(items):
        if isinstance(item, MessageTemplate):
            role, text = next(slots)
            try:
                items[index] = MessageTemplate(role, text)
            except TemplateError as exc:
                if len(roles) == 1:
                    raise
                raise TemplateError(f"In the {role} message: {exc}") from exc
    return prompt.with_replaced(messages=items)


@dataclass(frozen=True, slots=True)
class Supply:
    """What a step receives: ``kind`` is ``"keys"`` (a dict with exactly ``keys``),
    ``"at_least"`` (a dict with ``keys`` and maybe more), ``"value"`` (one value, not a
    dict) or ``"unknown"``; ``source`` says where it comes from, for messages."""

    kind: Literal["keys", "at_least", "value", "unknown"]
    keys: tuple[str, ...] = ()
    source: str = "the input"

    @classmethod
    def of_schema(cls, schema: InputSchema) -> Supply:
        """What the chain's input form supplies: its variables, or nothing known."""
        if schema.variables:
            return cls("keys", schema.variables, "the chain's input")
        return cls("unknown", (), "the chain's input")


UNKNOWN = Supply("unknown")


@dataclass(frozen=True)
class PromptSite:
    """One editable prompt: where it is, the prompt as written, what it receives, and
    the alternatives a lab-wrapped chain already carried (``ORIGINAL`` first)."""

    node_id: str
    prompt: BasePromptTemplate
    supply: Supply = UNKNOWN
    current: str = ORIGINAL
    alternatives: Mapping[str, Texts] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if ORIGINAL not in self.alternatives:
            object.__setattr__(
                self, "alternatives", {ORIGINAL: texts_of(self.prompt), **self.alternatives}
            )

    @property
    def original(self) -> Texts:
        return self.alternatives[ORIGINAL]

    @property
    def roles(self) -> tuple[str, ...]:
        return roles_of(self.prompt)

    @property
    def name(self) -> str:
        return self.prompt.get_name()


def find_prompts(chain: Runnable[Any, Any], schema: InputSchema | None = None) -> list[PromptSite]:
    """Every editable prompt of ``chain`` in graph order, with what it receives.

    ``schema`` is what the chain's input supplies (default: ``chain.get_input_schema()``).
    """
    walker = _Walker()
    root = Supply.of_schema(chain.get_input_schema() if schema is None else schema)
    walker.walk(chain, ids.ROOT, root)
    return walker.sites


def _described(node_id: str, runnable: Runnable[Any, Any]) -> str:
    if node_id == ids.ROOT:
        return f"the chain ({runnable.get_name()})"
    return f"{describe_node(node_id)} ({runnable.get_name()})"


class _Walker:
    def __init__(self) -> None:
        self.sites: list[PromptSite] = []

    def walk(self, runnable: Runnable[Any, Any], node_id: str, supply: Supply) -> Supply:
        """Record the prompts in ``runnable``'s subtree; return what it outputs."""
        if isinstance(runnable, ConfigurableAlternatives) and (
            runnable.which.id == config_id(node_id)
        ):
            self.sites.append(_site_of_lab_wrapper(runnable, node_id, supply))
            return Supply("value", (), _described(node_id, runnable))
        if isinstance(runnable, _Wrapper):
            return self.walk(runnable.bound, node_id, supply)
        if runnable.transparent:
            return UNKNOWN  # a wrapper the lab could not rebuild around a new prompt
        if isinstance(runnable, BasePromptTemplate):
            if editable(runnable):
                self.sites.append(PromptSite(node_id, runnable, supply))
            return Supply("value", (), _described(node_id, runnable))
        if isinstance(runnable, RunnableSequence):
            for part, step in _keyed(runnable, node_id):
                supply = self.walk(step, ids.join(node_id, part), supply)
            return supply
        if isinstance(runnable, (RunnableParallel, RunnableAssign)):
            return self._fan(runnable, node_id, supply)
        if isinstance(runnable, RunnablePassthrough):
            return supply
        if isinstance(runnable, StrOutputParser) or (
            not runnable.children() and runnable.kind in _VALUE_KINDS
        ):
            return Supply("value", (), _described(node_id, runnable))
        return UNKNOWN

    def _fan(
        self, runnable: RunnableParallel | RunnableAssign, node_id: str, supply: Supply
    ) -> Supply:
        mapper = runnable.mapper if isinstance(runnable, RunnableAssign) else runnable
        keys = list(mapper.steps__)
        for part, branch in _keyed(mapper, node_id):
            self.walk(branch, ids.join(node_id, part), supply)
        source = _described(node_id, runnable)
        if isinstance(runnable, RunnableParallel):
            return Supply("keys", tuple(keys), source)
        if supply.kind in ("keys", "at_least"):
            return Supply(supply.kind, _merged(supply.keys, keys), source)
        return Supply("at_least", tuple(keys), source)


def _keyed(
    composite: Runnable[Any, Any], node_id: str
) -> list[tuple[str, Runnable[Any, Any]]]:
    """A composite's children with their (escaped) id parts; a None key is an error."""
    keyed: list[tuple[str, Runnable[Any, Any]]] = []
    for part, child in composite.children():
        if part is None:
            raise CompositionError(
                f"{type(composite).__name__} at {describe_node(node_id)} gave a child with "
                "the key None, which only a transparent wrapper may do.",
                node_id=node_id,
            )
        keyed.append((part, child))
    return keyed


def _merged(first: Iterable[str], second: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*first, *second]))


def _site_of_lab_wrapper(
    wrapper: ConfigurableAlternatives, node_id: str, supply: Supply
) -> PromptSite:
    """Read back a prompt the lab wrapped: the original, the alternatives, the current."""
    options = wrapper.options
    original = options.get(ORIGINAL, wrapper.bound)
    if not isinstance(original, BasePromptTemplate) or not editable(original):
        raise TemplateError(
            f"The alternatives at {describe_node(node_id)} use the prompt lab's id "
            f"{config_id(node_id)!r}, but their {ORIGINAL!r} is not an editable prompt."
        )
    alternatives: dict[str, Texts] = {ORIGINAL: texts_of(original)}
    for name, option in options.items():
        if (
            name != ORIGINAL
            and isinstance(option, BasePromptTemplate)
            and editable(option)
            and len(roles_of(option)) == len(roles_of(original))
        ):
            alternatives[name] = texts_of(option)
    current = wrapper.default_key if wrapper.default_key in alternatives else ORIGINAL
    return PromptSite(node_id, original, supply, current, alternatives)
