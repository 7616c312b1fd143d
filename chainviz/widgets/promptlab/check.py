"""Checking a draft template before anything runs: is it well formed, and will the
step's input supply every variable it uses?

:func:`check_texts` builds the edited prompt (``with_replaced`` re-checks the template
and names the position of a malformed one), then compares its variables with the
:class:`~chainviz.widgets.promptlab.sites.Supply` of its node: exact keys must cover
them, a single value fills exactly one variable, and where nothing is known any
variable is accepted. Messages are sentences that name the prompt's node id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chainviz.errors import TemplateError
from chainviz.prompts import BasePromptTemplate
from chainviz.prompts.base import quote
from chainviz.widgets.promptlab.sites import Supply, Texts, with_texts

__all__ = ["Check", "check_texts"]

Problem = Literal["", "template", "variables"]


@dataclass(frozen=True, slots=True)
class Check:
    """The result of checking one version of a prompt: ``ok``, and a message to show.

    ``problem`` is ``"template"`` (malformed: the prompt cannot be built),
    ``"variables"`` (a variable the input will not supply) or ``""``.
    """

    ok: bool
    message: str
    variables: tuple[str, ...] = ()
    problem: Problem = ""


def _where(node_id: str) -> str:
    return f"Prompt {node_id!r}" if node_id else "The prompt"


def check_texts(
    prompt: BasePromptTemplate, texts: Texts, supply: Supply, node_id: str
) -> Check:
    """Check ``texts`` as the template(s) of ``prompt`` (at ``node_id``) given ``supply``."""
    try:
        edited = with_texts(prompt, texts)
    except TemplateError as exc:
        return Check(False, f"{_where(node_id)}: {exc}", problem="template")
    variables = tuple(edited.input_variables)
    if supply.kind == "keys":
        missing = [v for v in variables if v not in supply.keys]
        if missing:
            s = "s" if len(missing) > 1 else ""
            it = "them" if s else "it"
            return Check(
                False,
                f"{_where(node_id)} needs the variable{s} {quote(missing)}, but "
                f"{supply.source} supplies only {quote(supply.keys)}. Use those names, or "
                f"add {quote(missing)} where {it} can come from.",
                variables,
                "variables",
            )
    elif supply.kind == "value" and len(variables) != 1:
        have = f"{len(variables)}: {quote(variables)}" if variables else "none"
        return Check(
            False,
            f"{_where(node_id)} gets one value from {supply.source}, not a dict, so it "
            f"needs exactly one variable to put it in; it has {have}.",
            variables,
            "variables",
        )
    return Check(True, _fine(variables, supply), variables)


def _fine(variables: tuple[str, ...], supply: Supply) -> str:
    uses = "uses " + ", ".join("{" + v + "}" for v in variables) if variables else "no variables"
    if supply.kind == "keys":
        return f"{uses} · input keys: {', '.join(supply.keys)}"
    if supply.kind == "at_least":
        return f"{uses} · input keys include: {', '.join(supply.keys)}"
    if supply.kind == "value":
        return f"{uses} · input: one value from {supply.source}"
    return f"{uses} · input not known here: any variable is accepted"
