"""The :class:`Embeddings` protocol: texts in, vectors out.

Anything with these four methods works as an embedding for the vector store,
LangChain-style embedding objects included. Vectors are plain lists of floats
so that any implementation fits; the store turns them into one float32 matrix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from chainviz.core.run import Step
from chainviz.errors import RetrievalError

__all__ = [
    "Embeddings",
    "aembed_documents",
    "aembed_query",
    "check_query",
    "check_texts",
    "current_step",
    "running_in",
]

# The retriever step whose search is embedding a query, so that an embedding that
# waits (a remote one retrying) can wait on its cancel token and name it in errors.
_running_step: ContextVar[Step | None] = ContextVar("chainviz_retrieval_step", default=None)


def current_step() -> Step | None:
    """The step of the retriever running in this thread or task, if any."""
    return _running_step.get()


@contextmanager
def running_in(step: Step) -> Iterator[None]:
    """Make ``step`` the :func:`current_step` inside the block."""
    token = _running_step.set(step)
    try:
        yield
    finally:
        _running_step.reset(token)


@runtime_checkable
class Embeddings(Protocol):
    """Turns texts into vectors: documents when indexing, a query when searching."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector of one search query."""
        ...

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """The async twin of :meth:`embed_documents`."""
        ...

    async def aembed_query(self, text: str) -> list[float]:
        """The async twin of :meth:`embed_query`."""
        ...


def check_texts(texts: Any, where: str) -> list[str]:
    """``texts`` as a list of strings, or a :class:`RetrievalError` naming the bad item."""
    if isinstance(texts, str):
        raise RetrievalError(
            f"{where} expects a list of strings, but a single string was given; "
            f"wrap it in a list: [{texts!r:.40}]."
        )
    if not isinstance(texts, Sequence):
        try:
            texts = list(texts)
        except TypeError:
            raise RetrievalError(
                f"{where} expects a list of strings, but a {type(texts).__name__} was given."
            ) from None
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise RetrievalError(
                f"{where} expects a list of strings, but item {index} is a "
                f"{type(text).__name__} ({text!r:.40})."
            )
    return list(texts)


def check_query(query: Any, where: str, *, node_id: str | None = None) -> str:
    """``query`` if it is a string, else a :class:`RetrievalError` saying what was given."""
    if not isinstance(query, str):
        hint = ""
        if isinstance(query, dict):
            hint = (
                " A dict usually means the retriever was given the whole chain input; "
                "pick the question out first, e.g. with operator.itemgetter('question')."
            )
        raise RetrievalError(
            f"{where} expects the query as a string, but a {type(query).__name__} "
            f"({query!r:.60}) was given.{hint}",
            node_id=node_id,
        )
    return query


async def aembed_documents(embedding: Any, texts: list[str]) -> list[list[float]]:
    """Embed asynchronously; an object with only the sync method runs on a thread."""
    method = getattr(embedding, "aembed_documents", None)
    if method is not None:
        return await method(texts)  # type: ignore[no-any-return]
    return await asyncio.to_thread(embedding.embed_documents, texts)


async def aembed_query(embedding: Any, text: str) -> list[float]:
    """The query twin of :func:`aembed_documents`."""
    method = getattr(embedding, "aembed_query", None)
    if method is not None:
        return await method(text)  # type: ignore[no-any-return]
    return await asyncio.to_thread(embedding.embed_query, text)
