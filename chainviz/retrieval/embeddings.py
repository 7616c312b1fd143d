"""The :class:`Embeddings` protocol: texts in, vectors out.

Anything with these four methods works as an embedding for the vector store,
LangChain-style embedding objects included. Vectors are plain lists of floats
so that any implementation fits; the store turns them into one float32 matrix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from chainviz.core.run import Step

__all__ = [
    "Embeddings",
    "aembed_documents",
    "aembed_query",
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
