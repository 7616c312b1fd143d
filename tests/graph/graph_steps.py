"""Tiny runnables of each kind, a fake trace, and the chains the graph tests draw."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnablePassthrough
from chainviz.core.run import Step


class FakePrompt(Runnable[Any, str]):
    kind = "prompt"

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def _call(self, input: Any, step: Step) -> str:
        return f"prompt({input})"


class FakeModel(Runnable[Any, str]):
    kind = "model"

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def _call(self, input: Any, step: Step) -> str:
        return f"answer to {input}"


class FakeParser(Runnable[Any, str]):
    kind = "parser"

    def _call(self, input: Any, step: Step) -> str:
        return str(input)


class FakeRetriever(Runnable[Any, list[str]]):
    kind = "retriever"

    def _call(self, input: Any, step: Step) -> list[str]:
        return ["doc"]


def joke_poem() -> Runnable[Any, Any]:
    """``RunnableParallel(joke=p | m, poem=p | m)``: one prompt and model shared."""
    prompt, model = FakePrompt(), FakeModel()
    return RunnableParallel(joke=prompt | model, poem=prompt | model)


def rag() -> Runnable[Any, Any]:
    """``{"context": retriever, "question": RunnablePassthrough()} | prompt | model | parser``."""
    return (
        {"context": FakeRetriever(), "question": RunnablePassthrough()}
        | FakePrompt()
        | FakeModel()
        | FakeParser()
    )


class FakeTrace:
    """The two methods a picture reads from a finished run."""

    def __init__(
        self, summaries: Mapping[str, Mapping[str, Any]], path: list[str] | None = None
    ) -> None:
        self.summaries = dict(summaries)
        self.path = list(path or [])

    def node_summaries(self) -> dict[str, Mapping[str, Any]]:
        return self.summaries

    def critical_path(self) -> list[str]:
        return self.path
