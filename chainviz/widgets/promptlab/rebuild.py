"""A copy of a chain with the prompt at a node id replaced, and the lab's alternatives.

:func:`replace_prompt` rebuilds only the path from the root to the prompt (every
other step is shared with the original chain, which is never changed): a sequence
with one step swapped, a parallel or an assign with one branch swapped, a wrapper
(retry, fallbacks, bound config, alternatives) around a new inner step. So node
ids do not change.

:func:`with_alternatives` puts a :class:`ConfigurableAlternatives` at each prompt:
its field id is ``prompt:<node id>``, its default is the current choice, and every
other alternative is there too, so ``config={"configurable": {"prompt:joke/0":
"short"}}`` picks one from Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chainviz.core import ids
from chainviz.core.base import Runnable
from chainviz.core.configurable import ConfigurableAlternatives, ConfigurableField
from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnableAssign
from chainviz.core.sequence import RunnableSequence
from chainviz.core.wrappers import _Wrapper
from chainviz.errors import CompositionError, describe_node
from chainviz.prompts import BasePromptTemplate
from chainviz.widgets.promptlab.sites import config_id

__all__ = ["alternatives_at", "replace_prompt", "with_alternatives"]

Swap = Callable[[Runnable[Any, Any]], Runnable[Any, Any]]


def replace_prompt(chain: Runnable[Any, Any], node_id: str, swap: Swap) -> Runnable[Any, Any]:
    """``chain`` with the prompt at ``node_id`` (or the lab's alternatives wrapping it)
    replaced by ``swap(prompt)``; the original chain is left as it was."""
    parts = node_id.split("/") if node_id else []
    return _replace(chain, parts, node_id, swap)


def _is_site(runnable: Runnable[Any, Any], node_id: str) -> bool:
    if isinstance(runnable, ConfigurableAlternatives):
        return runnable.which.id == config_id(node_id)
    return isinstance(runnable, BasePromptTemplate)


def _replace(
    runnable: Runnable[Any, Any], parts: list[str], node_id: str, swap: Swap
) -> Runnable[Any, Any]:
    if not parts and _is_site(runnable, node_id):
        return swap(runnable)
    if isinstance(runnable, _Wrapper):
        inner = _replace(runnable.bound, parts, node_id, swap)
        return runnable.with_replaced(bound=inner)
    if not parts:
        raise CompositionError(
            f"There is no prompt at {describe_node(node_id)}: it is a "
            f"{type(runnable).__name__}.",
            node_id=node_id,
        )
    part, rest = parts[0], parts[1:]
    for key, child in runnable.children():
        if key == part:
            return _with_child(runnable, part, _replace(child, rest, node_id, swap), node_id)
    raise CompositionError(
        f"There is no step at {describe_node(node_id)}: {type(runnable).__name__} has no "
        f"child {ids.unescape_key(part)!r}.",
        node_id=node_id,
    )


def _with_child(
    composite: Runnable[Any, Any], part: str, child: Runnable[Any, Any], node_id: str
) -> Runnable[Any, Any]:
    if isinstance(composite, RunnableSequence):
        steps = list(composite.steps)
        steps[int(part)] = child
        return composite.with_replaced(steps=steps)
    if isinstance(composite, (RunnableParallel, RunnableAssign)):
        mapper = composite.mapper if isinstance(composite, RunnableAssign) else composite
        branches = mapper.branches
        branches[ids.unescape_key(part)] = child
        parallel = RunnableParallel(branches)
        return RunnableAssign(parallel) if isinstance(composite, RunnableAssign) else parallel
    raise CompositionError(
        f"The prompt lab cannot swap the prompt at {describe_node(node_id)}: it sits in a "
        f"{type(composite).__name__}, which it does not know how to rebuild.",
        node_id=node_id,
    )


def alternatives_at(
    node_id: str,
    current: str,
    prompts: Mapping[str, Runnable[Any, Any]],
) -> ConfigurableAlternatives:
    """The lab's wrapper for one prompt: ``prompts[current]`` by default, any other
    by ``configurable["prompt:<node id>"]``."""
    field = ConfigurableField(
        id=config_id(node_id),
        name=f"prompt {node_id}",
        description=f"Which version of the prompt at {describe_node(node_id)} runs.",
    )
    others = {name: prompt for name, prompt in prompts.items() if name != current}
    return ConfigurableAlternatives(
        prompts[current], field, default_key=current, alternatives=others
    )


def with_alternatives(
    chain: Runnable[Any, Any],
    choices: Mapping[str, tuple[str, Mapping[str, Runnable[Any, Any]]]],
) -> Runnable[Any, Any]:
    """``chain`` with each prompt wrapped: ``choices[node_id] = (current, {name: prompt})``."""
    for node_id, (current, prompts) in choices.items():
        chain = replace_prompt(chain, node_id, _always(alternatives_at(node_id, current, prompts)))
    return chain


def _always(new: Runnable[Any, Any]) -> Swap:
    return lambda _old: new
