"""Turning what people write into runnables, as LangChain does.

A runnable is used as is; a dict becomes a :class:`RunnableParallel`; a generator
function becomes a streaming step; any other callable (``operator.itemgetter``
included) becomes a :class:`RunnableLambda`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from chainviz.core.base import Runnable
from chainviz.errors import CompositionError

__all__ = ["coerce_to_runnable", "reject_langchain"]


def coerce_to_runnable(thing: Any, *, where: str = "a chain") -> Runnable[Any, Any]:
    """The runnable ``thing`` stands for, or a :class:`CompositionError` saying why not."""
    if isinstance(thing, Runnable):
        return thing
    reject_langchain(thing, where)
    if isinstance(thing, Mapping):
        from chainviz.core.parallel import RunnableParallel

        return RunnableParallel(thing)
    if inspect.isgeneratorfunction(thing) or inspect.isasyncgenfunction(thing):
        from chainviz.core.lambdas import RunnableGenerator

        return RunnableGenerator(thing)
    if callable(thing):
        from chainviz.core.lambdas import RunnableLambda

        return RunnableLambda(thing)
    raise CompositionError(
        f"Cannot use a {type(thing).__name__} ({thing!r:.60}) as a step of {where}. "
        "Expected a runnable, a dict of runnables (run in parallel) or a callable."
    )


def reject_langchain(thing: Any, where: str) -> None:
    module = type(thing).__module__ or ""
    if module.startswith("langchain"):
        raise CompositionError(
            f"A LangChain object ({type(thing).__name__} from {module}) was used as a step of "
            f"{where}. chainviz runs its own runnables: import the same name from chainviz "
            "instead (e.g. `from chainviz.prompts import ChatPromptTemplate`, "
            "`from chainviz.models import ChatOpenAI`), or wrap a plain function with "
            "chainviz.RunnableLambda."
        )
