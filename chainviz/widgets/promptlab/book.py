"""The prompt lab's state, without widgets: every prompt of a chain and its versions.

Each prompt (by node id) has named alternatives — ``"original"`` (as the chain was
written, never changed), the ones saved by name, and ``"draft"`` (what was typed
and not saved) — and a current choice. Typing into a prompt makes its text the
draft and the draft current; saving names the current text; choosing another
alternative keeps the draft. Nothing typed is dropped, malformed text included
(it is flagged, and cannot run).

:meth:`PromptBook.to_data` gives it all as plain JSON-able data::

    {"joke/0": {"current": "short",
                "alternatives": {"original": "tell me a joke about {topic}",
                                 "short": "a short joke about {topic}"}}}

(a chat prompt with several templated messages has a list of texts per
alternative), and :meth:`PromptBook.load` takes it back. Entries for node ids the
chain does not have are kept as they were, so they are not lost either.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.schema import InputSchema
from chainviz.errors import ConfigError, TemplateError
from chainviz.widgets.promptlab.check import Check, check_texts
from chainviz.widgets.promptlab.rebuild import with_alternatives
from chainviz.widgets.promptlab.sites import (
    DRAFT,
    ORIGINAL,
    PromptSite,
    Texts,
    find_prompts,
    with_texts,
)

__all__ = [
    "NAME_LIMIT",
    "SAVED_ORIGINAL",
    "PromptBook",
    "PromptState",
    "PromptVersion",
    "check_name",
]

#: The longest name an alternative may have.
NAME_LIMIT = 60
#: Where a restored "original" goes when the chain's own original has changed since.
SAVED_ORIGINAL = "original (saved)"


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """Which version of a prompt a run used: its name and its text(s)."""

    name: str
    texts: Texts

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "template": _plain(self.texts)}


@dataclass(frozen=True)
class PromptState:
    """One prompt: where it is, its alternatives (``"original"`` first) and the choice."""

    site: PromptSite
    current: str
    alternatives: Mapping[str, Texts]

    @property
    def node_id(self) -> str:
        return self.site.node_id

    def texts(self, name: str | None = None) -> Texts:
        return self.alternatives[self.current if name is None else name]

    def check(self, name: str | None = None) -> Check:
        """Check one alternative (default: the current one) against the step's input."""
        return check_texts(self.site.prompt, self.texts(name), self.site.supply, self.node_id)

    def version(self) -> PromptVersion:
        return PromptVersion(self.current, self.texts())

    def to_data(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "alternatives": {name: _plain(texts) for name, texts in self.alternatives.items()},
        }


def _plain(texts: Texts) -> str | list[str]:
    return texts[0] if len(texts) == 1 else list(texts)


class PromptBook:
    """The prompts of ``chain`` and their versions; safe to use from several threads.

    ``schema`` is what the chain's input supplies (default: its input schema);
    ``data`` is what :meth:`to_data` gave, to restore.
    """

    def __init__(
        self,
        chain: Runnable[Any, Any],
        *,
        schema: InputSchema | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.base = chain
        self._lock = threading.RLock()
        self._states: dict[str, PromptState] = {
            site.node_id: PromptState(site, site.current, dict(site.alternatives))
            for site in find_prompts(chain, schema)
        }
        self._orphans: dict[str, Any] = {}
        self._listeners: list[Callable[[PromptBook], None]] = []
        self._built: tuple[int, Runnable[Any, Any]] | None = None
        self._generation = 0
        if data is not None:
            self.load(data)

    # ------------------------------------------------------------------ reading

    @property
    def node_ids(self) -> list[str]:
        return list(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._states

    def state(self, node_id: str) -> PromptState:
        with self._lock:
            state = self._states.get(node_id)
        if state is None:
            known = ", ".join(repr(n) for n in self._states) or "none"
            raise ConfigError(
                f"There is no editable prompt at node id {node_id!r}; the prompts are at: "
                f"{known}."
            )
        return state

    def states(self) -> list[PromptState]:
        with self._lock:
            return list(self._states.values())

    def versions(self) -> dict[str, PromptVersion]:
        """The version of every prompt a run would use now."""
        return {state.node_id: state.version() for state in self.states()}

    def problems(self) -> list[str]:
        """Why the current versions cannot run as they are (empty when they can)."""
        return [check.message for check in (s.check() for s in self.states()) if not check.ok]

    def to_data(self) -> dict[str, Any]:
        """Every prompt's alternatives and choice as plain data (``json.dump`` it)."""
        with self._lock:
            data = {node_id: state.to_data() for node_id, state in self._states.items()}
            data.update(self._orphans)
        return data

    # ------------------------------------------------------------------ changing

    def on_change(self, listener: Callable[[PromptBook], None]) -> None:
        """Call ``listener(book)`` after every change (edit, choice, save, load)."""
        self._listeners.append(listener)

    def _set(self, state: PromptState) -> PromptState:
        with self._lock:
            self._states[state.node_id] = state
            self._generation += 1
        for listener in list(self._listeners):
            listener(self)
        return state

    def edit(self, node_id: str, texts: Texts | str) -> PromptState:
        """Typed text: it becomes the draft, and the draft the current choice (text equal
        to the current alternative's changes nothing)."""
        state = self.state(node_id)
        texts = _texts(texts)
        if len(texts) != len(state.site.roles):
            raise TemplateError(
                f"The prompt at {node_id!r} has {len(state.site.roles)} templated message(s), "
                f"but {len(texts)} text(s) were given."
            )
        if texts == state.texts():
            return state
        alternatives = {**state.alternatives, DRAFT: texts}
        return self._set(replace(state, current=DRAFT, alternatives=alternatives))

    def select(self, node_id: str, name: str) -> PromptState:
        """Make ``name`` the current alternative."""
        state = self.state(node_id)
        if name not in state.alternatives:
            raise ConfigError(
                f"The prompt at {node_id!r} has no alternative {name!r}; it has: "
                f"{', '.join(repr(n) for n in state.alternatives)}."
            )
        if name == state.current:
            return state
        return self._set(replace(state, current=name))

    def save(self, node_id: str, name: str) -> PromptState:
        """Save the current text as the alternative ``name`` (replacing one of that name)
        and choose it; a draft saved this way is no longer a draft."""
        state = self.state(node_id)
        name = check_name(name)
        check = state.check()
        if check.problem == "template":
            raise TemplateError(f"Fix the template before saving it. {check.message}")
        texts = state.texts()
        alternatives = dict(state.alternatives)
        if state.current == DRAFT:
            del alternatives[DRAFT]  # saved: it is no longer a draft
        alternatives = _draft_last({**alternatives, name: texts})
        return self._set(replace(state, current=name, alternatives=alternatives))

    def remove(self, node_id: str, name: str) -> PromptState:
        """Forget the alternative ``name`` (not the original); the original becomes current
        if it was."""
        state = self.state(node_id)
        if name == ORIGINAL:
            raise ConfigError("The original prompt cannot be removed; it is the chain's own.")
        if name not in state.alternatives:
            raise ConfigError(f"The prompt at {node_id!r} has no alternative {name!r}.")
        alternatives = {k: v for k, v in state.alternatives.items() if k != name}
        current = ORIGINAL if state.current == name else state.current
        return self._set(replace(state, current=current, alternatives=alternatives))

    def load(self, data: Mapping[str, Any]) -> list[str]:
        """Restore what :meth:`to_data` gave; returns (and warns with) what did not fit."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"prompts must be a dict of node id -> {{'current', 'alternatives'}} (as "
                f"view.prompts gives), but a {type(data).__name__} was given."
            )
        notes: list[str] = []
        for node_id, entry in data.items():
            note = self._load_entry(str(node_id), entry)
            if note:
                notes.append(note)
                self._orphans[str(node_id)] = entry
        if notes:
            warnings.warn(" ".join(notes), stacklevel=3)
        with self._lock:
            self._generation += 1
        for listener in list(self._listeners):
            listener(self)
        return notes

    def _load_entry(self, node_id: str, entry: Any) -> str:
        if node_id not in self._states:
            return (f"The saved prompt {node_id!r} is not in this chain (its prompts are at "
                    f"{', '.join(repr(n) for n in self._states) or 'no node id'}); it is kept "
                    "in view.prompts unchanged.")
        state = self._states[node_id]
        saved = entry.get("alternatives") if isinstance(entry, Mapping) else None
        if not isinstance(saved, Mapping):
            return f"The saved prompt {node_id!r} has no 'alternatives' dict; it is kept as it was."
        alternatives = dict(state.alternatives)
        size = len(state.site.roles)
        for name, value in saved.items():
            texts = _texts(value)
            if len(texts) != size or not all(isinstance(t, str) for t in texts):
                return (f"The saved prompt {node_id!r} has {name!r} with {len(texts)} text(s) "
                        f"where the chain's prompt has {size}; it is kept as it was.")
            if name == ORIGINAL and texts != state.site.original:
                alternatives[SAVED_ORIGINAL] = texts  # the chain's code changed since
            elif name != ORIGINAL:
                alternatives[str(name)] = texts
        current = entry.get("current", ORIGINAL)
        if current not in alternatives:
            current = ORIGINAL
        self._states[node_id] = replace(
            state, current=current, alternatives=_draft_last(alternatives))
        self._orphans.pop(node_id, None)
        return ""

    # ------------------------------------------------------------------ the chain

    def chain(self, choose: Mapping[str, str] | None = None) -> Runnable[Any, Any]:
        """The chain with every prompt's alternatives in place and the current ones chosen
        (``choose``: ``{node id: name}`` to build it with other choices as the defaults).

        Raises :class:`TemplateError` when a chosen version is malformed.
        """
        with self._lock:
            if not choose and self._built is not None and self._built[0] == self._generation:
                return self._built[1]
            generation, states = self._generation, list(self._states.values())
        if choose:
            states = [replace(s, current=choose[s.node_id]) if s.node_id in choose else s
                      for s in states]
        choices = {state.node_id: _choice(state) for state in states}
        built = with_alternatives(self.base, choices)
        with self._lock:
            if not choose and generation == self._generation:
                self._built = (generation, built)
        return built


def _choice(state: PromptState) -> tuple[str, dict[str, Runnable[Any, Any]]]:
    prompts: dict[str, Runnable[Any, Any]] = {}
    for name, texts in state.alternatives.items():
        try:
            prompts[name] = with_texts(state.site.prompt, texts)
        except TemplateError as exc:
            if name == state.current:
                raise TemplateError(
                    f"The chain cannot run: the current version {name!r} of the prompt at "
                    f"{state.node_id!r} is not a valid template; fix it in the prompt lab, or "
                    f"choose another version. {exc}",
                    node_id=state.node_id,
                ) from exc
    return state.current, prompts


def _texts(value: Any) -> Texts:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise ConfigError(
        f"A prompt's template must be a str (or a list of str, one per message), but a "
        f"{type(value).__name__} was given."
    )


def _draft_last(alternatives: Mapping[str, Texts]) -> dict[str, Texts]:
    ordered = {k: v for k, v in alternatives.items() if k != DRAFT}
    if DRAFT in alternatives:
        ordered[DRAFT] = alternatives[DRAFT]
    return ordered


def check_name(name: str) -> str:
    """A name to save an alternative under, stripped; reserved or bad names are refused."""
    if not isinstance(name, str):
        raise ConfigError(f"An alternative's name must be a str, not a {type(name).__name__}.")
    name = name.strip()
    if not name:
        raise ConfigError("Give the alternative a name before saving it, e.g. 'short'.")
    if name in (ORIGINAL, DRAFT):
        raise ConfigError(
            f"{name!r} is reserved ({ORIGINAL!r} is the chain's own prompt, {DRAFT!r} the "
            "text typed and not saved); pick another name."
        )
    if len(name) > NAME_LIMIT:
        raise ConfigError(
            f"An alternative's name may have at most {NAME_LIMIT} characters; this one has "
            f"{len(name)}."
        )
    return name
